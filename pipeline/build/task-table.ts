import type { Program, Row } from "../../schemas/program.js";
import type { Attempt } from "../../schemas/run-log.js";
import type { SplitRow } from "../../stages/split.js";
import type { StageResults } from "../engine/run-stages.js";

/** One line of tasks.jsonl: what became of one task's programs. */
export interface TaskLine {
  dataset: string;
  task: string;
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
}

/** The per-task table, sorted by dataset and task; tasks with no program executed are listed too. */
export function taskTable(params: { results: StageResults; rows: SplitRow[] }): TaskLine[] {
  const lines = new Map<string, TaskLine>();
  const line = (dataset: string, task: string) => {
    const key = `${dataset}/${task}`;
    let found = lines.get(key);
    if (!found) lines.set(key, (found = { dataset, task, read: 0, executed: 0, kept: 0, solved: 0, group: null, split: "dropped" }));
    return found;
  };
  for (const a of [...params.results.records<Attempt>("read-logs"), ...params.results.records<Attempt>("read-datasets")]) line(a.dataset, a.taskId).read++;
  for (const p of params.results.records<Program>("filter-transductive")) line(p.dataset, p.taskId).executed++;
  for (const r of params.results.records<Row>("select")) {
    const entry = line(r.dataset, r.taskId);
    if (r.correctTrain.some(Boolean)) entry.group = "correct";
    else entry.group ??= "incorrect";
  }
  for (const r of params.rows) {
    const entry = line(r.dataset, r.taskId);
    entry.kept++;
    if (r.solvesTest) entry.solved++;
    entry.split = r.split;
  }
  return [...lines.values()].sort((a, b) => (a.dataset === b.dataset ? (a.task < b.task ? -1 : 1) : a.dataset < b.dataset ? -1 : 1));
}

/** Three lines for the card. */
export function summariseTasks(lines: TaskLine[]): string[] {
  const count = (test: (l: TaskLine) => boolean) => lines.filter(test).length;
  return [
    `tasks: ${lines.length} with programs; ${count((l) => l.kept > 0)} with rows (train ${count((l) => l.split === "train")}, validation ${count((l) => l.split === "validation")}); ${count((l) => l.solved > 0)} with a test-solving row`,
    `groups: ${count((l) => l.group === "correct")} correct (a row gets a train output right), ${count((l) => l.group === "incorrect")} incorrect`,
    "per task: tasks.jsonl (dataset, task, read, executed, kept, solved, group, split)",
  ];
}
