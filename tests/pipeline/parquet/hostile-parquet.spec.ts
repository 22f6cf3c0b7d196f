import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildDataset, readFates } from "../../../pipeline/orchestrator/build-dataset.js";
import { checkParquetBounds, MAX_PAGE_BYTES } from "../../../pipeline/parquet/check-parquet-bounds.js";
import { writeParquet } from "../../../pipeline/parquet/parquet-writer.js";
import { readParquetRows } from "../../../pipeline/parquet/read-parquet-rows.js";
import { CompactReader, int, list, struct, type ThriftStruct } from "../../../pipeline/parquet/thrift-compact.js";
import { arrowSchema, COLUMNS } from "../../../schemas/arrow.js";
import { demoWorld, tempDir } from "../../support/stage-harness.js";

const soar = (code: string, task = "a1b2c3d4") => ({
  code,
  correct_train_input: [false],
  predicted_train_output: [[[1]]],
  correct_test_input: [false],
  predicted_test_output: [[[1]]],
  task_id: task,
  model: "m",
  generation: 0,
});
const MIRROR = "def transform(g):\n    return [row[::-1] for row in g]";

async function soarFile(dir: string, name: string, rows: Record<string, unknown>[]): Promise<string> {
  const path = join(dir, name);
  await writeParquet({ path, schema: arrowSchema("soar"), kinds: COLUMNS.soar.map(([, kind]) => kind), rows });
  return path;
}

/** A varint of `length` bytes (non-minimal when it must be) for a zigzag-encoded value. */
function varintOfLength(value: number, length: number): number[] {
  let n = value * 2;
  const out: number[] = [];
  for (let i = 0; i < length; i++) {
    out.push((n & 0x7f) | (i < length - 1 ? 0x80 : 0));
    n = Math.floor(n / 128);
  }
  return out;
}

/** Rewrites, in place, the `code` column's declared sizes (footer and first page header) to `claimed`. */
function understate(path: string, claimed: number): void {
  const bytes = new Uint8Array(readFileSync(path));
  const footerLength = new DataView(bytes.buffer).getUint32(bytes.length - 8, true);
  const footerStart = bytes.length - 8 - footerLength;
  const footer = new CompactReader(bytes, footerStart).struct();
  for (const group of list(footer, 4)) {
    for (const chunk of list(group as ThriftStruct, 1)) {
      const meta = struct(chunk as ThriftStruct, 3)!;
      if (new TextDecoder().decode(list(meta, 3)[0] as Uint8Array) !== "code") continue;
      const total = meta.spans.get(6)!;
      bytes.set(varintOfLength(claimed, total.length), total.offset);
      const pageAt = int(meta, 11) || int(meta, 9)!;
      const page = new CompactReader(bytes, pageAt).struct();
      const declared = page.spans.get(2)!;
      bytes.set(varintOfLength(claimed, declared.length), declared.offset);
    }
  }
  writeFileSync(path, bytes);
}

describe("Parquet files whose sizes a decoder must not trust", () => {
  it("refuses a tiny file holding one string over the page cap, naming it, and the build goes on", async () => {
    const dir = await tempDir("arcforge-hostile-");
    const path = await soarFile(dir, "train.parquet", [soar(MIRROR), soar("x".repeat(MAX_PAGE_BYTES + 2 ** 20))]);
    expect(readFileSync(path).length).toBeLessThan(200_000);
    await expect(checkParquetBounds({ blob: new Blob([readFileSync(path)]), name: "bomb.parquet" })).rejects.toThrow(
      /bomb\.parquet is refused before decoding: row group \d+, column 0, page \d+ decompresses to \d+ bytes, over the 67108864-byte page cap/,
    );
    const { options } = await demoWorld();
    const manifest = await buildDataset({ options: { ...options, from: [path] }, cacheDir: await tempDir() });
    expect(manifest.datasets[0]!.refused).toEqual([{ shard: path, reason: expect.stringMatching(/over the 67108864-byte page cap/) }]);
    expect(manifest.outputs[0]!.rows).toBeGreaterThan(0);
    expect(manifest.attempts.adds_up).toBe(true);
  });

  it("refuses a zstd page that decompresses past what its footer and header declare, stopping at the declared size", async () => {
    const dir = await tempDir("arcforge-hostile-");
    const path = await soarFile(dir, "train.parquet", [soar(`${MIRROR}\n#${"0".repeat(20 * 2 ** 20)}`)]);
    understate(path, 4096);
    const rows = readParquetRows({ path });
    await expect(rows.next()).rejects.toThrow(
      /train\.parquet is refused before decoding: row group 0, column 0, page 0 decompresses past the \d+ bytes its header declares/,
    );
  });

  it("reads an honest file exactly as before, and with a row limit checks only the row groups it reads", async () => {
    const dir = await tempDir("arcforge-honest-");
    const path = await soarFile(
      dir,
      "train.parquet",
      Array.from({ length: 5000 }, (_, k) => soar(`${MIRROR}  # ${k}`)),
    );
    const bounds = await checkParquetBounds({ blob: new Blob([readFileSync(path)]), name: path, rowLimit: 10 });
    expect(bounds.rowGroups).toEqual([0]);
    const all = [];
    for await (const row of readParquetRows({ path })) all.push(row);
    expect(all).toHaveLength(5000);
    expect(all[4999]).toEqual(soar(`${MIRROR}  # 4999`));
  });
});

describe("a build from a refused file", () => {
  it("writes its fates with no row of it", async () => {
    const dir = await tempDir("arcforge-hostile-");
    const path = await soarFile(dir, "train.parquet", [soar("x".repeat(MAX_PAGE_BYTES + 1))]);
    const { options } = await demoWorld();
    await buildDataset({ options: { ...options, from: [path] }, cacheDir: await tempDir() });
    expect(readFates(options.out).filter((f) => f.attempt_id.startsWith(path))).toEqual([]);
  });
});
