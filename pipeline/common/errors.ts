/** One error class per external system; each message states the broken contract and what it concerns. */
export class ArcforgeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The Python sandbox: interpreter missing, runner died, protocol broken. */
export class SandboxError extends ArcforgeError {}

/** The Hugging Face Hub (or a Hub emulator). */
export class HubError extends ArcforgeError {
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A Docker engine. */
export class DockerError extends ArcforgeError {}

/** Input files: run logs, ARC tasks, datasets given to validate. */
export class InputError extends ArcforgeError {}

/** The stage cache directory. */
export class CacheError extends ArcforgeError {}

/** parquet-wasm, writing a dataset's Parquet files (in its own thread). */
export class ParquetError extends ArcforgeError {}

/** The Redis queue that spreads executions over machines (BullMQ). */
export class QueueError extends ArcforgeError {}

/** A dataset recipe (SQL over the program table) and the DuckDB engine that runs it. */
export class RecipeError extends ArcforgeError {}

/** The stage graph as declared: a stage reading an output that is not an earlier stage or a source. */
export class StageGraphError extends ArcforgeError {}

/**
 * An unexpected failure inside a stage (a bug, not a broken input contract): it names the stage and
 * the task, and keeps the original error as its cause for `--debug`.
 */
export class StageError extends ArcforgeError {
  constructor(
    readonly stage: string,
    readonly scope: string | undefined,
    cause: unknown,
  ) {
    const what = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`stage ${stage}${scope ? `, ${scope}` : ""}: ${what} (an arcforge bug: --debug prints the stack; please report it with that)`, { cause });
  }
}
