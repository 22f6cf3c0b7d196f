import { basename, dirname } from "node:path";
import { taskDifference, type ArcTask } from "../schemas/task.js";
import type { Program } from "../schemas/program.js";
import type { Attempt } from "../schemas/run-log.js";
import type { Twins } from "../schemas/twins.js";
import type { BuildOptions } from "../schemas/build-options.js";
import { loadTask, readTaskFile } from "../pipeline/sources/load-task.js";
import { defineSource, defineStage, type StageOutput } from "../pipeline/engine/stage.js";
import { sha256 } from "../pipeline/common/sha256.js";
import type { Drop } from "../schemas/drop.js";
import { countList } from "../pipeline/common/count-list.js";

export type TaskTable = Record<string, ArcTask>;

/** What the task stages' source hands on besides the attempts: which task, and the tasks its inputs embedded. */
export interface TaskSourceData {
  taskKey: string;
  dataset: string;
  taskId: string;
  embedded: boolean;
  /** The tasks the inputs embedded, by digest (attempts name theirs); reads the task's shards. */
  embeddedTasks: () => Record<string, ArcTask>;
  foreignParents?: Record<string, string>;
  /** What --against sources hold of this task: shard digests, and their attempts when read. */
  against?: { shards: string[]; attempts: () => Attempt[] };
}

/** The task stages' source: one task's attempts, read from its shards. */
export const ATTEMPTS = defineSource<Attempt, TaskSourceData>("attempts");

/** load-tasks' data: the task the programs are judged against, and whether it came from the inputs alone. */
export interface LoadedTask {
  tasks: TaskTable;
  /** The task was taken on trust: no task file held it, so the one task its inputs embedded was used. */
  trusted?: boolean;
  /** The folder of the task file that held it (training, evaluation). */
  split?: string;
  /** Attempts whose refined_from_id names a row of another task, with that task (--pairs refined). */
  foreignParents?: Record<string, string>;
  /** The twins of the attempts it matched, by id (its drops carry their own): every attempt's fate is accounted for. */
  twins?: Record<string, Twins>;
}

/** The data, with the twins of the records handed on. */
function withTwinsOf(records: Attempt[], data: LoadedTask): LoadedTask {
  const twins = Object.fromEntries(records.flatMap((r) => (r.twins ? [[r.id, r.twins]] : [])));
  return Object.keys(twins).length ? { ...data, twins } : data;
}

/**
 * Binds one task's attempts to the task. The task file (--tasks) is the authority: an attempt
 * whose input embedded a task that differs from it is dropped as task_mismatch, and no embedded
 * task ever labels another attempt. Without a task file the embedded task is used, taken on trust,
 * unless the inputs embed different tasks: then every attempt that embedded one is task_conflict.
 */
export const loadTasksStage = defineStage<BuildOptions, Attempt, Program, LoadedTask>({
  name: "load-tasks",
  version: 8,
  selects: true,
  sides: [ATTEMPTS],
  summary: ({ report }) => [`tasks: ${report.kept} programs matched to their task (dropped: ${countList(report.dropped)})`],
  async key(options, upstream) {
    const { taskKey, dataset, taskId, foreignParents } = upstream.side(ATTEMPTS).data;
    // Embedded tasks are part of the shard, whose digest is already in the upstream key.
    const file = options.tasks ? await readTaskFile({ root: options.tasks, dataset, taskId }).catch(() => null) : null;
    // A missing task's reason names the folder searched: that folder is part of what the output depends on.
    return {
      task: [taskKey, file ? sha256(file.bytes) : null],
      ...(file ? {} : { searched: options.tasks ?? null }),
      ...(foreignParents ? { foreignParents } : {}),
    };
  },
  async run({ options, upstream }): Promise<StageOutput<Program, LoadedTask>> {
    const attempts = upstream.input.records;
    const source = upstream.side(ATTEMPTS).data;
    const embedded = source.embedded ? source.embeddedTasks() : {};
    const { file, missing } = await taskFile({ source, root: options.tasks });
    const foreign = source.foreignParents ? { foreignParents: source.foreignParents } : {};
    const drops: Drop[] = [];
    const drop = (a: Attempt, reason: string, detail: string) => drops.push({ id: a.id, reason, detail, taskId: a.taskId });
    if (file) {
      const differs = new Map(Object.entries(embedded).map(([digest, task]) => [digest, taskDifference({ embedded: task, file: file.task })]));
      const records = attempts.filter((a) => {
        const difference = a.taskDigest ? differs.get(a.taskDigest) : null;
        if (difference) drop(a, "task_mismatch", `the task in ${a.logFile} does not match ${file.path}: ${difference}`);
        return !difference;
      });
      return { records, drops, data: withTwinsOf(records, { tasks: { [source.taskKey]: file.task }, split: basename(dirname(file.path)), ...foreign }) };
    }
    const digests = Object.keys(embedded);
    if (digests.length === 1)
      return { records: attempts, drops: [], data: withTwinsOf(attempts, { tasks: { [source.taskKey]: embedded[digests[0]!]! }, trusted: true, ...foreign }) };
    for (const a of attempts) {
      if (digests.length > 1 && a.taskDigest)
        drop(a, "task_conflict", `the inputs embed ${digests.length} different versions of ${source.taskKey} and no task file settles it (${missing})`);
      else drop(a, "task_not_found", missing ?? "no task");
    }
    return { records: [], drops, data: { tasks: {} } satisfies LoadedTask };
  },
});

async function taskFile(params: { source: TaskSourceData; root?: string }): Promise<{ file?: { task: ArcTask; path: string }; missing?: string }> {
  const { source, root } = params;
  if (!root) return { missing: source.embedded ? "no --tasks folder was given" : "the log embeds no task_data and no --tasks folder was given" };
  try {
    const found = await loadTask({ root, dataset: source.dataset, taskId: source.taskId });
    return found ? { file: found } : { missing: `not in ${root}/${source.dataset}/{training,evaluation}` };
  } catch (error) {
    return { missing: (error as Error).message };
  }
}
