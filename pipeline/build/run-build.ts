import { pairMode, type BuildOptions } from "../../schemas/build-options.js";
import type { Drop } from "../../schemas/drop.js";
import type { TaskSummary, BalanceData } from "../../stages/balance.js";
import type { LogFate } from "../../stages/read-logs.js";
import type { SourceFate } from "../../stages/read-datasets.js";
import type { SplitData } from "../../stages/split.js";
import { cacheKey } from "../common/canonical-json.js";
import { runStages, type StageReport } from "../engine/run-stages.js";
import type { StageContext } from "../engine/stage.js";
import type { TaskShard } from "../engine/task-shards.js";
import type { StageStore } from "../store/stage-store.js";
import { GLOBAL_STAGES, INGEST_STAGES } from "./build-stages.js";
import { cutByRecipe } from "./cut-by-recipe.js";
import { runTaskStages, type ShardRef, type TaskRun } from "./run-task-stages.js";

/** Tasks in flight at once: enough to keep every sandbox worker busy across small tasks. */
const TASKS_IN_FLIGHT = 4;
/** Attempts in flight at once over those tasks: ARC-sized tasks never reach it; a corpus of huge tasks runs them one or two at a time. */
const ATTEMPTS_IN_FLIGHT = 16_384;

/** What a build decided, with the way back to every row: small whatever the corpus. */
export interface BuildRun {
  reports: StageReport[];
  logs: LogFate[];
  sources: SourceFate[];
  source: { datasets: string[]; subsets: string[] };
  /** Attempt drops that name no task (a dataset row without a usable task id). */
  looseDrops: (Drop & { stage: string })[];
  tasks: TaskRun[];
  droppedTasks: Set<string>;
  validationTasks: Set<string>;
  /** The recipe's name, when the build was cut by one. */
  recipe?: string;
  /** A refinement build: its rows are pairs. */
  pairs?: boolean;
}

/**
 * The build's three phases: the readers shard the corpus by task; the task stages run task by
 * task; balance and split decide on per-task summaries. Nothing here holds the corpus's rows.
 */
export async function runBuild(params: { options: BuildOptions; store: StageStore; context: StageContext }): Promise<BuildRun> {
  const { options, store, context } = params;
  const ingest = await runStages({ stages: INGEST_STAGES, options, store, context });
  const byTask = new Map<string, Omit<TaskRun, "keys" | "executed" | "selected">>();
  for (const stage of INGEST_STAGES) {
    const dir = store.entry(stage.name, ingest.keys[stage.name]!);
    for (const shard of (ingest.meta[stage.name]!.data as { shards: TaskShard[] }).shards) {
      const ref: ShardRef = { stage: stage.name, dir, shard };
      const task = byTask.get(shard.taskKey) ?? { taskKey: shard.taskKey, dataset: shard.dataset, taskId: shard.taskId, shards: [], read: 0 };
      task.shards.push(ref);
      task.read += shard.attempts;
      byTask.set(shard.taskKey, task);
    }
  }
  const foreign = (ingest.meta["read-datasets"]!.data as { foreignParents?: Record<string, Record<string, string>> }).foreignParents ?? {};
  for (const [taskKey, parents] of Object.entries(foreign)) {
    const task = byTask.get(taskKey);
    if (task) task.foreignParents = parents;
  }
  const ordered = [...byTask.values()].sort((a, b) => (a.taskKey < b.taskKey ? -1 : a.taskKey > b.taskKey ? 1 : 0));
  const perTask = await runTaskStages({ tasks: ordered, options, store, context, concurrency: TASKS_IN_FLIGHT, attemptsInFlight: ATTEMPTS_IN_FLIGHT });
  const recipe = options.recipe ? await recipeReport({ runs: perTask.runs, store, options, context }) : undefined;
  const summaries: TaskSummary[] = perTask.runs
    .filter((r) => r.selected.rows > 0)
    .map((r) => ({ taskKey: r.taskKey, taskId: r.taskId, rows: r.selected.rows, group: r.selected.group! }));
  const taint = perTask.runs.find((r) => r.uncacheable)?.uncacheable;
  const global = await runStages({
    stages: GLOBAL_STAGES,
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
  const datasets = ingest.meta["read-datasets"]!;
  return {
    reports: [...ingest.reports, ...perTask.reports, ...(recipe ? [recipe] : []), ...global.reports],
    logs: (ingest.meta["read-logs"]!.data as { logs: LogFate[] }).logs,
    sources: (datasets.data as { sources: SourceFate[] }).sources,
    source: (ingest.meta["read-logs"]!.data as { source: BuildRun["source"] }).source,
    looseDrops: datasets.drops.filter((d) => d.scope !== "file").map((d) => ({ ...d, stage: "read-datasets" })),
    tasks: perTask.runs,
    droppedTasks: new Set((global.meta.balance!.data as BalanceData).droppedTasks),
    validationTasks: new Set((global.meta.split!.data as SplitData).validationTasks),
    ...(options.recipe ? { recipe: options.recipe.name } : {}),
    ...(pairMode(options) ? { pairs: true } : {}),
  };
}

/** Cuts the program table with the build's recipe; reported as a stage of its own. */
async function recipeReport(params: { runs: TaskRun[]; store: StageStore; options: BuildOptions; context: StageContext }): Promise<StageReport> {
  const tableRows = params.runs.reduce((n, r) => n + r.selected.rows, 0);
  params.context.emit({ type: "stage-start", stage: "recipe", cached: false, reason: params.options.recipe!.name });
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
  params.context.emit({ type: "stage-end", stage: "recipe", kept: cut.rows, dropped: tableRows - cut.rows, ms: cut.ms });
  return {
    stage: "recipe",
    key: cut.key,
    ran: !cut.cached.result,
    reason,
    ms: cut.ms,
    kept: cut.rows,
    dropped: { recipe_excluded: tableRows - cut.rows },
    counts: { table_rows: tableRows },
  };
}
