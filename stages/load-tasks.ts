import type { ArcTask } from "../schemas/task.js";
import type { Program } from "../schemas/program.js";
import type { Attempt } from "../schemas/run-log.js";
import type { BuildOptions } from "../schemas/build-options.js";
import { loadTask, readTaskFile } from "../pipeline/sources/load-task.js";
import type { Stage, StageOutput } from "../pipeline/engine/stage.js";
import { sha256 } from "./read-logs.js";
import { type Drop } from "../schemas/drop.js";

export type TaskTable = Record<string, ArcTask>;


/** Binds every attempt to its ARC task: an embedded task (a log's task_data, a flat row's grids) first, else the task folder. */
export const loadTasksStage: Stage<BuildOptions> = {
  name: "load-tasks",
  version: 4,
  selects: true,
  after: ["read-logs", "read-datasets"],
  async key(options, upstream) {
    const keys = [...new Set(["read-logs", "read-datasets"].flatMap((name) => (upstream[name]!.data as { taskKeys: string[] }).taskKeys))].sort();
    const digests: [string, string | null][] = [];
    for (const key of keys) {
      const [dataset, taskId] = key.split("/") as [string, string];
      const file = options.tasks ? await readTaskFile({ root: options.tasks, dataset, taskId }).catch(() => null) : null;
      digests.push([key, file ? sha256(file.bytes) : null]);
    }
    return { tasks: digests };
  },
  async run({ options, upstream }): Promise<StageOutput<Program>> {
    const attempts = [...(upstream["read-logs"]!.records as Attempt[]), ...(upstream["read-datasets"]!.records as Attempt[])];
    const tasks: TaskTable = {};
    for (const name of ["read-datasets", "read-logs"]) Object.assign(tasks, (upstream[name]!.data as { embedded?: TaskTable }).embedded ?? {});
    const missing = new Map<string, string>();
    for (const attempt of attempts) {
      const key = attempt.taskKey;
      if (tasks[key] || missing.has(key)) continue;
      if (!options.tasks) {
        missing.set(key, "the log embeds no task_data and no --tasks folder was given");
        continue;
      }
      try {
        const found = await loadTask({ root: options.tasks, dataset: attempt.dataset, taskId: attempt.taskId });
        if (found) tasks[key] = found.task;
        else missing.set(key, `not in ${options.tasks}/${attempt.dataset}/{training,evaluation}`);
      } catch (error) {
        missing.set(key, (error as Error).message);
      }
    }
    const records: Program[] = [];
    const drops: Drop[] = [];
    for (const attempt of attempts) {
      const key = attempt.taskKey;
      if (tasks[key]) records.push(attempt);
      else drops.push({ id: attempt.id, reason: "task_not_found", detail: missing.get(key), taskId: attempt.taskId });
    }
    return { records, drops, data: { tasks } };
  },
};
