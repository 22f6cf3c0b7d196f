import { openAsBlob } from "node:fs";
import { tableFromIPC, type Table } from "apache-arrow";
import { ParquetFile, type RecordBatch } from "parquet-wasm";
import { InputError } from "../common/errors.js";
import { checkRowGroup, planParquet } from "./check-parquet-bounds.js";
import { type BlobLike, HeldBlob } from "./held-blob.js";

/** Decoded bytes a record batch may hold at worst: a dictionary value repeated on each of its rows. */
const BATCH_BYTES = 512 * 2 ** 20;

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

/**
 * Rows of a Parquet file (a path, or a Blob-like for remote files), a record batch at a time:
 * memory bounded by the batch, and with `limit` only the row groups that hold those rows are read.
 * The file's sizes are checked first (checkParquetBounds): a hostile file is refused, naming it,
 * before the decoder allocates what it claims. With `lazy`, a row's values are converted when first
 * read (a reader that looks at one column of most rows converts no grid of them).
 */
export async function* readParquetRows(params: {
  path?: string;
  blob?: BlobLike;
  name?: string;
  batchSize?: number;
  limit?: number;
  lazy?: boolean;
}): AsyncGenerator<Record<string, unknown>> {
  const blob = new HeldBlob(params.blob ?? (await openAsBlob(params.path!)));
  const name = params.name ?? params.path ?? "a Parquet file";
  const read = (start: number, end: number) => blob.hold(start, end);
  const plans = await planParquet({ blob, name, rowLimit: params.limit, read });
  if (plans.length === 0) return;
  const file = await named(name, () => ParquetFile.fromFile(blob as unknown as Blob));
  try {
    let emitted = 0;
    // A row group at a time: checked, then decoded from the bytes the check read.
    for (const plan of plans) {
      const largestDictionaryPage = await checkRowGroup({ blob, name, plan, read });
      const batchSize = Math.max(1, Math.min(params.batchSize ?? 1024, Math.floor(BATCH_BYTES / Math.max(1, largestDictionaryPage))));
      const left = params.limit === undefined ? undefined : params.limit - emitted;
      const stream = (await named(name, () =>
        file.stream({ batchSize, rowGroups: [plan.index], ...(left !== undefined ? { limit: left } : {}) }),
      )) as ReadableStream<RecordBatch>;
      for await (const batch of namedStream(name, stream)) {
        const table: Table = tableFromIPC(batch.intoIPCStream());
        for (let i = 0; i < table.numRows; i++) {
          if (params.limit !== undefined && emitted >= params.limit) return;
          emitted++;
          yield params.lazy ? lazyRow(table, i) : Object.fromEntries(table.schema.fields.map((f) => [f.name, toPlain(table.getChild(f.name)!.get(i))]));
        }
      }
      blob.release(...plan.span);
    }
  } finally {
    file.free(); // wasm memory is not garbage-collected
  }
}

/** Row `i` of a table, each value converted on first read and kept. */
function lazyRow(table: Table, i: number): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const field of table.schema.fields) {
    let value: unknown;
    let known = false;
    Object.defineProperty(row, field.name, {
      enumerable: true,
      get: () => {
        if (!known) [value, known] = [toPlain(table.getChild(field.name)!.get(i)), true];
        return value;
      },
    });
  }
  return row;
}

/** A decoder's failure, named: which file could not be read, and the decoder's own words. */
async function named<T>(file: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw new InputError(`cannot read ${file} as Parquet: ${(error as Error).message ?? String(error)}`);
  }
}
async function* namedStream<T>(file: string, stream: ReadableStream<T>): AsyncGenerator<T> {
  try {
    for await (const item of stream) yield item;
  } catch (error) {
    throw new InputError(`cannot read ${file} as Parquet: ${(error as Error).message ?? String(error)}`);
  }
}
