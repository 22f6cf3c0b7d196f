import type { Drop } from "../../schemas/drop.js";
import type { Row } from "../../schemas/program.js";
import type { ArcTask } from "../../schemas/task.js";
import { stableOrder } from "../../stages/dedup.js";
import type { TaskTable } from "../../stages/load-tasks.js";
import type { SplitName } from "../../stages/split.js";
import { StageRecords } from "../engine/stage-records.js";
import type { StageStore } from "../store/stage-store.js";
import { TASK_STAGES } from "./build-stages.js";
import type { BuildRun } from "./run-build.js";
import { taskContent, taskSource, type TaskRun } from "./run-task-stages.js";

const AFTER = new Map(TASK_STAGES.map((s) => [s.name, s.after]));

/** Where a task's rows went: a split, or nowhere (no rows, or balance dropped the task). */
export function splitOf(run: BuildRun, task: TaskRun): SplitName | "dropped" {
  if (task.selected.rows === 0 || run.droppedTasks.has(task.taskKey)) return "dropped";
  return run.validationTasks.has(task.taskKey) ? "validation" : "train";
}

/** A task's stage outputs, read back from the stage store (this build wrote or found every one). */
function reader(params: { store: StageStore; task: TaskRun }) {
  const { store, task } = params;
  const meta = (stage: string) => store.readMeta(stage, task.keys[stage]!, true)!;
  return { meta, records: new StageRecords({ store, keys: task.keys, after: (name) => AFTER.get(name)!, meta, sources: { attempts: taskSource(task) } }) };
}

/** A task and its selected rows, in output order (the order "first" means). */
export function taskRows(params: { store: StageStore; task: TaskRun }): { task: ArcTask; rows: Row[] } {
  const { meta, records } = reader(params);
  const tasks = (meta("load-tasks").data as { tasks: TaskTable }).tasks;
  return { task: tasks[params.task.taskKey]!, rows: [...records.get<Row>("select")].sort(stableOrder) };
}

export interface Fate {
  id: string;
  taskId?: string;
  fate: string;
  stage?: string;
  detail?: string;
  provenance?: { source: string; revision?: string; split: string; row: number };
}

/**
 * What became of each of a task's attempts, by id: dropped at reading, by a task stage or with its
 * task by balance, or kept in a split. `read` lists every attempt id the readers saw, to check
 * that each has exactly one fate.
 */
export function taskFates(params: { store: StageStore; run: BuildRun; task: TaskRun }): { fates: Fate[]; read: string[] } {
  const { task } = params;
  const content = taskContent(task.shards)();
  const drops: (Drop & { stage: string })[] = [...content.drops];
  const fates: Fate[] = [];
  const split = splitOf(params.run, task);
  if (task.read > 0) {
    const { meta } = reader(params);
    for (const stage of TASK_STAGES) drops.push(...meta(stage.name).drops.map((d) => ({ ...d, stage: stage.name })));
    const selected = meta("select").selected ?? [];
    for (const id of selected) {
      if (split === "dropped") drops.push({ id, reason: "balance_task_dropped", detail: `${task.selected.group} group larger`, taskId: task.taskId, stage: "balance" });
      else fates.push({ id, taskId: task.taskId, fate: `kept:${split}` });
    }
  }
  for (const d of drops) fates.push({ id: d.id, ...(d.taskId ? { taskId: d.taskId } : {}), fate: d.reason, stage: d.stage, ...(d.detail ? { detail: d.detail } : {}) });
  fates.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { fates, read: [...content.attempts.map((a) => a.id), ...content.drops.map((d) => d.id)] };
}
