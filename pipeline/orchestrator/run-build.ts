import { pairMode, type BuildOptions } from "../../schemas/build-options.js";
import { balanceStage, TASK_SUMMARIES, type TaskSummary } from "../../stages/balance.js";
import { readLogsStage } from "../../stages/read-logs.js";
import { readAgainstStage } from "../../stages/read-against.js";
import { readDatasetsStage } from "../../stages/read-datasets.js";
import { splitStage } from "../../stages/split.js";
import { cacheKey } from "../common/canonical-json.js";
import { runStages } from "../engine/run-stages.js";
import type { StageContext } from "../engine/stage.js";
import type { StageStore } from "../store/stage-store.js";
import { GLOBAL_CHAIN, INGEST_STAGES, TASK_STAGES } from "./build-stages.js";
import { idleStages } from "../engine/idle-stages.js";
import { runTaskStages, type ShardRef, type TaskRun } from "./run-task-stages.js";
import type { StageReport } from "../../schemas/build-manifest.js";
import { type BuildRun, RECIPE_REPORT } from "./build-run.js";

/**
 * Tasks in flight at once: enough to keep every sandbox worker busy across small tasks (16 made a
 * cold build of ../shared/run-logs 12% faster than 4). Through the queue, one: a queue job is a
 * batch of one task's programs named by its content, and with two tasks at once which of them runs
 * a (code, input) pair they share depends on timing, so a repeated cold build re-enqueued jobs (3
 * of 17 on the demo, seen once with 4 tasks in flight).
 */
export const TASKS_IN_FLIGHT = { local: 16, queue: 1 };
/** Attempts in flight at once over those tasks: ARC-sized tasks never reach it; a corpus of huge tasks runs them one or two at a time. */
const ATTEMPTS_IN_FLIGHT = 16_384;

/**
 * The build's three phases: the readers shard the corpus by task; the task stages run task by
 * task; balance and split decide on per-task summaries. Nothing here holds the corpus's rows.
 */
export async function runBuild(params: {
  options: BuildOptions;
  store: StageStore;
  context: StageContext;
  tasksInFlight?: number;
  /** Called once the task stages are done: nothing executes or cleans after them. */
  release?: () => Promise<void>;
}): Promise<BuildRun> {
  const { options, store, context } = params;
  const ingest = await runStages({ stages: INGEST_STAGES, options, store, context });
  const byTask = new Map<string, Omit<TaskRun, "keys" | "executed" | "selected" | "dropsIn">>();
  const readers = [
    { stage: readLogsStage.name, shards: ingest.data(readLogsStage).shards },
    { stage: readDatasetsStage.name, shards: ingest.data(readDatasetsStage).shards },
  ];
  for (const { stage, shards } of readers) {
    const dir = store.entry(stage, ingest.keys[stage] ?? "");
    for (const shard of shards) {
      const ref: ShardRef = { stage, dir, shard };
      const task = byTask.get(shard.taskKey) ?? { taskKey: shard.taskKey, dataset: shard.dataset, taskId: shard.taskId, shards: [], read: 0 };
      task.shards.push(ref);
      task.read += shard.attempts;
      byTask.set(shard.taskKey, task);
    }
  }
  // What is already published is read beside a task's attempts, never as them; a task only it holds is no task of this build.
  const againstDir = store.entry(readAgainstStage.name, ingest.keys[readAgainstStage.name] ?? "");
  for (const shard of ingest.data(readAgainstStage).shards) {
    const task = byTask.get(shard.taskKey);
    if (task) (task.against ??= []).push({ stage: readAgainstStage.name, dir: againstDir, shard });
  }
  const foreign = ingest.data(readDatasetsStage).foreignParents ?? {};
  for (const [taskKey, parents] of Object.entries(foreign)) {
    const task = byTask.get(taskKey);
    if (task) task.foreignParents = parents;
  }
  const ordered = [...byTask.values()].sort((a, b) => (a.taskKey < b.taskKey ? -1 : a.taskKey > b.taskKey ? 1 : 0));
  const perTask = await runTaskStages({
    tasks: ordered,
    options,
    store,
    context,
    concurrency: params.tasksInFlight ?? TASKS_IN_FLIGHT.local,
    attemptsInFlight: ATTEMPTS_IN_FLIGHT,
  });
  await params.release?.();
  const recipe = options.recipe ? await recipeReport({ runs: perTask.runs, store, options, context }) : undefined;
  const summaries: TaskSummary[] = perTask.runs
    .filter((r) => r.selected.rows > 0)
    .map((r) => ({ taskKey: r.taskKey, taskId: r.taskId, rows: r.selected.rows, group: r.selected.group! }));
  const taint = perTask.runs.find((r) => r.uncacheable)?.uncacheable;
  const global = await runStages({
    stages: GLOBAL_CHAIN.stages,
    from: TASK_SUMMARIES,
    options,
    store,
    context,
    sources: {
      tasks: {
        key: cacheKey([perTask.runs.map((r) => [r.taskKey, r.keys.select ?? null]), recipe?.key ?? null]),
        meta: { drops: [], length: summaries.reduce((n, t) => n + t.rows, 0), data: { tasks: summaries } },
        records: () => [],
        ...(taint ? { uncacheable: taint } : {}),
      },
    },
  });
  const datasets = ingest.output(readDatasetsStage);
  return {
    reports: [...ingest.reports, ...perTask.reports, ...(recipe ? [recipe] : []), ...global.reports],
    logs: ingest.data(readLogsStage).logs,
    sources: datasets.data.sources,
    source: ingest.data(readLogsStage).source,
    looseDrops: datasets.drops.filter((d) => d.scope !== "file").map((d) => ({ ...d, stage: "read-datasets" })),
    tasks: perTask.runs,
    droppedTasks: new Set(global.data(balanceStage).droppedTasks),
    validationTasks: new Set(global.data(splitStage).validationTasks),
    ...(options.recipe ? { recipe: options.recipe.name } : {}),
    ...(pairMode(options) ? { pairs: true } : {}),
    idle: idleStages(TASK_STAGES, options),
  };
}

/** Cuts the program table with the build's recipe; reported as a stage of its own. */
async function recipeReport(params: { runs: TaskRun[]; store: StageStore; options: BuildOptions; context: StageContext }): Promise<StageReport> {
  const tableRows = params.runs.reduce((n, r) => n + r.selected.rows, 0);
  params.context.emit({ type: "stage-start", stage: RECIPE_REPORT, cached: false, reason: params.options.recipe!.name });
  // DuckDB's native module loads only for a build that cuts by a recipe (45 ms of every start otherwise).
  const { cutByRecipe } = await import("./cut-by-recipe.js");
  const cut = await cutByRecipe({
    runs: params.runs,
    store: params.store,
    options: params.options,
    cacheDir: params.context.cacheDir,
    emit: params.context.emit,
  });
  const reason = cut.cached.result
    ? "cached"
    : cut.cached.table
      ? `recipe ${params.options.recipe!.name} ran on the cached program table`
      : "the program table was loaded, then the recipe ran";
  params.context.emit({ type: "stage-end", stage: RECIPE_REPORT, kept: cut.rows, dropped: tableRows - cut.rows, ms: cut.ms });
  return {
    stage: RECIPE_REPORT,
    key: cut.key,
    ran: !cut.cached.result,
    reason,
    ms: cut.ms,
    kept: cut.rows,
    dropped: { recipe_excluded: tableRows - cut.rows },
    counts: { table_rows: tableRows },
  };
}
