import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildDataset, readFates } from "../../../pipeline/orchestrator/build-dataset.js";
import { readParquetRows } from "../../../pipeline/parquet/read-parquet-rows.js";
import { tempDir } from "../../support/stage-harness.js";
import { MIRROR, tinyWorld } from "../../support/tiny-world.js";

const PROGRAMS = [
  "def transform(g):\n    return [row[::-1] for row in g]",
  "def transform(g):\n    return [list(reversed(row)) for row in g]",
  "def transform(g):\n    return g",
  "def transform(g):\n    return [[row[0]] * len(row) for row in g]",
];

async function rows(out: string) {
  const found = [];
  for await (const row of readParquetRows({ path: join(out, "data", "train-00000-of-00001.parquet") })) found.push(row);
  return found;
}

describe("a build cut by a recipe", () => {
  it("writes the rows one SELECT chose, in its rank order, and a rebuild after editing the recipe executes nothing", async () => {
    const { dir, options } = await tinyWorld({
      tasks: { aaaaaaaa: MIRROR },
      programs: PROGRAMS.map((code, k) => ({ task: "aaaaaaaa", code, time: `2025090${k + 1}_000000` })),
    });
    const recipe = join(dir, "mine.sql");
    writeFileSync(
      recipe,
      "-- the two shortest programs that solve the test\nSELECT row_id, row_number() OVER (ORDER BY code_length) AS rank FROM programs WHERE all_test_correct QUALIFY rank <= 2\n",
    );
    const cacheDir = await tempDir();
    const first = await buildDataset({
      options: { ...options, recipe: { name: recipe, sql: (await import("node:fs")).readFileSync(recipe, "utf8") } },
      cacheDir,
    });
    expect((await rows(options.out)).map((r) => r.code)).toEqual([`${PROGRAMS[0]}\n`, `${PROGRAMS[1]}\n`]);
    expect(first.stages.find((s) => s.stage === "recipe")).toMatchObject({ ran: true, kept: 2, dropped: { recipe_excluded: 2 } });
    expect(readFates(options.out).filter((f) => f.fate === "recipe_excluded")).toHaveLength(2);

    const edited = "SELECT row_id FROM programs WHERE NOT all_test_correct\n";
    const again = await buildDataset({ options: { ...options, out: join(dir, "again"), recipe: { name: recipe, sql: edited } }, cacheDir });
    for (const stage of ["execute", "revalidate", "clean-code"]) expect(again.stages.find((s) => s.stage === stage)!.tasks).toEqual({ ran: 0, total: 1 });
    expect(again.stages.find((s) => s.stage === "recipe")).toMatchObject({ ran: true, reason: expect.stringContaining("cached program table") });
    const kept = (await rows(join(dir, "again"))).map((r) => r.code);
    expect(kept.sort()).toEqual([`${PROGRAMS[2]}\n`, `${PROGRAMS[3]}\n`].sort());
  });
});
