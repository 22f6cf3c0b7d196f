import type { SandboxLimits } from "./sandbox-limits.js";

export const FORMATS = ["flat", "soar", "messages", "openai", "programs", "refinement", "refinement-messages", "refinement-openai"] as const;
/** Where refinement pairs come from (--pairs). */
export const PAIR_SOURCES = ["multiturn", "refined", "hindsight"] as const;
export type PairSource = (typeof PAIR_SOURCES)[number];
export const SELECTIONS = ["greedy-diverse", "best", "random"] as const;
export type Selection = (typeof SELECTIONS)[number];
export type Format = (typeof FORMATS)[number];

/** Everything `arcforge build` is told. Stages key their cache on the parts that change them. */
export interface BuildOptions {
  logs: string[];
  /** Program datasets to build from as well: Parquet files or folders, built arcforge folders, Hub `owner/name[@revision][:split]`. */
  from: string[];
  /** Rows read at most from each --from source. */
  fromLimit?: number;
  tasks?: string;
  out: string;
  models: string[];
  dataset?: string;
  subset?: string;
  /** YYYYMMDD, inclusive, read from the timestamp that starts each log file name. */
  dateFrom?: string;
  dateTo?: string;
  /** A glob (`*`, `?`) matched against the log file name. */
  pattern?: string;
  /** Keep only the last N log files (by file name, i.e. by time) after the other filters. */
  limit?: number;
  /**
   * `dataset/split` sets whose tasks' inputs no kept task may copy (by grid content): unset, every
   * evaluation split under --tasks; empty, none (`--decontaminate none`).
   */
  decontaminate?: string[];
  /**
   * A recipe: the dataset's rows are what one DuckDB SELECT returns over the program table
   * (instead of dedup, selection and balancing). Resolved to its SQL when the options are read.
   */
  recipe?: { name: string; sql: string };
  /** Seconds a recipe may run before it is interrupted (default 600). */
  recipeTimeout?: number;
  /**
   * Balance the groups before a validation split: a default --validation build does (unset), a
   * recipe's only with --balance (true); --no-balance (false) never.
   */
  balance?: boolean;
  /** Validation rows: a count, or a fraction (0..1) of the rows (default: 10%, at most 32). */
  validationSize?: number;
  /** With a refinement format: where pairs come from (multiturn logs' later turns are read only with "multiturn"). */
  pairs?: PairSource[];
  /** Pairs per task at most, over every source together (default 50). */
  pairsPerTask?: number;
  /** A log file larger than this is recorded as malformed without being read (default MAX_LOG_BYTES). */
  maxLogBytes?: number;
  validation: boolean;
  format: Format;
  cleanCode: boolean;
  transductionFilter: boolean;
  /** Also reject programs whose behaviour is invariant to none of: vertical flip, horizontal flip, colour rotation. */
  transductionAugment: boolean;
  /** Keep programs that fail on a test input (their prediction there is stored as []). */
  keepTestFailures: boolean;
  /** Drop programs whose output equals their input on every train example. */
  dropIdentity: boolean;
  /** Drop programs that predict a single colour where the real train output has several. */
  dropSingleColour: boolean;
  /** After dedup, keep at most this many programs per task, chosen by `select`. */
  maxPerTask?: number;
  select: Selection;
  dedup: boolean;
  /**
   * After exact dedup, drop test-solving programs whose normalised code's token 5-grams have a
   * Jaccard similarity at or above this (0 < t <= 1) with a program kept before them in the same task.
   */
  nearDedup?: number;
  /**
   * Already published datasets (folders, Parquet, Hub): a program whose task and dedup key (cleaned
   * code; train outputs of a non-solving one, computed here) appear there is dropped already_published.
   */
  against?: string[];
  reasoning: boolean;
  seed: number;
  /** The dataset card's `license` (a Hub license id such as apache-2.0, cc-by-4.0); left out when not given. */
  license?: string;
  /**
   * The `generation` column: which round of sampling and fine-tuning these programs come from.
   * Given, it overrides every input's; else a dataset row keeps its own, and a log's is 0.
   */
  generation?: number;
  limits: SandboxLimits;
  /** A split's file holds at most this many bytes (uncompressed, estimated) before the next task starts another (default 500 MB). */
  maxShardBytes?: number;
}

/** 64 MiB: the largest real log is well under 1 MiB; a file far beyond it is an attack or an accident. */
export const MAX_LOG_BYTES = 64 * 2 ** 20;
/** 1 MiB: no program worth learning from is longer; a longer code cell is refused before it is used. */
export const MAX_CODE_BYTES = 2 ** 20;

export const DEFAULT_BUILD_OPTIONS: Omit<BuildOptions, "logs" | "out"> = {
  from: [],
  models: [],
  validation: false,
  format: "flat",
  cleanCode: true,
  transductionFilter: true,
  transductionAugment: false,
  keepTestFailures: false,
  dropIdentity: false,
  dropSingleColour: false,
  select: "greedy-diverse",
  dedup: true,
  reasoning: false,
  seed: 42,
  limits: { timeoutSeconds: 1, memoryBytes: 1 << 30 },
};

/** The build groups programs into the verified program table (one row per task and code) instead of deduplicating. */
export const tableMode = (options: Pick<BuildOptions, "format" | "recipe">) => options.format === "programs" || options.recipe !== undefined;

/** The build writes refinement pairs (parent program, better child) instead of single programs. */
export const pairMode = (options: Pick<BuildOptions, "format">) => options.format.startsWith("refinement");

/** Formats written as JSON lines (chat fine-tuning files) rather than Parquet. */
export type JsonlFormat = "openai" | "refinement-openai";
export type ParquetFormat = Exclude<Format, JsonlFormat>;
export const isJsonl = (format: Format): format is JsonlFormat => format === "openai" || format === "refinement-openai";
