import type { SandboxInfo } from "../pipeline/executor/types.js";
import type { BuildOptions } from "./build-options.js";

/**
 * What a build writes beside its data: manifest.json, fates.jsonl and tasks.jsonl. These are
 * contracts with the people and tools that read a build, so they live here, below every stage.
 */

/** What became of one log file. */
export interface LogFate {
  file: string;
  sha256?: string;
  kept: boolean;
  reason?: string;
  detail?: string;
  attempts?: number;
}

/** What one source was, for the manifest and the fates file (provenance of its rows). */
export interface SourceFate {
  source: string;
  revision?: string;
  schema: string;
  shards: number;
  rows: number;
  /** Shards refused before decoding (sizes a decoder must not be trusted with), each with why. */
  refused?: { shard: string; reason: string }[];
}

/** One file a build wrote: a shard of a split (a task's rows are never cut across two). */
export interface WrittenSplit {
  split: SplitName;
  path: string;
  rows: number;
  tasks: number;
  /** This file's share of the split's `num_bytes` as `datasets` computes it (the Arrow bytes it reads). */
  num_bytes: number;
  sha256: string;
}

/** Each split's rows, tasks and num_bytes over its shards, in the order written. */
export function splitTotals(written: WrittenSplit[]): { split: SplitName; rows: number; tasks: number; num_bytes: number }[] {
  const totals = new Map<SplitName, { split: SplitName; rows: number; tasks: number; num_bytes: number }>();
  for (const w of written) {
    const total = totals.get(w.split) ?? { split: w.split, rows: 0, tasks: 0, num_bytes: 0 };
    total.rows += w.rows;
    total.tasks += w.tasks;
    // A manifest written before num_bytes was recorded counts nothing for it.
    total.num_bytes += w.num_bytes ?? 0;
    totals.set(w.split, total);
  }
  return [...totals.values()];
}

export type SplitName = "train" | "validation";

/** The manifest's account of decontamination: against what, with which files, and what it found. */
export interface DecontaminationManifest {
  against: string[];
  /** Why nothing was checked, when nothing was. */
  off?: string;
  /** Each evaluation task file used (relative to --tasks) and its sha256. */
  files?: Record<string, string>;
  contaminated: { task: string; matched: string; shared: number; inputs: number }[];
  overlap: { task: string; matched: string; shared: number; inputs: number }[];
  evaluation_tasks: string[];
}

/** One line of fates.jsonl: what became of one attempt. The same names as the rows' columns. */
export interface Fate {
  attempt_id: string;
  dataset?: string;
  task_id?: string;
  fate: string;
  stage?: string;
  detail?: string;
  provenance?: { source: string; revision?: string; split: string; row: number };
}

/** One line of tasks.jsonl: what became of one task's programs. */
export interface TaskLine {
  dataset: string;
  task_id: string;
  /** Programs read from the logs (attempts that held code). */
  read: number;
  /** Programs that reached the sandbox (past cleaning and the transduction filter). */
  executed: number;
  /** Rows written. */
  kept: number;
  /** Rows written that solve the test. */
  solved: number;
  /** correct: any row (before balancing) gets a train output right. */
  group: "correct" | "incorrect" | null;
  split: "train" | "validation" | "dropped";
  /** Only when it meets an evaluation task: `contaminated` (its programs dropped), `overlap`, `evaluation_task`. */
  contamination?: string;
  /** The evaluation task it shares most input grids with, and how many of its inputs. */
  matched?: string;
  shared?: number;
}

export interface StageReport {
  stage: string;
  key: string;
  ran: boolean;
  /** Why it ran (which key part changed) or "cached". */
  reason: string;
  ms: number;
  kept: number;
  dropped: Record<string, number>;
  counts: Record<string, number>;
  /** Why this stage's output was not cached (it runs again next time). */
  notCached?: string;
  /** For a stage run task by task: for how many tasks it ran, of how many. */
  tasks?: { ran: number; total: number };
}

export interface BuildManifest {
  arcforge: string;
  created: string;
  options: BuildOptions;
  /** The sandbox this run started (null when every execution came from the cache). */
  sandbox: SandboxInfo | null;
  /** Every runtime whose verdicts the rows rest on, recorded with the executions: named whether they ran now or were cached. */
  sandboxes: { fingerprint: string; backend: string; isolation: string; python: string; numpy: string; seed: number }[];
  stages: StageReport[];
  logs: LogFate[];
  /** The program datasets read with --from: source, Hub revision, schema, shards and rows. */
  datasets: SourceFate[];
  /** The datasets and subsets the kept logs name. */
  source: { datasets: string[]; subsets: string[] };
  /** Tasks no task file held, whose programs were judged against the task their inputs embedded. */
  tasks_taken_on_trust: string[];
  /** The evaluation splits the tasks were checked against, the files used, and what was found. */
  decontamination: DecontaminationManifest;
  /** Every attempt's fate is a line of fates.jsonl beside manifest.json (by task, then id), not part of it. */
  attempts: { total: number; kept: number; dropped: Record<string, number>; adds_up: boolean };
  outputs: WrittenSplit[];
  summary: string[];
}
