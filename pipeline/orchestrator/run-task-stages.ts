import type { BuildOptions } from "../../schemas/build-options.js";
import type { Drop } from "../../schemas/drop.js";
import type { Contamination } from "../../stages/decontaminate.js";
import type { RecipePick } from "../recipe/run-recipe.js";
import type { RuntimeFingerprint } from "../executor/runtime-fingerprint.js";
import { ATTEMPTS, type TaskSourceData } from "../../stages/load-tasks.js";
import type { SelectSummary } from "../../stages/select.js";
import { cacheKey } from "../common/canonical-json.js";
import { StageTotals } from "../engine/sum-reports.js";
import type { StageContext } from "../engine/stage.js";
import type { SourceOutput } from "../engine/stage-records.js";
import { runBounded } from "../engine/run-bounded.js";
import { runStages } from "../engine/run-stages.js";
import { readTaskShard, type ShardContent, type TaskShard } from "../engine/task-shards.js";
import type { StageStore } from "../store/stage-store.js";
import { TASK_STAGES, TASK_WIRING } from "./build-stages.js";
import { idleStages } from "../engine/idle-stages.js";
import { decideUnchanged } from "./decide-unchanged.js";
import { extractOf, fromExtracts, type StageDigest, type TaskExtract } from "./task-digests.js";
import { optionParts, sourceDigestId, stageDigestId } from "./stage-digest-ids.js";
import type { StageReport } from "../../schemas/build-manifest.js";

/** One reader's shard of a task, and the folder it lives in. */
export interface ShardRef {
  stage: string;
  dir: string;
  shard: TaskShard;
}

/** One task's way through the task stages: enough to find its rows again, never the rows. */
export interface TaskRun {
  taskKey: string;
  dataset: string;
  taskId: string;
  /** Its shards, in reader order (logs, then datasets). */
  shards: ShardRef[];
  /** Attempts read (drops at reading not counted). */
  read: number;
  /** Shards of --against sources that hold programs of this task: compared with, never built from. */
  against?: ShardRef[];
  /** Each task stage's cache key for this task; empty when it had no attempt. */
  keys: Record<string, string>;
  /** Programs that reached the sandbox. */
  executed: number;
  /** The task stages that dropped some of its records, in chain order: the fates read only their entries. */
  dropsIn: string[];
  selected: SelectSummary;
  /** Its attempts' task_not_found drops: how many, and the first. */
  missing?: { count: number; first: Drop };
  /** No task file held it: the one task its inputs embedded was used, taken on trust. */
  trusted?: true;
  /** How its inputs meet the evaluation tasks, when they do (decontaminate). */
  contamination?: Contamination;
  /** The runtimes whose verdicts its rows rest on (first runs and re-validation), recorded with them. */
  runtimes?: RuntimeFingerprint[];
  /** Its attempts whose refined_from_id names a row of another task (--pairs refined). */
  foreignParents?: Record<string, string>;
  /** With --recipe: the rows the recipe chose, in its order (the program table's other rows are not written). */
  recipe?: RecipePick[];
  uncacheable?: string;
}

type TaskContent = ShardContent & { drops: (Drop & { stage: string })[] };

/** The attempts of a task, read from its shards when first asked for; drops with their reader; every embedded task by digest. */
export function taskContent(shards: ShardRef[]): () => TaskContent {
  let content: TaskContent | undefined;
  return () => {
    if (!content) {
      const parts = shards.map((s) => readTaskShard({ dir: s.dir, file: s.shard.file }));
      content = {
        attempts: parts.flatMap((p) => p.attempts),
        drops: parts.flatMap((p, i) => p.drops.map((d) => ({ ...d, stage: shards[i]!.stage }))),
        tasks: Object.assign({}, ...parts.map((p) => p.tasks)),
      };
    }
    return content;
  };
}

export function taskSource(task: Pick<TaskRun, "taskKey" | "dataset" | "taskId" | "shards" | "read" | "foreignParents" | "against">): SourceOutput {
  const content = taskContent(task.shards);
  const data: TaskSourceData = {
    taskKey: task.taskKey,
    dataset: task.dataset,
    taskId: task.taskId,
    embedded: task.shards.some((s) => s.shard.embedded),
    embeddedTasks: () => content().tasks,
    ...(task.foreignParents ? { foreignParents: task.foreignParents } : {}),
    ...(task.against ? { against: againstOf(task.against) } : {}),
  };
  let key: string | undefined;
  return {
    // Only a stage that runs reads it: the writer builds a task's source for each task it writes.
    get key() {
      return (key ??= cacheKey({ task: task.taskKey, shards: task.shards.map((s) => s.shard.sha256) }));
    },
    meta: { drops: [], length: task.read, data },
    records: () => content().attempts,
  };
}

/** A task's --against shards: their digests (for the against stage's key) and their attempts, read when asked for. */
function againstOf(shards: ShardRef[]): NonNullable<TaskSourceData["against"]> {
  const content = taskContent(shards);
  return { shards: shards.map((s) => s.shard.sha256), attempts: () => content().attempts };
}

/**
 * Runs the task stages for every task, a few tasks at a time (so the sandbox stays busy across
 * small tasks while memory holds only those few), and sums each stage's per-task reports into one.
 */
