import { createWriteStream } from "node:fs";
import { Writable } from "node:stream";
import { parentPort } from "node:worker_threads";
import { Compression, Table as WasmTable, transformParquetStream, WriterPropertiesBuilder } from "parquet-wasm";
import type { EncoderReply, EncoderRequest } from "./parquet-encoder.js";

/**
 * The thread that turns Arrow IPC row groups into Parquet files (ZSTD, in parquet-wasm): a build
 * reads and formats its next rows while this one compresses the last. One file per id; its
 * groups arrive in order, each answered with `taken` once it is in the writer (the sender's
 * backpressure), and the file with `done` or `failed`.
 */
const port = parentPort!;
const reply = (message: EncoderReply) => port.postMessage(message);

/** A file's next group, its end (null), or its abandonment. */
type Next = Uint8Array | null | "abort";
interface OpenFile {
  groups: Next[];
  wake?: () => void;
}
const files = new Map<number, OpenFile>();

function startFile(params: { id: number; path: string; rowGroupRows: number }): OpenFile {
  const file: OpenFile = { groups: [] };
  const { id } = params;
  const batches = new ReadableStream({
    async pull(controller) {
      while (file.groups.length === 0) await new Promise<void>((wake) => (file.wake = wake));
      const ipc = file.groups.shift()!;
      if (ipc === null) return controller.close();
      if (ipc === "abort") return controller.error(new Error("its rows could not be read"));
      // wasm-side objects live outside the JS heap: free the table once its batches are handed over.
      const table = WasmTable.fromIPCStream(ipc);
      for (const batch of table.recordBatches()) controller.enqueue(batch);
      table.free();
      reply({ type: "taken", id });
    },
  });
  const properties = new WriterPropertiesBuilder()
    .setCompression(Compression.ZSTD)
    .setMaxRowGroupSize(params.rowGroupRows)
    // Any size flushes after each batch: the groups are exactly the batches the sender cut (measured).
    .setMaxRowGroupBytes(1)
    .setCreatedBy("arcforge (parquet-wasm)")
    .build();
  transformParquetStream(batches, properties)
    .then((bytes) => bytes.pipeTo(Writable.toWeb(createWriteStream(params.path))))
    .then(
      () => reply({ type: "done", id }),
      (error: unknown) => reply({ type: "failed", id, message: error instanceof Error ? error.message : String(error) }),
    )
    .finally(() => files.delete(id));
  return file;
}

port.on("message", (message: EncoderRequest) => {
  if (message.type === "open") {
    files.set(message.id, startFile(message));
    return;
  }
  const file = files.get(message.id);
  if (!file) return;
  file.groups.push(message.type === "group" ? message.ipc : message.type === "end" ? null : "abort");
  file.wake?.();
  file.wake = undefined;
});
