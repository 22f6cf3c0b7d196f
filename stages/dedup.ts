import { pairMode, tableMode, type BuildOptions } from "../schemas/build-options.js";
import { defineStage, type StageOutput } from "../pipeline/engine/stage.js";
import type { Row } from "../schemas/program.js";
import type { Drop } from "../schemas/drop.js";

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
 * Within each task: test-solving programs are duplicates when their cleaned code is the same;
 * the others when they behave the same (identical outputs on every train input).
 */
export function dedupRows(rows: Row[]): { kept: Row[]; drops: Drop[]; counts: Record<string, number> } {
  const seen = new Map<string, string>();
  const kept: Row[] = [];
  const drops: Drop[] = [];
  const counts = { kept_test_solving: 0, kept_other: 0, duplicate_code: 0, duplicate_behaviour: 0 };
  for (const row of [...rows].sort(stableOrder)) {
    const key = row.solvesTest ? `${row.taskKey}\0code\0${row.code}` : `${row.taskKey}\0behaviour\0${JSON.stringify(row.predictedTrain)}`;
    const first = seen.get(key);
    if (first) {
      const reason = row.solvesTest ? "duplicate_code" : "duplicate_behaviour";
      counts[reason]++;
      drops.push({ id: row.id, reason, detail: `same as ${first}`, taskId: row.taskId });
      continue;
    }
    seen.set(key, row.id);
    kept.push(row);
    if (row.solvesTest) counts.kept_test_solving++;
    else counts.kept_other++;
  }
  return { kept, drops, counts };
}

/**
 * The verified program table (--format programs): one row per (task, cleaned code), the first copy
 * by the total order; the other copies are dropped as `copy` of it, test-solving or not.
 */
export function programTable(rows: Row[]): { kept: Row[]; drops: Drop[]; counts: Record<string, number> } {
  const first = new Map<string, string>();
  const kept: Row[] = [];
  const drops: Drop[] = [];
  for (const row of [...rows].sort(stableOrder)) {
    const seen = first.get(row.code);
    if (seen) drops.push({ id: row.id, reason: "copy", detail: `same code as ${seen}`, taskId: row.taskId });
    else {
      first.set(row.code, row.id);
      kept.push(row);
    }
  }
  return { kept, drops, counts: { programs: kept.length, copies: drops.length } };
}

export const dedupStage = defineStage<BuildOptions, Row, Row, undefined>({
  name: "dedup",
  version: 2,
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
    if (pairMode(options)) return { records: [...rows].sort(stableOrder), drops: [], counts: { pair_candidates: rows.length } };
    if (tableMode(options)) {
      const { kept, drops, counts } = programTable(rows);
      return { records: kept, drops, counts };
    }
    if (!options.dedup) return { records: [...rows].sort(stableOrder), drops: [], counts: { dedup_disabled: rows.length } };
    const { kept, drops, counts } = dedupRows(rows);
    return { records: kept, drops, counts };
  },
});
