import type { Executor } from "../executor/types.js";
import type { CleanerPool } from "../executor/clean-code-helper.js";
import type { RuntimeFingerprint } from "../executor/runtime-fingerprint.js";
import type { ProgressEvent } from "../common/progress.js";
import type { Drop, Verdict } from "../../schemas/drop.js";

/** What a stage hands on: its records, its drops, and counts worth reporting (not drops). */
export interface StageOutput<T = unknown> {
  records: T[];
  drops: Drop[];
  /** How many records were handed on elsewhere (in task shards) when `records` is empty. */
  kept?: number;
  /** Drops counted here but recorded elsewhere (in task shards, one line each), by reason. */
  dropped?: Record<string, number>;
  counts?: Record<string, number>;
  /** Data that is not a stream of records (the tasks table, for example). */
  data?: unknown;
  /**
   * Why this output must not be cached (the sandbox failed, not the programs): it is used for this
   * build, and it and every stage after it run again next time.
   */
  uncacheable?: string;
}

/** What a stage's key may look at upstream: never the records, which may not be loaded. */
export type UpstreamMeta = Omit<StageOutput, "records" | "uncacheable">;

/** Where the Hub is and how to reach it: never part of a cache key, never written to a manifest. */
export interface HubAccess {
  hubUrl: string;
  token?: string;
  allowHttp?: boolean;
  fetch?: typeof fetch;
}

export interface StageContext {
  hub: HubAccess;
  /**
   * Starts the sandbox lazily: a build served from cache never starts Python. `seed` (default 0)
   * seeds random, numpy.random and the hash of every child: re-validation runs with another seed.
   */
  executor(seed?: number): Promise<Executor>;
  emit(event: ProgressEvent): void;
  /** The sandbox's runtime fingerprint, known without starting it: stages that execute key on it. */
  fingerprint(seed?: number): Promise<RuntimeFingerprint>;
  /** Python cleaner helpers shared by every task of a build; a stage without one starts its own. */
  cleaner?: CleanerPool;
  cacheDir: string;
  fresh: boolean;
}

export interface Stage<O> {
  name: string;
  /** Bump when the stage's logic changes what it outputs: old cache entries stop matching. */
  version: number;
  after: string[];
  /** Its records are a subset of its first upstream's (same objects): stored as ids only. */
  selects?: boolean;
  /** Its records are its first upstream's (same ids) with some fields changed or added: stored as those fields only. */
  patches?: boolean;
  /** Counts that describe the work of a run (cache hits), not its output: a cached entry's are not counted again. */
  runCounts?: string[];
  /** Exactly the options (and input digests) that change this stage's output. */
  key(options: O, upstream: Record<string, UpstreamMeta>, context: StageContext): unknown | Promise<unknown>;
  /** `dir`: the stage's own cache entry folder, empty when it starts, for output too large to hand on in memory (task shards). */
  run(params: { options: O; upstream: Record<string, StageOutput>; context: StageContext; dir: string }): Promise<StageOutput>;
}

/** Applies a filter to records, turning drop verdicts into Drop entries. */
export function applyFilter<T>(params: {
  records: T[];
  id: (record: T) => string;
  taskId?: (record: T) => string;
  verdict: (record: T) => Verdict;
}): StageOutput<T> {
  const kept: T[] = [];
  const drops: Drop[] = [];
  for (const record of params.records) {
    const v = params.verdict(record);
    if (v === "keep") kept.push(record);
    else
      drops.push({
        id: params.id(record),
        reason: v.drop,
        ...(v.detail ? { detail: v.detail } : {}),
        ...(params.taskId ? { taskId: params.taskId(record) } : {}),
      });
  }
  return { records: kept, drops };
}
