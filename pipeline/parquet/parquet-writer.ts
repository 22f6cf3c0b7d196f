import { createWriteStream } from "node:fs";
import { Writable } from "node:stream";
import { tableToIPC, type Schema } from "apache-arrow";
import { Compression, Table as WasmTable, transformParquetStream, WriterPropertiesBuilder } from "parquet-wasm";
import type { ColumnKind } from "../../schemas/arrow.js";
import { toArrowTable } from "./arrow-columns.js";
import type { DatasetsByteCount } from "./datasets-bytes.js";
import { rowBytes } from "./row-bytes.js";

export const ROW_GROUP_ROWS = 2000;
/** The Hub's viewer refuses row groups over ~286 MiB uncompressed; this keeps far below it whatever the grids. */
export const ROW_GROUP_BYTES = 64 * 10 ** 6;

/**
 * Streams rows into one ZSTD Parquet file, a row group at a time: memory stays bounded by the
 * row group, whatever the number of rows. A group ends at `rowGroupRows` rows or before the row that
 * would take it past `rowGroupBytes` uncompressed (rowBytes, above what Parquet holds); a row larger
 * than that is a group alone. No group holds more rows than the first: `datasets` reads a file in
 * batches of its first group's rows, and a larger group would reach it as slices, whose Arrow bytes
 * it counts differently. So each group is one table of `datasets`, and `byteCount` (the split's
 * `num_bytes` as `datasets` computes it) is fed the groups. Same rows, same bytes.
 */
export async function writeParquet(params: {
  path: string;
  schema: Schema;
  kinds: ColumnKind[];
  rows: AsyncIterable<Record<string, unknown>> | Iterable<Record<string, unknown>>;
  rowGroupRows?: number;
  rowGroupBytes?: number;
  byteCount?: DatasetsByteCount;
}): Promise<{ rows: number }> {
  const groupSize = params.rowGroupRows ?? ROW_GROUP_ROWS;
  const groupBytes = params.rowGroupBytes ?? ROW_GROUP_BYTES;
  let count = 0;
  const source = (async function* () {
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
      const size = rowBytes(row);
      if (batch.length > 0 && bytes + size > groupBytes) yield cut();
      batch.push(row);
      bytes += size;
      if (batch.length === rowsCap) yield cut();
    }
    // An empty split still gets a valid file holding the schema.
    if (batch.length > 0 || count === 0) yield batch;
  })();
  const batches = new ReadableStream({
    async pull(controller) {
      const next = await source.next();
      if (next.done) return controller.close();
      count += next.value.length;
      params.byteCount?.addTable(next.value);
      const table = toArrowTable({ schema: params.schema, kinds: params.kinds, rows: next.value });
      // wasm-side objects live outside the JS heap: free the table once its batches are handed over.
      const wasmTable = WasmTable.fromIPCStream(tableToIPC(table, "stream"));
      for (const batch of wasmTable.recordBatches()) controller.enqueue(batch);
      wasmTable.free();
    },
  });
  const properties = new WriterPropertiesBuilder()
    .setCompression(Compression.ZSTD)
    .setMaxRowGroupSize(groupSize)
    // Any size flushes after each batch: the groups are exactly the batches cut above (measured).
    .setMaxRowGroupBytes(1)
    .setCreatedBy("arcforge (parquet-wasm)")
    .build();
  const bytes = await transformParquetStream(batches, properties);
  await bytes.pipeTo(Writable.toWeb(createWriteStream(params.path)));
  return { rows: count };
}
