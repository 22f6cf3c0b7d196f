import { createHash } from "node:crypto";

/**
 * Where a program of the verified program table came from, carried through a round trip: a row
 * read back with `--from` keeps its first copy's identity, not the table's row number.
 */
export interface Provenance {
  /** The first copy's attempt: `<log file>#<attempt>`, or `<source>:<split>:<row>` for a dataset row. */
  attemptId: string;
  /** Its log file, or its dataset source and split. */
  source: string;
  /** YYYYMMDD_HHMMSS of the sampling run (from the log file's name), when known. */
  runTimestamp: string | null;
  subset: string | null;
  /** Every model that sampled this program for this task, sorted. */
  models: string[];
  /** How many attempts sampled it (across every run merged into the table). */
  copies: number;
}

/**
 * One identity per program: the first 32 hex of sha256 over the canonical JSON of
 * `[dataset, task_id, code]` (the cleaned, executed code; for an array of strings the canonical
 * JSON is JSON.stringify's).
 */
export function rowId(params: { dataset: string; taskId: string; code: string }): string {
  return createHash("sha256")
    .update(JSON.stringify([params.dataset, params.taskId, params.code]))
    .digest("hex")
    .slice(0, 32);
}

const TIMESTAMP = /(?:^|\/)(\d{8}_\d{6})[^/]*$/;

/** The run's timestamp a log file's name starts with, or null. */
export const runTimestampOf = (source: string) => TIMESTAMP.exec(source)?.[1] ?? null;
