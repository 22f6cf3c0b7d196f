import { createWriteStream } from "node:fs";
import { Writable } from "node:stream";
import { tableToIPC, type Schema } from "apache-arrow";
import { Compression, Table as WasmTable, transformParquetStream, WriterPropertiesBuilder } from "parquet-wasm";
import type { ColumnKind } from "../../schemas/arrow.js";
import { toArrowTable } from "./arrow-columns.js";

export const ROW_GROUP_ROWS = 2000;

/**
 * Streams rows into one ZSTD Parquet file, a row group at a time: memory stays bounded by the
 * row group, whatever the number of rows. The file is the same bytes for the same rows.
 */
export async function writeParquet(params: {
  path: string;
  schema: Schema;
  kinds: ColumnKind[];
  rows: AsyncIterable<Record<string, unknown>> | Iterable<Record<string, unknown>>;
  rowGroupRows?: number;
}): Promise<{ rows: number }> {
  const groupSize = params.rowGroupRows ?? ROW_GROUP_ROWS;
  let count = 0;
  const source = (async function* () {
    let batch: Record<string, unknown>[] = [];
    for await (const row of params.rows) {
      batch.push(row);
      if (batch.length === groupSize) {
        yield batch;
        batch = [];
      }
    }
    // An empty split still gets a valid file holding the schema.
    if (batch.length > 0 || count === 0) yield batch;
  })();
  const batches = new ReadableStream({
    async pull(controller) {
      const next = await source.next();
      if (next.done) return controller.close();
      count += next.value.length;
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
    .setCreatedBy("arcforge (parquet-wasm)")
    .build();
  const bytes = await transformParquetStream(batches, properties);
  await bytes.pipeTo(Writable.toWeb(createWriteStream(params.path)));
  return { rows: count };
}
