import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ParquetError } from "../../../pipeline/common/errors.js";
import { ParquetEncoder } from "../../../pipeline/parquet/parquet-encoder.js";
import { startParquet, writeParquet } from "../../../pipeline/parquet/parquet-writer.js";
import { readParquetRows } from "../../../pipeline/parquet/read-parquet-rows.js";
import { arrowSchema, COLUMNS } from "../../../schemas/arrow.js";
import { tempDir } from "../../support/stage-harness.js";

const KINDS = COLUMNS.soar.map(([, kind]) => kind);
async function readBack(path: string): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for await (const r of readParquetRows({ path })) rows.push(r as Record<string, unknown>);
  return rows;
}

const row = (i: number) => ({
  code: `def transform(g):\n    return ${i}`,
  correct_train_input: [i % 2 === 0],
  predicted_train_output: [
    [
      [i % 10, 1],
      [2, 3],
    ],
  ],
  correct_test_input: [false],
  predicted_test_output: [[[i % 10]]],
  task_id: `t${i % 7}`,
  model: "m",
  generation: i,
});

describe("Parquet files encoded in their own thread", () => {
  it("writes several files through one encoder at once, each the same bytes as a file written alone", async () => {
    const dir = await tempDir();
    const rows = Array.from({ length: 50 }, (_, i) => row(i));
    await writeParquet({ path: join(dir, "alone.parquet"), schema: arrowSchema("soar"), kinds: KINDS, rows, rowGroupRows: 7 });
    const encoder = new ParquetEncoder();
    try {
      // Both handed over before either is complete: the second is fed while the first is compressed.
      const first = await startParquet({ path: join(dir, "a.parquet"), schema: arrowSchema("soar"), kinds: KINDS, rows, rowGroupRows: 7, encoder });
      const second = await startParquet({ path: join(dir, "b.parquet"), schema: arrowSchema("soar"), kinds: KINDS, rows, rowGroupRows: 7, encoder });
      await Promise.all([first.finished, second.finished]);
      expect([first.rows, second.rows]).toEqual([50, 50]);
    } finally {
      await encoder.close();
    }
    const alone = readFileSync(join(dir, "alone.parquet"));
    expect(readFileSync(join(dir, "a.parquet")).equals(alone)).toBe(true);
    expect(readFileSync(join(dir, "b.parquet")).equals(alone)).toBe(true);
    const back = await readBack(join(dir, "a.parquet"));
    expect(back.map((r) => r.generation)).toEqual(rows.map((r) => r.generation));
  });

  it("fails a file it cannot write with a ParquetError naming it, and goes on with the next", async () => {
    const dir = await tempDir();
    const encoder = new ParquetEncoder();
    try {
      const missing = join(dir, "no-such-folder", "x.parquet");
      const bad = await startParquet({ path: missing, schema: arrowSchema("soar"), kinds: KINDS, rows: [row(1)], encoder });
      await expect(bad.finished).rejects.toThrow(ParquetError);
      await expect(bad.finished).rejects.toThrow(missing);
      const good = await startParquet({ path: join(dir, "ok.parquet"), schema: arrowSchema("soar"), kinds: KINDS, rows: [row(2)], encoder });
      await good.finished;
      expect((await readBack(join(dir, "ok.parquet"))).length).toBe(1);
    } finally {
      await encoder.close();
    }
  });

  it("fails the files still being written when it is closed, and refuses new ones", async () => {
    const dir = await tempDir();
    const encoder = new ParquetEncoder();
    const file = encoder.file({ path: join(dir, "x.parquet"), rowGroupRows: 10 });
    await encoder.close();
    await expect(file.end()).rejects.toThrow(/closed before the file was complete/);
    await expect(encoder.file({ path: join(dir, "y.parquet"), rowGroupRows: 10 }).end()).rejects.toThrow(ParquetError);
  });

  it("gives up a file whose rows cannot be read, raising their error, and goes on with the next", async () => {
    const dir = await tempDir();
    function* failing() {
      yield row(1);
      throw new Error("row 2 is unreadable");
    }
    const encoder = new ParquetEncoder();
    try {
      await expect(
        startParquet({ path: join(dir, "x.parquet"), schema: arrowSchema("soar"), kinds: KINDS, rows: failing(), rowGroupRows: 1, encoder }),
      ).rejects.toThrow("row 2 is unreadable");
      await writeParquet({ path: join(dir, "y.parquet"), schema: arrowSchema("soar"), kinds: KINDS, rows: [row(3)], encoder });
      expect((await readBack(join(dir, "y.parquet"))).map((r) => r.generation)).toEqual([3]);
    } finally {
      await encoder.close();
    }
  });

  it("keeps no process alive once its files are complete or given up, though never closed", () => {
    const writer = join(process.cwd(), "dist", "pipeline", "parquet", "parquet-writer.js");
    const arrow = join(process.cwd(), "dist", "schemas", "arrow.js");
    const dir = join(tmpdir(), `arcforge-encoder-${process.pid}`);
    const script = `
      const { writeParquet } = await import(${JSON.stringify(writer)});
      const { arrowSchema, COLUMNS } = await import(${JSON.stringify(arrow)});
      const { mkdirSync } = await import("node:fs");
      mkdirSync(${JSON.stringify(dir)}, { recursive: true });
      const params = { schema: arrowSchema("soar"), kinds: COLUMNS.soar.map(([, k]) => k), rowGroupRows: 1 };
      const row = ${JSON.stringify(row(5))};
      await writeParquet({ ...params, path: ${JSON.stringify(join(dir, "a.parquet"))}, rows: [row, row] });
      function* failing() { yield row; throw new Error("unreadable"); }
      await writeParquet({ ...params, path: ${JSON.stringify(join(dir, "b.parquet"))}, rows: failing() }).catch(() => console.log("given up"));
      console.log("left");`;
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 });
    expect(result.stderr).toBe("");
    expect(result.stdout.trim().split("\n")).toEqual(["given up", "left"]);
    expect(result.status).toBe(0);
  });
});
