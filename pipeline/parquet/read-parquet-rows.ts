import { openAsBlob } from "node:fs";
import { tableFromIPC, type Table } from "apache-arrow";
import { ParquetFile, type RecordBatch } from "parquet-wasm";

/**
 * Arrow values as plain JSON-like values: vectors and typed arrays become arrays, 64-bit
 * integers become numbers, structs become objects. Works for list and large_list, string and
 * large_string alike.
 */
export function toPlain(value: unknown): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (typeof value === "bigint") return Number(value);
  if (typeof value !== "object") return value;
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number | bigint>, (v) => (typeof v === "bigint" ? Number(v) : v));
  if (Array.isArray(value)) return value.map(toPlain);
  const v = value as { toArray?: () => unknown; toJSON?: () => unknown; [Symbol.iterator]?: unknown };
  if (typeof v.toJSON === "function" && !(Symbol.iterator in v)) return toPlain(v.toJSON());
  if (Symbol.iterator in (value as object)) return Array.from(value as Iterable<unknown>, toPlain);
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, x]) => [k, toPlain(x)]));
}

/** What parquet-wasm reads from: a file's Blob, or a RangeBlob over HTTP (same shape). */
export interface BlobLike {
  readonly size: number;
  slice(start?: number, end?: number): { arrayBuffer(): Promise<ArrayBuffer> };
}

/**
 * Rows of a Parquet file (a path, or a Blob-like for remote files), a record batch at a time:
 * memory bounded by the batch, and with `limit` only the row groups that hold those rows are read.
 */
export async function* readParquetRows(params: { path?: string; blob?: BlobLike; batchSize?: number; limit?: number }): AsyncGenerator<Record<string, unknown>> {
  const blob = params.blob ?? (await openAsBlob(params.path!));
  const file = await ParquetFile.fromFile(blob as Blob);
  try {
    // With a limit, name the row groups that hold those rows: the reader would otherwise fetch the next one ahead.
    const rowGroups: number[] = [];
    if (params.limit !== undefined) {
      let rows = 0;
      for (const [index, group] of file.metadata().rowGroups().entries()) {
        if (rows >= params.limit) break;
        rowGroups.push(index);
        rows += group.numRows();
      }
      if (rowGroups.length === 0) return;
    }
    const stream = (await file.stream({ batchSize: params.batchSize ?? 1024, ...(params.limit !== undefined ? { limit: params.limit, rowGroups } : {}) })) as ReadableStream<RecordBatch>;
    let emitted = 0;
    for await (const batch of stream) {
      const table: Table = tableFromIPC(batch.intoIPCStream());
      for (let i = 0; i < table.numRows; i++) {
        if (params.limit !== undefined && emitted >= params.limit) return;
        const row: Record<string, unknown> = {};
        for (const field of table.schema.fields) row[field.name] = toPlain(table.getChild(field.name)!.get(i));
        emitted++;
        yield row;
      }
    }
  } finally {
    file.free(); // wasm memory is not garbage-collected
  }
}
