import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildDataset, readFates } from "../../pipeline/orchestrator/build-dataset.js";
import { readParquetRows } from "../../pipeline/parquet/read-parquet-rows.js";
import { DEFAULT_BUILD_OPTIONS, type BuildOptions } from "../../schemas/build-options.js";
import { rowId } from "../../schemas/program-identity.js";
import { tempDir } from "../support/stage-harness.js";

const SHARED = process.env.ARCFORGE_SHARED ?? join(process.cwd(), "..", "shared");

describe.skipIf(!existsSync(join(SHARED, "run-logs")))("the program table of ../shared/run-logs", () => {
  let table: Record<string, unknown>[];
  let tableFates: ReturnType<typeof readFates>;
  let defaultFates: ReturnType<typeof readFates>;

  beforeAll(async () => {
    const dir = await tempDir("arcforge-real-table-");
    const cacheDir = join(dir, "cache");
    const base: BuildOptions = { ...DEFAULT_BUILD_OPTIONS, logs: [join(SHARED, "run-logs")], tasks: join(SHARED, "arc-data"), out: join(dir, "default") };
    await buildDataset({ options: base, cacheDir });
    defaultFates = readFates(base.out);
    const programs = { ...base, format: "programs" as const, out: join(dir, "programs") };
    await buildDataset({ options: programs, cacheDir });
    tableFates = readFates(programs.out);
    table = [];
    for await (const row of readParquetRows({ path: join(programs.out, "data", "train-00000-of-00001.parquet") })) table.push(row);
  }, 600_000);

  it("has one row per distinct (dataset, task, cleaned code), each named by its row_id", () => {
    const keys = table.map((r) => JSON.stringify([r.dataset, r.task_id, r.code]));
    expect(new Set(keys).size).toBe(table.length);
    for (const r of table) expect(r.row_id).toBe(rowId({ dataset: r.dataset as string, taskId: r.task_id as string, code: r.code as string }));
  });

  it("accounts for exactly the programs that passed every per-program check, counted from the fates", () => {
    const kept = tableFates.filter((f) => f.fate === "kept:train");
    const copies = tableFates.filter((f) => f.fate === "copy");
    expect(table).toHaveLength(kept.length);
    expect(new Set(table.map((r) => r.attempt_id))).toEqual(new Set(kept.map((f) => f.attempt_id)));
    expect(table.reduce((n, r) => n + (r.copies as number), 0)).toBe(kept.length + copies.length);
    // The default build's fates, independently: what reached dedup is what the table holds.
    const reachedDedup = defaultFates.filter((f) => f.fate.startsWith("kept:") || f.fate === "duplicate_code" || f.fate === "duplicate_behaviour");
    expect(kept.length + copies.length).toBe(reachedDedup.length);
    expect(table.length).toBeGreaterThan(1000);
  });
});
