import type { ArcTask } from "../schemas/task.js";
import type { Program } from "../schemas/program.js";
import type { Attempt } from "../schemas/run-log.js";
import type { BuildOptions } from "../schemas/build-options.js";
import { loadTask, readTaskFile } from "../pipeline/sources/load-task.js";
import type { Stage, StageOutput } from "../pipeline/engine/stage.js";
import { sha256 } from "../pipeline/common/sha256.js";
import { type Drop } from "../schemas/drop.js";

export type TaskTable = Record<string, ArcTask>;

/** What the task stages' source hands on besides the attempts: which task, and its embedded copy if any. */
export interface TaskSourceData {
  taskKey: string;
  dataset: string;
  taskId: string;
  embedded: boolean;
  /** The embedded task; reads the task's shards. */
  embeddedTask: () => ArcTask | undefined;
}

/**
 * Binds one task's attempts to the task: an embedded task (a log's task_data, a flat row's grids)
 * first, else the task folder. Runs once per task shard.
 */
export const loadTasksStage: Stage<BuildOptions> = {
  name: "load-tasks",
  version: 5,
  selects: true,
  after: ["attempts"],
  async key(options, upstream) {
    const { taskKey, dataset, taskId, embedded } = upstream.attempts!.data as TaskSourceData;
    // An embedded task is part of the shard, whose digest is already in the upstream key.
    if (embedded) return { task: "embedded" };
    const file = options.tasks ? await readTaskFile({ root: options.tasks, dataset, taskId }).catch(() => null) : null;
    return { task: [taskKey, file ? sha256(file.bytes) : null] };
  },
  async run({ options, upstream }): Promise<StageOutput<Program>> {
    const attempts = upstream.attempts!.records as Attempt[];
    const source = upstream.attempts!.data as TaskSourceData;
    const { task, missing } = await findTask({ source, root: options.tasks });
    if (task) return { records: attempts, drops: [], data: { tasks: { [source.taskKey]: task } } };
    const drops: Drop[] = attempts.map((a) => ({ id: a.id, reason: "task_not_found", detail: missing, taskId: a.taskId }));
    return { records: [], drops, data: { tasks: {} } };
  },
};

async function findTask(params: { source: TaskSourceData; root?: string }): Promise<{ task?: ArcTask; missing?: string }> {
  const { source, root } = params;
  const embedded = source.embedded ? source.embeddedTask() : undefined;
  if (embedded) return { task: embedded };
  if (!root) return { missing: "the log embeds no task_data and no --tasks folder was given" };
  try {
    const found = await loadTask({ root, dataset: source.dataset, taskId: source.taskId });
    return found ? { task: found.task } : { missing: `not in ${root}/${source.dataset}/{training,evaluation}` };
  } catch (error) {
    return { missing: (error as Error).message };
  }
}
