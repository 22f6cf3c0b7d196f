import { pairMode, tableMode, type BuildOptions } from "../schemas/build-options.js";
import { defineStage, type StageOutput } from "../pipeline/engine/stage.js";
import type { Row } from "../schemas/program.js";
import type { Drop } from "../schemas/drop.js";
import { dropWeight, expandTwins } from "../schemas/twins.js";

const compare = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
const fileName = (logFile: string) => logFile.slice(logFile.lastIndexOf("/") + 1);

/**
 * The one total order "first" means: generation, then log file name (a timestamp, so time), then
 * attempt number, then the file's relative path. Never completion order, never the order of flags.
 */
export function stableOrder(a: Row, b: Row): number {
  return (
    a.generation - b.generation ||
    compare(fileName(a.logFile), fileName(b.logFile)) ||
    a.attemptNumber - b.attemptNumber ||
    compare(a.logFile, b.logFile) ||
    compare(a.id, b.id)
  );
}

/**
 * Keeps the first row of each key by the total order and drops the others as `reason` of it. A
 * row's twins come after it in that order: they are dropped with it, or as copies of it when it is kept.
 */
function firstOfEach(params: { rows: Row[]; key: (row: Row) => string; reason: (row: Row) => string; detail: (first: string) => string }) {
  const seen = new Map<string, string>();
  const kept: Row[] = [];
  const drops: Drop[] = [];
  const dropped: Record<string, number> = {};
  for (const row of [...params.rows].sort(stableOrder)) {
    const key = params.key(row);
    const first = seen.get(key);
    const reason = params.reason(row);
    const { twins, ...one } = row;
    if (first === undefined) {
      seen.set(key, row.id);
      // The row itself when it has no twins: a selection of it reads back as it is.
      kept.push(twins ? one : row);
    }
    if (first === undefined && !twins) continue;
    const drop: Drop = {
      id: row.id,
      reason,
      detail: params.detail(first ?? row.id),
      taskId: row.taskId,
      ...(twins ? { twins } : {}),
      ...(first === undefined ? { twinsOnly: true as const } : {}),
    };
    drops.push(drop);
    dropped[reason] = (dropped[reason] ?? 0) + dropWeight(drop);
  }
  return { kept, drops, dropped };
}

/**
 * Within each task: test-solving programs are duplicates when their cleaned code is the same;
 * the others when they behave the same (identical outputs on every train input).
 */
export function dedupRows(rows: Row[]): { kept: Row[]; drops: Drop[]; counts: Record<string, number> } {
  const { kept, drops, dropped } = firstOfEach({
    rows,
    key: (row) => (row.solvesTest ? `${row.taskKey}\0code\0${row.code}` : `${row.taskKey}\0behaviour\0${JSON.stringify(row.predictedTrain)}`),
    reason: (row) => (row.solvesTest ? "duplicate_code" : "duplicate_behaviour"),
    detail: (first) => `same as ${first}`,
  });
  const solving = kept.filter((r) => r.solvesTest).length;
  const counts = {
    kept_test_solving: solving,
    kept_other: kept.length - solving,
    duplicate_code: dropped.duplicate_code ?? 0,
    duplicate_behaviour: dropped.duplicate_behaviour ?? 0,
  };
  return { kept, drops, counts };
}

/**
 * The verified program table (--format programs): one row per (task, cleaned code), the first copy
 * by the total order; the other copies are dropped as `copy` of it, test-solving or not.
 */
export function programTable(rows: Row[]): { kept: Row[]; drops: Drop[]; counts: Record<string, number> } {
  const { kept, drops, dropped } = firstOfEach({ rows, key: (row) => row.code, reason: () => "copy", detail: (first) => `same code as ${first}` });
  return { kept, drops, counts: { programs: kept.length, copies: dropped.copy ?? 0 } };
}

/** Every row and every twin as a row of its own, in the total order. */
function everyCopy(rows: Row[]): { records: Row[]; newRecords?: true } {
  const records = expandTwins(rows).sort(stableOrder);
  return records.length > rows.length ? { records, newRecords: true } : { records };
}

/**
 * A task that keeps at most half of its rows (most at scale: 1,260 of 69,986 rows at 10^5
 * attempts) is stored as records of its own, not as a selection of its input's: the writer then
 * reads those rows, not every relabelled row of the task, in every rebuild after dedup. (A kept row
 * that lost its twins is stored whole by the engine: it is not its input's row.)
 */
const storedWhole = (params: { kept: Row[]; read: number }) => params.kept.length * 2 <= params.read;

export const dedupStage = defineStage<BuildOptions, Row, Row, undefined>({
  name: "dedup",
  version: 3,
  selects: true,
  summary: ({ report: { counts } }) => [
    counts.programs !== undefined
      ? `program table: ${counts.programs} programs (one per task and cleaned code; ${counts.copies ?? 0} copies)`
      : counts.dedup_disabled !== undefined
        ? `dedup: off (${counts.dedup_disabled} rows)`
        : `dedup: kept ${counts.kept_test_solving ?? 0} test-solving (duplicate code ${counts.duplicate_code ?? 0}), ${counts.kept_other ?? 0} others (duplicate behaviour ${counts.duplicate_behaviour ?? 0})`,
  ],
  key: (options) => ({ dedup: options.dedup, ...(tableMode(options) ? { table: true } : {}), ...(pairMode(options) ? { pairs: "candidates" } : {}) }),
  async run({ options, upstream }): Promise<StageOutput<Row, undefined>> {
    const rows = upstream.input.records;
    // Refinement pairs draw from every verified program: the pair stage deduplicates pairs.
    if (pairMode(options)) {
      const every = everyCopy(rows);
      return { ...every, drops: [], counts: { pair_candidates: every.records.length } };
    }
    if (!options.dedup && !tableMode(options)) {
      const every = everyCopy(rows);
      return { ...every, drops: [], counts: { dedup_disabled: every.records.length } };
    }
    const { kept, drops, counts } = tableMode(options) ? programTable(rows) : dedupRows(rows);
    return { records: kept, drops, counts, ...(storedWhole({ kept, read: rows.length }) ? { newRecords: true } : {}) };
  },
});
