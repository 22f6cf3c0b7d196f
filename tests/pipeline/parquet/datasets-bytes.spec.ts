import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { writeJsonLinesSync } from "../../../pipeline/common/json-lines.js";
import { DatasetsByteCount } from "../../../pipeline/parquet/datasets-bytes.js";
import { writeParquet } from "../../../pipeline/parquet/parquet-writer.js";
import { arrowSchema, type ColumnKind, COLUMNS } from "../../../schemas/arrow.js";
import { requireTestPython } from "../../support/python.js";
import { tempDir } from "../../support/stage-harness.js";

const run = promisify(execFile);

/** A small seeded generator: the same rows every run, with nulls, empty lists and multi-byte text. */
function random(seed: number) {
  let state = seed;
  return (n: number) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % n;
  };
}

function value(kind: ColumnKind, pick: (n: number) => number, big: boolean): unknown {
  const text = () => "ab€ü\n".repeat(pick(40));
  const grid = () => {
    const side = big ? 30 : pick(6);
    return Array.from({ length: side }, () => Array.from({ length: side }, () => pick(10)));
  };
  switch (kind) {
    case "string":
      return text();
    case "string?":
      return pick(3) === 0 ? null : text();
    case "int":
      return pick(1000);
    case "int?":
      return pick(3) === 0 ? null : pick(1000);
    case "bool":
      return pick(2) === 0;
    case "bool?":
      return pick(3) === 0 ? null : pick(2) === 0;
    case "strings":
      return Array.from({ length: pick(4) }, text);
    case "bools":
      return Array.from({ length: pick(5) }, () => pick(2) === 0);
    case "grids":
      return Array.from({ length: big ? 10 : pick(4) }, grid);
    case "messages":
      return Array.from({ length: 1 + pick(3) }, () => ({ role: ["system", "user", "assistant"][pick(3)], content: text() }));
  }
}

/** `count` rows, those in `big` holding ten 30x30 grids per grid column. */
const rowsOf = (columns: [string, ColumnKind][], count: number, big: [number, number] = [0, 0]) => {
  const pick = random(7);
  return Array.from({ length: count }, (_, i) => Object.fromEntries(columns.map(([name, kind]) => [name, value(kind, pick, i >= big[0] && i < big[1])])));
};

async function datasetsSaw(builder: "parquet" | "json", file: string, cache: string) {
  const { stdout } = await run(requireTestPython(), [join("tests", "support", "datasets_num_bytes.py"), builder, cache, file], { maxBuffer: 1 << 26 });
  return JSON.parse(stdout) as { num_examples: number; num_bytes: number; row_groups: [number, number][] };
}

describe("num_bytes as datasets computes it, and row groups cut by size", () => {
  it("equals what datasets records for every column kind, over row groups of different sizes and runs of one-row groups", async () => {
    const dir = await tempDir();
    for (const format of ["programs", "refinement", "messages"] as const) {
      const columns = COLUMNS[format];
      // Large rows in the middle: groups of every size, none larger than the first.
      const rows = rowsOf(columns, 700, [300, 312]);
      const path = join(dir, `${format}.parquet`);
      const limit = format === "messages" ? 50_000 : 300_000;
      const byteCount = new DatasetsByteCount(columns);
      await writeParquet({ path, schema: arrowSchema(format), kinds: columns.map(([, k]) => k), rows, rowGroupBytes: limit, byteCount });
      byteCount.flush();
      const saw = await datasetsSaw("parquet", path, join(dir, "cache"));
      expect(saw.num_examples).toBe(700);
      expect(byteCount.take(), format).toBe(saw.num_bytes);
      expect(saw.row_groups.length).toBeGreaterThan(2);
      const sizes = new Set(saw.row_groups.map(([n]) => n));
      if (format !== "messages") expect(sizes.size).toBeGreaterThan(2);
      for (const [n, uncompressed] of saw.row_groups) {
        expect(uncompressed).toBeLessThanOrEqual(limit);
        expect(n).toBeLessThanOrEqual(saw.row_groups[0]![0]);
      }
    }
  });

  it("equals what datasets records for a chat JSONL file, counted row by row", async () => {
    const dir = await tempDir();
    const rows = rowsOf([["messages", "messages"]], 500);
    const path = join(dir, "train.jsonl");
    writeJsonLinesSync(path, rows);
    const byteCount = new DatasetsByteCount([["messages", "messages"]]);
    for (const row of rows) byteCount.addTable([row]);
    byteCount.flush();
    const saw = await datasetsSaw("json", path, join(dir, "cache"));
    expect(byteCount.take()).toBe(saw.num_bytes);
  });

  it("keeps 2000-row groups when rows are small, puts a row larger than the limit in a group alone, and counts both", async () => {
    const dir = await tempDir();
    const columns = COLUMNS.soar;
    const kinds = columns.map(([, k]) => k);
    const cases = [
      { name: "small", rows: rowsOf(columns, 4001), groups: [2000, 2000, 1] },
      { name: "huge", rows: rowsOf(columns, 5, [0, 5]), rowGroupBytes: 1000, groups: [1, 1, 1, 1, 1] },
    ];
    for (const { name, rows, rowGroupBytes, groups } of cases) {
      const path = join(dir, `${name}.parquet`);
      const byteCount = new DatasetsByteCount(columns);
      await writeParquet({ path, schema: arrowSchema("soar"), kinds, rows, rowGroupBytes, byteCount });
      byteCount.flush();
      const saw = await datasetsSaw("parquet", path, join(dir, `cache-${name}`));
      expect(saw.row_groups.map(([n]) => n)).toEqual(groups);
      expect(byteCount.take(), name).toBe(saw.num_bytes);
    }
  });
});
