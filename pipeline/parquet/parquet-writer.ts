import { tableToIPC, type Schema } from "apache-arrow";
import type { ColumnKind } from "../../schemas/arrow.js";
import { toArrowTable } from "./arrow-columns.js";
import type { DatasetsByteCount } from "./datasets-bytes.js";
import { type ParquetEncoder, sharedEncoder } from "./parquet-encoder.js";
import { rowBytes } from "./row-bytes.js";

export const ROW_GROUP_ROWS = 2000;
/** The Hub's viewer refuses row groups over ~286 MiB uncompressed; this keeps far below it whatever the grids. */
export const ROW_GROUP_BYTES = 64 * 10 ** 6;

export interface ParquetParams {
  path: string;
  schema: Schema;
  kinds: ColumnKind[];
  rows: AsyncIterable<Record<string, unknown>> | Iterable<Record<string, unknown>>;
  rowGroupRows?: number;
  rowGroupBytes?: number;
  /** A row's size as rowBytes gives it, when the caller measured it already. */
  sizeOf?: (row: Record<string, unknown>) => number;
  byteCount?: DatasetsByteCount;
  encoder?: ParquetEncoder;
}

/** A file whose rows are all handed over: `finished` resolves once it is complete on disk. */
export interface ParquetWrite {
  rows: number;
  finished: Promise<void>;
}

/**
 * Streams rows into one ZSTD Parquet file, a row group at a time: memory stays bounded by the
 * row group, whatever the number of rows. A group ends at `rowGroupRows` rows or before the row that
 * would take it past `rowGroupBytes` uncompressed (rowBytes, above what Parquet holds); a row larger
 * than that is a group alone. No group holds more rows than the first: `datasets` reads a file in
 * batches of its first group's rows, and a larger group would reach it as slices, whose Arrow bytes
 * it counts differently. So each group is one table of `datasets`, and `byteCount` (the split's
 * `num_bytes` as `datasets` computes it) is fed the groups. Same rows, same bytes.
 *
 * Groups are compressed in the encoder's thread (the process's own unless one is given) while the
 * next are read here. Resolves once the last row is handed over, so a caller can go on (the next
 * file, other outputs) while it is compressed.
 */
export async function startParquet(params: ParquetParams): Promise<ParquetWrite> {
  const groupSize = params.rowGroupRows ?? ROW_GROUP_ROWS;
  const groupBytes = params.rowGroupBytes ?? ROW_GROUP_BYTES;
  const file = (params.encoder ?? sharedEncoder()).file({ path: params.path, rowGroupRows: groupSize });
  let count = 0;
  const hand = async (group: Record<string, unknown>[]) => {
    count += group.length;
    params.byteCount?.addTable(group);
    await file.add(tableToIPC(toArrowTable({ schema: params.schema, kinds: params.kinds, rows: group }), "stream"));
  };
  try {
    let batch: Record<string, unknown>[] = [];
    let bytes = 0;
    let rowsCap = groupSize;
    let groups = 0;
    const cut = () => {
      if (groups++ === 0) rowsCap = batch.length;
      const group = batch;
      batch = [];
      bytes = 0;
      return group;
    };
    for await (const row of params.rows) {
      const size = (params.sizeOf ?? rowBytes)(row);
      if (batch.length > 0 && bytes + size > groupBytes) await hand(cut());
      batch.push(row);
      bytes += size;
      if (batch.length === rowsCap) await hand(cut());
    }
    // An empty split still gets a valid file holding the schema.
    if (batch.length > 0 || count === 0) await hand(batch);
  } catch (error) {
    // Its thread must not wait for the rest of a file whose rows could not be read.
    file.abort();
    throw error;
  }
  return { rows: count, finished: file.end() };
}

/** startParquet, resolving once the file is complete on disk. */
export async function writeParquet(params: ParquetParams): Promise<{ rows: number }> {
  const { rows, finished } = await startParquet(params);
  await finished;
  return { rows };
}