export async function runTaskStages(params: {
  tasks: Omit<TaskRun, "keys" | "executed" | "selected" | "dropsIn">[];
  options: BuildOptions;
  store: StageStore;
  context: StageContext;
  /** Tasks in flight at once. */
  concurrency: number;
  /** Attempts in flight at once, summed over those tasks (a larger task takes the whole budget and runs alone). */
  attemptsInFlight: number;
}): Promise<{ runs: TaskRun[]; reports: StageReport[] }> {
  const { context, store } = params;
  const totals = new StageTotals(TASK_STAGES);
  const lastParts = new Map(TASK_STAGES.map((s) => [s.name, store.lastParts(s.name)]));
  const announced = new Set<string>();
  // Per-task stage events would flood the display: this run reports tasks done, and each stage once.
  const quiet: StageContext = {
    ...context,
    emit: (event) => {
      if (event.type === "message") context.emit(event);
      else if (event.type === "stage-start" && !event.cached && !announced.has(event.stage)) {
        announced.add(event.stage);
        context.emit(event);
      }
    },
  };
  let done = 0;
  const progress = () => context.emit({ type: "progress", stage: "tasks", done: ++done, total: params.tasks.length });
  const active = params.tasks.filter((t) => t.read > 0);
  const extracts = new Map<string, Record<string, TaskExtract>>();
  const decided = context.fresh
    ? { stages: 0, keys: active.map(() => ({})), ids: { [ATTEMPTS.name]: sourceDigestId(active.map((t) => [t.taskKey, taskSource(t).key])) } }
    : await decideUnchanged({ ...params, tasks: active, sourceOf: taskSource, totals, extracts, context: quiet });
  const running = TASK_STAGES.slice(decided.stages);
  const idle = idleStages(TASK_STAGES, params.options);
  const keysOf = new Map(active.map((t, i) => [t.taskKey, decided.keys[i]!]));
  const finish = (task: (typeof params.tasks)[number], keys: Record<string, string>, uncacheable?: string): TaskRun => ({
    ...task,
    keys: Object.fromEntries(TASK_STAGES.map((s) => [s.name, keys[s.name] ?? ""])),
    ...fromExtracts({ extracts: (stage) => extracts.get(stage)?.[task.taskKey], options: params.options }),
    ...(uncacheable ? { uncacheable } : {}),
  });
  // A task's records stay in memory while its chain runs: a few huge tasks together would hold
  // several times the largest task, so their attempts count against one budget.
  const runs = await runBounded({
    items: params.tasks,
    concurrency: params.concurrency,
    budget: params.attemptsInFlight,
    weight: (task) => task.read,
    run: async (task): Promise<TaskRun> => {
      if (task.read === 0) {
        progress();
        return { ...task, keys: {}, executed: 0, dropsIn: [], selected: { rows: 0, solved: 0, group: null } };
      }
      if (running.length === 0) {
        progress();
        return finish(task, keysOf.get(task.taskKey)!);
      }
      const results = await runStages({
        stages: TASK_STAGES,
        from: ATTEMPTS,
        scope: `task ${task.taskKey}`,
        options: params.options,
        store,
        context: quiet,
        sources: { attempts: taskSource(task) },
        perTask: { lastParts: (stage) => lastParts.get(stage) },
        known: keysOf.get(task.taskKey)!,
      });
      totals.add({ task: task.taskKey, reports: results.reports, parts: results.parts });
      for (const stage of running) {
        if (idle.has(stage.name)) continue;
        const extract = extractOf(stage.name, results.output(stage));
        if (extract && Object.keys(extract).length > 0) {
          const byTask = extracts.get(stage.name) ?? {};
          byTask[task.taskKey] = extract;
          extracts.set(stage.name, byTask);
        }
      }
      progress();
      return finish(task, results.keys, results.uncacheable);
    },
  });
  context.emit({ type: "stage-end", stage: "tasks", kept: runs.length, dropped: 0, ms: 0 });
  // The stages that ran (or were found task by task) are decided in one lookup next time, unless
  // an output must not be reused.
  if (!runs.some((r) => r.uncacheable)) {
    const ids = { ...decided.ids };
    for (const stage of running) {
      // An idle stage's digest is its input's: nothing of its own is stored.
      if (idle.has(stage.name)) {
        ids[stage.name] = ids[TASK_WIRING.get(stage.name)![0]!]!;
        continue;
      }
      const keys = runs.filter((r) => r.read > 0).map((r): [string, string] => [r.taskKey, r.keys[stage.name]!]);
      const id = stageDigestId({
        stage,
        options: await optionParts({ stage, options: params.options, context: quiet }),
        ids,
        keys: () => keys,
      });
      ids[stage.name] = id;
      store.writeDigest({
        stage: stage.name,
        digest: id,
        value: { ...totals.sumOf(stage.name), extracts: extracts.get(stage.name) ?? {}, keys: Object.fromEntries(keys) } satisfies StageDigest,
      });
    }
  }
  const { reports, parts } = totals.finish();
  // Remembered once per stage, without the upstream keys (they differ task by task).
  for (const [stage, p] of parts) store.rememberParts(stage, { ...p, upstream: undefined });
  for (const r of reports)
    context.emit({ type: "stage-end", stage: r.stage, kept: r.kept, dropped: Object.values(r.dropped).reduce((n, v) => n + v, 0), ms: r.ms });
  return { runs, reports };
}
