import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { ParquetError } from "../common/errors.js";
import { packageRoot } from "../common/paths.js";

export type EncoderRequest =
  | { type: "open"; id: number; path: string; rowGroupRows: number }
  | { type: "group"; id: number; ipc: Uint8Array }
  | { type: "end" | "abort"; id: number };
export type EncoderReply = { type: "taken" | "done"; id: number } | { type: "failed"; id: number; message: string };

/**
 * Groups handed over but not yet taken by the writer, per file: what memory holds beyond the group
 * being read and the one being compressed. At 10^5 attempts a --no-dedup rebuild took 17.2 s with
 * two, 21.2 s with one (peak RSS 920 and 870 MiB), 25.9 s before the thread (736 MiB).
 */
const GROUPS_AHEAD = 2;

/** Compiled with the CLI; tests run `tsc` first (pretest), so sources find it too. */
const WORKER = join(packageRoot(), "dist", "pipeline", "parquet", "parquet-encode-worker.js");

interface Pending {
  path: string;
  ahead: number;
  room?: () => void;
  settle: { resolve: () => void; reject: (error: ParquetError) => void };
}

/** One Parquet file being encoded: its row groups in order, then its end. */
export interface EncodedFile {
  /** Hands over a row group (Arrow IPC stream); waits while GROUPS_AHEAD groups are not yet taken. */
  add(ipc: Uint8Array): Promise<void>;
  /** No more groups; resolves once the file is complete on disk. */
  end(): Promise<void>;
  /** The rows could not be read: the file is given up (its thread stops waiting for it). */
  abort(): void;
}

/**
 * A thread that compresses Parquet files (parquet-wasm, ZSTD) while this one reads and formats
 * rows: a build's rows are read, formatted and turned into Arrow here, and encoded there. Started
 * at once (the wasm compiles while a build runs its stages); `close` ends it.
 */
export class ParquetEncoder {
  private readonly worker: Worker;
  private readonly files = new Map<number, Pending>();
  private nextId = 0;
  private failure?: ParquetError;

  /** Closed, or its thread is gone: files given to it fail. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  constructor() {
    // None of the process's Node options: some (--input-type, --eval) are refused by a worker.
    this.worker = new Worker(WORKER, { execArgv: [] });
    // Idle, it keeps no process alive; a file being written does.
    this.worker.unref();
    this.worker.on("message", (message: EncoderReply) => this.receive(message));
    this.worker.on("error", (error) => this.fail(`the Parquet encoder thread failed (${error.message})`));
    this.worker.on("exit", (code) => this.fail(`the Parquet encoder thread exited (code ${code})`));
  }

  file(params: { path: string; rowGroupRows: number }): EncodedFile {
    const id = this.nextId++;
    let settle!: Pending["settle"];
    const finished = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    const pending: Pending = { path: params.path, ahead: 0, settle };
    // Awaited only through end(): a failure before then is raised there, never unhandled.
    finished.catch(() => undefined);
    if (this.failure) pending.settle.reject(new ParquetError(`writing ${params.path}: ${this.failure.message}`));
    else {
      this.files.set(id, pending);
      this.worker.ref();
      this.post({ type: "open", id, path: params.path, rowGroupRows: params.rowGroupRows });
    }
    return {
      add: async (ipc) => {
        // A file that failed says why at its next group: the rows need not be read any further.
        if (!this.files.has(id)) return finished;
        pending.ahead++;
        // A group that owns its whole buffer is moved to the thread, not copied.
        const whole = ipc.byteOffset === 0 && ipc.byteLength === ipc.buffer.byteLength && ipc.buffer instanceof ArrayBuffer;
        this.post({ type: "group", id, ipc }, whole ? [ipc.buffer as ArrayBuffer] : []);
        while (pending.ahead >= GROUPS_AHEAD && this.files.has(id)) await new Promise<void>((room) => (pending.room = room));
      },
      end: () => {
        if (this.files.has(id)) this.post({ type: "end", id });
        return finished;
      },
      abort: () => {
        if (this.files.has(id)) this.post({ type: "abort", id });
      },
    };
  }

  /** Ends the thread; files not yet complete fail. */
  async close(): Promise<void> {
    this.fail("the Parquet encoder was closed before the file was complete");
    await this.worker.terminate();
  }

  private post(message: EncoderRequest, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  private receive(message: EncoderReply): void {
    const pending = this.files.get(message.id);
    if (!pending) return;
    if (message.type === "taken") {
      pending.ahead--;
      pending.room?.();
      pending.room = undefined;
      return;
    }
    this.files.delete(message.id);
    if (this.files.size === 0) this.worker.unref();
    pending.room?.();
    if (message.type === "failed")
      pending.settle.reject(
        new ParquetError(
          `writing ${pending.path} failed in parquet-wasm: ${message.message}; the dataset was not written (check that its folder exists and its disk has room, then build again)`,
        ),
      );
    else pending.settle.resolve();
  }

  private fail(reason: string): void {
    this.failure ??= new ParquetError(`${reason}; the dataset was not written`);
    for (const [id, pending] of this.files) {
      this.files.delete(id);
      pending.room?.();
      pending.settle.reject(new ParquetError(`writing ${pending.path}: ${reason}; the dataset was not written`));
    }
    this.worker.unref();
  }
}

let shared: ParquetEncoder | undefined;

/**
 * The process's encoder, started when first asked for and kept: V8 compiles parquet-wasm quickly
 * and slowly-running first, then optimises what runs often, so a thread kept for every file of
 * every build in a process compresses ~2x faster than a new one per build (measured). Idle, it
 * keeps no process alive; one that failed is replaced.
 */
export function sharedEncoder(): ParquetEncoder {
  if (!shared || shared.failed) shared = new ParquetEncoder();
  return shared;
}
