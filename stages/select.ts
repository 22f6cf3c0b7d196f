import type { BuildOptions, Selection } from "../schemas/build-options.js";
import { seededShuffle } from "../pipeline/engine/seeded-shuffle.js";
import { defineStage, type StageOutput } from "../pipeline/engine/stage.js";
import type { Drop } from "../schemas/drop.js";
import type { Row } from "../schemas/program.js";
import { stableOrder } from "./dedup.js";
import type { TaskGroup } from "./balance.js";

const mean = (values: boolean[]) => (values.length ? values.filter(Boolean).length / values.length : 0);
/** SOAR's score: train correctness plus 1.1 x test correctness. */
const soarScore = (row: Row) => mean(row.correctTrain) + 1.1 * mean(row.correctTest);
const byBest = (a: Row, b: Row) => soarScore(b) - soarScore(a) || a.code.length - b.code.length || stableOrder(a, b);

/** A per-task seed, so tasks are not shuffled in lockstep. */
function taskSeed(seed: number, taskKey: string): number {
  let h = 2166136261 ^ seed;
  for (let i = 0; i < taskKey.length; i++) h = Math.imul(h ^ taskKey.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * At most `max` of one task's rows. best: by SOAR's score (train + 1.1 x test correctness), then
 * shorter code. random: a seeded sample. greedy-diverse (SOAR): half the budget the best, the other
 * half programs whose train outputs differ from every one already chosen, drawn (seeded) from those
 * with at most half their train outputs right; what is left of the budget goes to the next best.
 */
export function selectTask(params: { rows: Row[]; max: number; strategy: Selection; seed: number; taskKey: string }): Row[] {
  const { rows, max, strategy } = params;
  if (rows.length <= max) return rows;
  const seed = taskSeed(params.seed, params.taskKey);
  if (strategy === "random") return seededShuffle(rows, seed, (r) => r.id).slice(0, max);
  const best = [...rows].sort(byBest);
  if (strategy === "best") return best.slice(0, max);
  const chosen = best.slice(0, Math.ceil(max / 2));
  const outputs = new Set(chosen.map((r) => JSON.stringify(r.predictedTrain)));
  const candidates = seededShuffle(
    rows.filter((r) => !chosen.includes(r) && mean(r.correctTrain) <= 0.5),
    seed,
    (r) => r.id,
  );
  for (const row of candidates) {
    if (chosen.length >= max) break;
    const behaviour = JSON.stringify(row.predictedTrain);
    if (outputs.has(behaviour)) continue;
    outputs.add(behaviour);
    chosen.push(row);
  }
  for (const row of best) {
    if (chosen.length >= max) break;
    if (!chosen.includes(row)) chosen.push(row);
  }
  return chosen;
}

/** What later steps need of the selected rows without reading them: how many, how many solve the test, the group. */
export interface SelectSummary {
  rows: number;
  solved: number;
  group: TaskGroup | null;
}

function summaryOf(rows: Row[]): SelectSummary {
  return {
    rows: rows.length,
    solved: rows.filter((r) => r.solvesTest).length,
    group: rows.length === 0 ? null : rows.some((r) => r.correctTrain.some(Boolean)) ? "correct" : "incorrect",
  };
}

/** Per-task selection after dedup (--max-per-task N --select ...); deterministic under --seed. */
export const selectStage = defineStage<BuildOptions, Row, Row, SelectSummary>({
  name: "select",
  version: 2,
  selects: true,
  summary: ({ report }) =>
    report.dropped.over_task_budget
      ? [`per-task selection: ${report.dropped.over_task_budget} programs over budget in ${report.counts.tasks_trimmed ?? 0} tasks`]
      : [],
  key: (options) => (options.maxPerTask ? { max: options.maxPerTask, strategy: options.select, seed: options.seed } : { max: null }),
  async run({ options, upstream }): Promise<StageOutput<Row, SelectSummary>> {
    const rows = upstream.input.records;
    const max = options.maxPerTask;
    if (!max) return { records: rows, drops: [], data: summaryOf(rows) };
    const byTask = new Map<string, Row[]>();
    for (const row of rows) {
      const list = byTask.get(row.taskKey);
      if (list) list.push(row);
      else byTask.set(row.taskKey, [row]);
    }
    const kept = new Set<string>();
    for (const [taskKey, taskRows] of byTask)
      for (const row of selectTask({ rows: taskRows, max, strategy: options.select, seed: options.seed, taskKey })) kept.add(row.id);
    const drops: Drop[] = rows
      .filter((r) => !kept.has(r.id))
      .map((r) => ({ id: r.id, reason: "over_task_budget", detail: `${options.select} kept ${max} of its task's programs`, taskId: r.taskId }));
    const records = rows.filter((r) => kept.has(r.id));
    return { records, drops, data: summaryOf(records), counts: { tasks_trimmed: [...byTask.values()].filter((t) => t.length > max).length } };
  },
});
