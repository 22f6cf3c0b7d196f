import { pairMode, type BuildOptions } from "../schemas/build-options.js";
import { seededShuffle } from "../pipeline/engine/seeded-shuffle.js";
import { defineSource, defineStage, type StageOutput } from "../pipeline/engine/stage.js";
import type { Row } from "../schemas/program.js";

export type TaskGroup = "correct" | "incorrect";

/** What balance and split need of a task: no row, only its count and group. */
export interface TaskSummary {
  taskKey: string;
  taskId: string;
  rows: number;
  /** "correct" when ANY of its rows gets a train output right. */
  group: TaskGroup;
}

/** Each task's summary, from its rows, in order of first appearance. */
export function summariseRows(rows: Row[]): TaskSummary[] {
  const tasks = new Map<string, TaskSummary>();
  for (const row of rows) {
    const entry = tasks.get(row.taskKey) ?? { taskKey: row.taskKey, taskId: row.taskId, rows: 0, group: "incorrect" as TaskGroup };
    entry.rows++;
    if (row.correctTrain.some(Boolean)) entry.group = "correct";
    tasks.set(row.taskKey, entry);
  }
  return [...tasks.values()];
}

/** The global stages' source: one summary per task that kept rows. */
export const TASK_SUMMARIES = defineSource<never, { tasks: TaskSummary[] }>("tasks");

/** What balance decided: the whole tasks it dropped. */
export interface BalanceData {
  droppedTasks: string[];
}

/**
 * With a validation split: drop whole tasks (seeded) from the larger group until both are equal.
 * When one group is empty, nothing is dropped (counted as balance_skipped_empty_group). Works on
 * task summaries: each dropped task's rows are recorded as balance_task_dropped when fates are written.
 */
export const balanceStage = defineStage<BuildOptions, never, never, BalanceData>({
  name: "balance",
  version: 2,
  sides: [TASK_SUMMARIES],
  summary: ({ report: { counts }, options }) => [
    counts.tasks_correct !== undefined
      ? `balance: tasks correct ${counts.tasks_correct}, incorrect ${counts.tasks_incorrect}, dropped ${counts.tasks_dropped}` +
        (counts.balance_skipped_empty_group ? " (skipped: one group is empty)" : "")
      : !options.validation
        ? "balance: off (no validation split)"
        : options.recipe
          ? "balance: off (a recipe's rows are balanced only with --balance)"
          : pairMode(options)
            ? "balance: off (refinement pairs are split without balancing)"
            : "balance: off (--no-balance)",
  ],
  key: (options) => ({
    validation: options.validation,
    seed: options.validation ? options.seed : null,
    ...((options.recipe && !options.balance) || pairMode(options) || options.balance === false ? { unbalanced: true } : {}),
  }),
  async run({ options, upstream }): Promise<StageOutput<never, BalanceData>> {
    const tasks = upstream.side(TASK_SUMMARIES).data.tasks;
    const total = tasks.reduce((n, t) => n + t.rows, 0);
    // A recipe's rows are what its author chose: balanced only when asked (--balance).
    // Refinement pairs are split by task without balancing.
    if (!options.validation || (options.recipe && !options.balance) || pairMode(options) || options.balance === false)
      return { records: [], kept: total, drops: [], data: { droppedTasks: [] } satisfies BalanceData };
    const keysIn = (group: TaskGroup) =>
      tasks
        .filter((t) => t.group === group)
        .map((t) => t.taskKey)
        .sort();
    const correct = keysIn("correct");
    const incorrect = keysIn("incorrect");
    const [larger, smaller] = correct.length >= incorrect.length ? [correct, incorrect] : [incorrect, correct];
    if (smaller.length === 0) {
      // Balancing against an empty group would drop every task: keep them all and say so.
      return {
        records: [],
        kept: total,
        drops: [],
        data: { droppedTasks: [] } satisfies BalanceData,
        counts: { tasks_correct: correct.length, tasks_incorrect: incorrect.length, tasks_dropped: 0, balance_skipped_empty_group: 1 },
      };
    }
    const dropped = new Set(seededShuffle(larger, options.seed, (k) => k).slice(smaller.length));
    const droppedRows = tasks.filter((t) => dropped.has(t.taskKey)).reduce((n, t) => n + t.rows, 0);
    return {
      records: [],
      kept: total - droppedRows,
      drops: [],
      ...(droppedRows ? { dropped: { balance_task_dropped: droppedRows } } : {}),
      data: { droppedTasks: [...dropped].sort() } satisfies BalanceData,
      counts: { tasks_correct: correct.length, tasks_incorrect: incorrect.length, tasks_dropped: dropped.size },
    };
  },
});
