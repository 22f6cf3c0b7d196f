import type { Isolation, RuntimeFingerprint } from "./runtime-fingerprint.js";
import type { SandboxLimits } from "../../schemas/sandbox-limits.js";
import type { Grid } from "../../schemas/grid.js";
import type { Outcome, OutcomeStatus } from "../../schemas/outcome.js";

/** One program and every input it must run on. */
export interface ExecJob {
  programId: string;
  code: string;
  inputs: Grid[];
  /**
   * A failure on one of the first `failFast` inputs decides the program's fate: the inputs after it
   * are not run (outcome `skipped`). Unset or 0: every input runs.
   */
  failFast?: number;
}

/** Outcomes in input order: outcomes[i] belongs to job.inputs[i], whatever order they finished in. */
export interface ExecResult {
  programId: string;
  outcomes: Outcome[];
}

export interface SandboxInfo {
  backend: string;
  /** The isolation actually in force, from the runner's own report. */
  isolation: Isolation;
  fingerprint: RuntimeFingerprint;
  runnerVersion: number;
  python: string;
  numpy: string;
  /** Isolation layers actually in force, as the runner reported them. */
  layers: Record<string, unknown>;
  warnings: string[];
}

export type ExecutorEvent =
  | { type: "respawn"; worker: number; cause: "died" | "recycled"; reason: string }
  | {
      type: "health";
      programs: number;
      executions: number;
      rates: Record<OutcomeStatus, number>;
      meanMsPerProgram: number;
    }
  | { type: "queue"; fingerprint: string; workers: number; waiting: number; active: number; done: number; submitted: number; audited: number };

export interface Executor {
  readonly name: string;
  /** The limits it enforces: a stage keys its cache on these, and refuses an executor whose limits differ. */
  readonly limits: SandboxLimits;
  /** Runs every job; yields one result per job as it completes (pair by programId). */
  run(jobs: Iterable<ExecJob> | AsyncIterable<ExecJob>): AsyncGenerator<ExecResult>;
  info(): Promise<SandboxInfo>;
  /** What the execution cache is keyed by; known without starting a worker. */
  fingerprint(): Promise<RuntimeFingerprint>;
  close(): Promise<void>;
}

export interface ExecutorOptions extends SandboxLimits {
  workers: number;
  /** Emit a health event every this many programs. */
  healthEvery: number;
  /** Seed of random, numpy.random and PYTHONHASHSEED in every child (default 0). */
  seed: number;
  onEvent?: (event: ExecutorEvent) => void;
}
