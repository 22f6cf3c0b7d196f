import type { Executor } from "../executor/types.js";
import type { CleanerPool, NormaliserPool } from "../cleaner/cleaner-pool.js";
import type { RuntimeFingerprint } from "../executor/runtime-fingerprint.js";
import type { ProgressEvent } from "../common/progress.js";
import type { Drop, Verdict } from "../../schemas/drop.js";
import type { LogFate, StageReport, WrittenSplit } from "../../schemas/build-manifest.js";
import { StageGraphError } from "../common/errors.js";

/** What a stage hands on: its records, its drops, and counts worth reporting (not drops). */
export interface StageOutput<T = unknown, D = unknown> {
  records: T[];
  drops: Drop[];
  /** How many records were handed on elsewhere (in task shards) when `records` is empty. */
  kept?: number;
  /** Drops counted here but recorded elsewhere (in task shards, one line each), by reason. */
  dropped?: Record<string, number>;
  counts?: Record<string, number>;
  /** Data that is not a stream of records (the tasks table, for example). */
  data?: D;
  /**
   * Why this output must not be cached (the sandbox failed, not the programs): it is used for this
   * build, and it and every stage after it run again next time.
   */
  uncacheable?: string;
  /**
   * Records that are not all its upstream's (twins made records of their own): stored whole,
   * though the stage selects.
   */
  newRecords?: true;
}

/** What an idle stage hands on (see `Stage.idle`). */
export type Idle<D = unknown> = "input" | { data: D };

/** What a stage's key may look at upstream: never the records, which may not be loaded. */
export type UpstreamMeta<D = unknown> = Omit<StageOutput<never, D>, "records" | "uncacheable" | "data" | "newRecords"> & { data: D };

/** An upstream output as a stage receives it: its data is there, typed, if the upstream declared any. */
export type Upstream<T = unknown, D = unknown> = Omit<StageOutput<T, D>, "data" | "uncacheable" | "newRecords"> & { data: D };

/**
 * A named output stages may read: a stage, or a source its caller supplies (a task's attempts, the
 * tasks' summaries). The type parameters travel with the name, so a reader gets typed records and data.
 */
export interface Handle<T = unknown, D = unknown> {
  readonly name: string;
  /** Never set: it carries the record and data types. */
  readonly types?: { records: T; data: D };
}

export function defineSource<T, D>(name: string): Handle<T, D> {
  return { name };
}

/** What a stage reads: its chain input (the stage before it, or its phase's source) and the side outputs it named. */
export interface StageInputs<In> {
  input: Upstream<In>;
  side<T, D>(handle: Handle<T, D>): Upstream<T, D>;
}

/** What a stage's key reads: the same outputs, without their records. */
export interface KeyInputs {
  input: UpstreamMeta;
  side<T, D>(handle: Handle<T, D>): UpstreamMeta<D>;
}

/**
 * Inputs for calling a stage on its own (a spec, a tool): its chain input and its side outputs by
 * name. Reading an output that was not given fails, naming it.
 */
export function stageInputs<In>(params: { input?: StageOutput<In>; sides?: Record<string, StageOutput> }): StageInputs<In> & KeyInputs {
  const typed = <T, D>(output: StageOutput | undefined, name: string): Upstream<T, D> => {
    if (!output) throw new StageGraphError(`the stage read ${name}, which was not given to it`);
    return { ...output, data: output.data } as Upstream<T, D>;
  };
  return { input: typed(params.input ?? { records: [], drops: [] }, "its input"), side: (handle) => typed(params.sides?.[handle.name], handle.name) };
}

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
  /** The normalisers of --near-dedup, shared the same way; they start on the first program asked about. */
  normaliser?: NormaliserPool;
  cacheDir: string;
  fresh: boolean;
}

/**
 * A stage reads the records of the stage before it in its phase's list (or its phase's source),
 * and names any other output it reads, by handle, in `sides`: each must be an earlier stage or a
 * source, checked when the phase starts. Its own output is typed by `Out` records and `D` data.
 */
export interface Stage<O, In = unknown, Out = unknown, D = unknown> extends Handle<Out, D> {
  /** Bump when the stage's logic changes what it outputs: old cache entries stop matching. */
  version: number;
  /** A reader reads the corpus, not another stage: it has no chain input. */
  reader?: true;
  /** Outputs read besides the chain input, after it in its key's upstream list. */
  sides?: readonly Handle[];
  /** Its records are a subset of its chain input's (same objects): stored as ids only. */
  selects?: boolean;
  /** Its records are its chain input's (same ids) with some fields changed or added: stored as those fields only. */
  patches?: boolean;
  /** Counts that describe the work of a run (cache hits), not its output: a cached entry's are not counted again. */
  runCounts?: string[];
  /**
   * Whether, under these options, the stage has nothing to do for any task: `"input"` hands on its
   * chain input as it is, `{ data }` hands on no records and this data; neither drops or counts.
   * An idle stage is never run, keyed or stored: its output is made wherever it is read
   * (`idleStages`), and its key is its chain input's. A function of the options alone.
   */
  idle?(options: O): Idle<D> | undefined;
  /** Exactly the options (and input digests) that change this stage's output. */
  key(options: O, upstream: KeyInputs, context: StageContext): unknown | Promise<unknown>;
  /** Its lines in the end-of-run summary (and the card), from its report summed over tasks. */
  summary?(view: SummaryView<O>): string[];
  /**
   * `dir`: a reader's own cache entry folder, empty when it starts, for output too large to hand on
   * in memory (task shards). Other stages hand on records only (emptying a folder per task and
   * stage cost a file-system call each).
   */
  run(params: { options: O; upstream: StageInputs<In>; context: StageContext; dir: string }): Promise<StageOutput<Out, D>>;
}

/** What a stage's summary lines may read: its own report, other stages' by handle, what the build wrote. */
export interface SummaryView<O> {
  report: StageReport;
  options: O;
  /** Another stage's report: undefined when it did not run in this build. */
  reportOf(stage: Handle): StageReport | undefined;
  logs: LogFate[];
  written: WrittenSplit[];
}

/** Any stage of a list: its record types are checked where the list is built (see `chain`). */
// biome-ignore lint/suspicious/noExplicitAny: a list holds stages of different record types
export type AnyStage<O> = Stage<O, any, any, any>;

/** Types a stage: `In` its chain input's records, `Out` and `D` what it hands on. */
export function defineStage<O, In, Out, D = undefined>(stage: Stage<O, In, Out, D>): Stage<O, In, Out, D> {
  return stage;
}

/**
 * A phase's stages in order, each taking the previous one's records: the compiler checks that a
 * stage's input type is its predecessor's output type, so inserting a stage is one `pipe`.
 */
export class Chain<O, Last> {
  private constructor(
    readonly source: Handle | undefined,
    readonly stages: readonly AnyStage<O>[],
  ) {}

  static from<O, T>(source: Handle<T, unknown>): Chain<O, T> {
    return new Chain<O, T>(source, []);
  }

  pipe<Out, D>(stage: Stage<O, Last, Out, D>): Chain<O, Out> {
    return new Chain<O, Out>(this.source, [...this.stages, stage]);
  }
}

/** Applies a filter to records, turning drop verdicts into Drop entries. */
export function applyFilter<T>(params: {
  records: T[];
  id: (record: T) => string;
  taskId?: (record: T) => string;
  verdict: (record: T) => Verdict;
}): StageOutput<T, undefined> {
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
