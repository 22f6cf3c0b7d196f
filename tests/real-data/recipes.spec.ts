import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { buildDataset } from "../../pipeline/orchestrator/build-dataset.js";
import { resolveRecipe } from "../../pipeline/recipe/builtin-recipes.js";
import { readParquetRows } from "../../pipeline/parquet/read-parquet-rows.js";
import { DEFAULT_BUILD_OPTIONS, type BuildOptions } from "../../schemas/build-options.js";
import { requireTestPython } from "../support/python.js";
import { tempDir } from "../support/stage-harness.js";

const run = promisify(execFile);
const SHARED = process.env.ARCFORGE_SHARED ?? join(process.cwd(), "..", "shared");

describe.skipIf(!existsSync(join(SHARED, "run-logs")))("partial-100 on ../shared/run-logs", () => {
  it("chooses exactly the rows the users' rules, written again in Python over the program table, choose", async () => {
    const dir = await tempDir("arcforge-real-recipe-");
    const cacheDir = join(dir, "cache");
    const base: BuildOptions = {
      ...DEFAULT_BUILD_OPTIONS,
      logs: [join(SHARED, "run-logs")],
      tasks: join(SHARED, "arc-data"),
      out: join(dir, "table"),
      format: "programs",
    };
    await buildDataset({ options: base, cacheDir });
    const cut = { ...base, out: join(dir, "cut"), recipe: resolveRecipe("partial-100") };
    await buildDataset({ options: cut, cacheDir });
    const ours: string[] = [];
    for await (const row of readParquetRows({ path: join(cut.out, "data", "train-00000-of-00001.parquet") })) ours.push(row.row_id as string);
    const { stdout } = await run(
      requireTestPython(),
      [join(process.cwd(), "tests", "support", "partial_100.py"), join(base.out, "data", "train-00000-of-00001.parquet"), base.tasks!],
      { maxBuffer: 1 << 28 },
    );
    expect(ours.sort()).toEqual(JSON.parse(stdout));
    expect(ours.length).toBeGreaterThan(300);
  }, 600_000);
});
