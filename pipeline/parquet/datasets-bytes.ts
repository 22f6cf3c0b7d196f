import type { ColumnKind } from "../../schemas/arrow.js";

const bits = (n: number) => Math.ceil(n / 8);
const utf8 = (value: unknown) => (typeof value === "string" ? Buffer.byteLength(value) : 0);

/**
 * One batch of one column as pyarrow's `nbytes` counts it once `datasets` has read it back: 4 bytes
 * of offsets per list or string value (pyarrow counts `length`, not `length + 1`), 8 per int64, a
 * bit per bool, a validity bit per value where there is a bitmap. Arrow's Parquet reader keeps an
 * int64's bitmap even without nulls (`readerBitmaps`) and drops every other one unless a value is
 * null; concatenated tables and the JSON reader keep a bitmap only where a value is null. Measured
 * with pyarrow 25 and checked against `datasets` in the specs.
 */
function columnBytes(kind: ColumnKind, values: unknown[], readerBitmaps: boolean): number {
  const n = values.length;
  const nulls = values.some((v) => v === null || v === undefined);
  switch (kind) {
    case "string":
    case "string?":
      return 4 * n + values.reduce<number>((sum, v) => sum + utf8(v), 0) + (nulls ? bits(n) : 0);
    case "int":
    case "int?":
      return 8 * n + (readerBitmaps || nulls ? bits(n) : 0);
    case "bool":
    case "bool?":
      return bits(n) + (nulls ? bits(n) : 0);
    case "strings": {
      const items = values.flatMap((v) => (Array.isArray(v) ? v : []));
      return 4 * n + 4 * items.length + items.reduce<number>((sum, v) => sum + utf8(v), 0);
    }
    case "bools":
      return 4 * n + bits(values.reduce<number>((sum, v) => sum + (Array.isArray(v) ? v.length : 0), 0));
    case "grids": {
      let grids = 0;
      let rows = 0;
      let cells = 0;
      for (const value of values as number[][][][]) {
        grids += value.length;
        for (const grid of value) {
          rows += grid.length;
          for (const row of grid) cells += row.length;
        }
      }
      return 4 * n + 4 * grids + 4 * rows + 8 * cells + (readerBitmaps ? bits(cells) : 0);
    }
    case "messages": {
      let total = 4 * n;
      for (const value of values as { role: string; content: string }[][]) for (const message of value) total += 8 + utf8(message.role) + utf8(message.content);
      return total;
    }
  }
}

/** What `datasets` adds to a split's `num_bytes` for one table it writes: every column's bytes. */
function tableBytes(columns: [string, ColumnKind][], rows: Record<string, unknown>[], readerBitmaps: boolean): number {
  let total = 0;
  for (const [name, kind] of columns)
    total += columnBytes(
      kind,
      rows.map((row) => row[name]),
      readerBitmaps,
    );
  return total;
}

/** `datasets`' default `writer_batch_size`: how many one-row tables it gathers before writing them as one. */
const WRITER_BATCH_SIZE = 1000;

/**
 * A split's `num_bytes` as `datasets` computes it, fed the tables it reads in order (for Parquet,
 * each row group of each file). A one-row table is held back and written with the one-row tables
 * after it (up to 1000) as one table, so its bytes depend on its neighbours.
 */
export class DatasetsByteCount {
  private pending: Record<string, unknown>[] = [];
  private counted = 0;

  constructor(private readonly columns: [string, ColumnKind][]) {}

  addTable(rows: Record<string, unknown>[]): void {
    if (rows.length === 0) return;
    if (rows.length === 1) {
      this.pending.push(rows[0]!);
      if (this.pending.length >= WRITER_BATCH_SIZE) this.flush();
      return;
    }
    this.flush();
    this.counted += tableBytes(this.columns, rows, true);
  }

  /** The end of the split: held rows are written, concatenated (one row alone is the reader's table). */
  flush(): void {
    if (this.pending.length > 0) this.counted += tableBytes(this.columns, this.pending, this.pending.length === 1);
    this.pending = [];
  }

  /** Bytes counted since the last call: a file's share, summed over the split's files to its `num_bytes`. */
  take(): number {
    const taken = this.counted;
    this.counted = 0;
    return taken;
  }
}
