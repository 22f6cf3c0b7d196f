import type { BuildOptions } from "../schemas/build-options.js";
import { seededShuffle } from "../pipeline/engine/seeded-shuffle.js";
import type { Stage, StageOutput } from "../pipeline/engine/stage.js";
import type { Row } from "../schemas/program.js";
import { type Drop } from "../schemas/drop.js";

export type TaskGroup = "correct" | "incorrect";

/** Rows by task, and each task's group: "correct" when ANY of its rows gets a train output right. */
export function groupTasks(rows: Row[]): Map<string, { group: TaskGroup; rows: Row[] }> {
  const tasks = new Map<string, { group: TaskGroup; rows: Row[] }>();
  for (const row of rows) {
    const entry = tasks.get(row.taskKey) ?? { group: "incorrect" as TaskGroup, rows: [] };
    entry.rows.push(row);
    if (row.correctTrain.some(Boolean)) entry.group = "correct";
    tasks.set(row.taskKey, entry);
  }
  return tasks;
}

/** The keys of a group's tasks, sorted. */
export function taskKeysIn(tasks: ReturnType<typeof groupTasks>, group: TaskGroup): string[] {
  return [...tasks].filter(([, t]) => t.group === group).map(([key]) => key).sort();
}

/**
 * With a validation split: drop whole tasks (seeded) from the larger group until both are equal.
 * When one group is empty, nothing is dropped (counted as balance_skipped_empty_group).
 */
export const balanceStage: Stage<BuildOptions> = {
  name: "balance",
  version: 1,
  selects: true,
  after: ["select"],
  key: (options) => ({ validation: options.validation, seed: options.validation ? options.seed : null }),
  async run({ options, upstream }): Promise<StageOutput<Row>> {
    const rows = upstream.select!.records as Row[];
    if (!options.validation) return { records: rows, drops: [] };
    const tasks = groupTasks(rows);
    const correct = taskKeysIn(tasks, "correct");
    const incorrect = taskKeysIn(tasks, "incorrect");
    const [larger, smaller] = correct.length >= incorrect.length ? [correct, incorrect] : [incorrect, correct];
    if (smaller.length === 0) {
      // Balancing against an empty group would drop every task: keep them all and say so.
      return { records: rows, drops: [], counts: { tasks_correct: correct.length, tasks_incorrect: incorrect.length, tasks_dropped: 0, balance_skipped_empty_group: 1 } };
    }
    const dropped = new Set(seededShuffle(larger, options.seed, (k) => k).slice(smaller.length));
    const drops: Drop[] = [];
    for (const key of [...dropped].sort()) {
      for (const row of tasks.get(key)!.rows) drops.push({ id: row.id, reason: "balance_task_dropped", detail: `${tasks.get(key)!.group} group larger`, taskId: row.taskId });
    }
    return {
      records: rows.filter((r) => !dropped.has(r.taskKey)),
      drops,
      counts: { tasks_correct: correct.length, tasks_incorrect: incorrect.length, tasks_dropped: dropped.size },
    };
  },
};
