import type { BuildRun } from "./build-run.js";
import { splitOf } from "./task-rows.js";
import type { TaskLine } from "../../schemas/build-manifest.js";

/** The per-task table, sorted by dataset and task; tasks with no program executed are listed too. */
export function taskTable(run: BuildRun): TaskLine[] {
  return run.tasks
    .filter((t) => t.read > 0)
    .map((t): TaskLine => {
      const split = splitOf(run, t);
      const written = split !== "dropped";
      const c = t.contamination;
      const marks = c ? { contamination: c.kind, ...(c.matched ? { matched: c.matched, shared: c.shared } : {}) } : {};
      return {
        dataset: t.dataset,
        task_id: t.taskId,
        read: t.read,
        executed: t.executed,
        kept: written ? t.selected.rows : 0,
        solved: written ? t.selected.solved : 0,
        group: t.selected.group,
        split,
        ...marks,
      };
    })
    .sort((a, b) => (a.dataset === b.dataset ? (a.task_id < b.task_id ? -1 : 1) : a.dataset < b.dataset ? -1 : 1));
}

/** Three lines for the card. */
export function summariseTasks(lines: TaskLine[]): string[] {
  const count = (test: (l: TaskLine) => boolean) => lines.filter(test).length;
  return [
    `tasks: ${lines.length} with programs; ${count((l) => l.kept > 0)} with rows (train ${count((l) => l.split === "train")}, validation ${count((l) => l.split === "validation")}); ${count((l) => l.solved > 0)} with a test-solving row`,
    `groups: ${count((l) => l.group === "correct")} correct (a row gets a train output right), ${count((l) => l.group === "incorrect")} incorrect`,
    "per task: tasks.jsonl (dataset, task_id, read, executed, kept, solved, group, split)",
  ];
}
