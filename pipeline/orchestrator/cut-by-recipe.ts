import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { BuildOptions } from "../../schemas/build-options.js";
import { formatRow } from "../../schemas/row-formats.js";
import { cacheKey } from "../common/canonical-json.js";
import type { ProgressEvent } from "../common/progress.js";
import { writeFileAtomic } from "../common/write-file-atomic.js";
import { writeProgramTable, type TableTask } from "../recipe/program-table-db.js";
import { DUCKDB_VERSION, runRecipe, type RecipePick } from "../recipe/run-recipe.js";
import type { StageStore } from "../store/stage-store.js";
import type { TaskRun } from "./run-task-stages.js";
import { taskRows } from "./task-rows.js";
import { TASK_STAGES } from "./build-stages.js";
import { idleStages } from "../engine/idle-stages.js";

/** Bumped when the table's columns or their meaning change: older table files stop matching. */
const TABLE_FORMAT = 1;

/** What a recipe run decided, and the key that names it (the split and balance stages key on it). */
export interface RecipeCut {
  key: string;
  /** Table and result came from the cache: nothing was loaded or run. */
  cached: { table: boolean; result: boolean };
  rows: number;
  ms: number;
}

/**
 * `--recipe`: the build's program table goes into a DuckDB file in the cache (once per table
 * content), the recipe runs over it (once per table, recipe text and DuckDB version), and each
 * task's run is given the rows the recipe chose. Editing a recipe re-runs only this and what
 * follows: every task stage stays cached, nothing executes.
 */
export async function cutByRecipe(params: {
  runs: TaskRun[];
  store: StageStore;
  options: BuildOptions;
  cacheDir: string;
  emit: (event: ProgressEvent) => void;
}): Promise<RecipeCut> {
  const { options, store } = params;
  const recipe = options.recipe!;
  const started = performance.now();
  const tasks = params.runs.filter((r) => r.read > 0 && r.selected.rows > 0);
  const tableKey = cacheKey({
    format: TABLE_FORMAT,
    augment: options.transductionAugment,
    reasoning: options.reasoning,
    tasks: tasks.map((t) => [t.taskKey, t.keys.select]),
  });
  const folder = join(params.cacheDir, "recipes");
  const dbPath = join(folder, `${tableKey}.duckdb`);
  const key = cacheKey({ table: tableKey, sql: recipe.sql, duckdb: DUCKDB_VERSION });
  const resultPath = join(folder, `${key}.json`);
  const cached = { table: existsSync(dbPath), result: existsSync(resultPath) };
  let picks: Map<string, RecipePick[]>;
  if (cached.result) {
    picks = new Map(JSON.parse(readFileSync(resultPath, "utf8")) as [string, RecipePick[]][]);
  } else {
    if (!cached.table) {
      params.emit({ type: "message", level: "info", text: `recipe: loading the program table of ${tasks.length} tasks into DuckDB` });
      await writeProgramTable({ path: dbPath, tasks: tableTasks({ tasks, store, options }) });
    }
    params.emit({ type: "message", level: "info", text: `recipe: running ${recipe.name}` });
    picks = await runRecipe({ dbPath, recipe, timeoutSeconds: options.recipeTimeout ?? 600, tempDir: join(folder, "tmp") });
    mkdirSync(folder, { recursive: true });
    writeFileAtomic(resultPath, JSON.stringify([...picks]));
  }
  let rows = 0;
  for (const run of params.runs) {
    const chosen = picks.get(run.taskKey) ?? [];
    rows += chosen.length;
    run.recipe = chosen;
    run.selected = {
      rows: chosen.length,
      solved: chosen.filter((p) => p.solves).length,
      group: chosen.length === 0 ? null : chosen.some((p) => p.anyTrain) ? "correct" : "incorrect",
    };
  }
  return { key, cached, rows, ms: Math.round(performance.now() - started) };
}

/** Each task's program-table rows as the table writes them, a task at a time. */
function* tableTasks(params: { tasks: TaskRun[]; store: StageStore; options: BuildOptions }): Generator<TableTask> {
  const idle = idleStages(TASK_STAGES, params.options);
  for (const run of params.tasks) {
    const { task, split, rows } = taskRows({ store: params.store, task: run, idle, table: true });
    yield {
      dataset: run.dataset,
      taskId: run.taskId,
      split,
      task,
      rows: rows.map((row) => ({
        id: row.id,
        values: formatRow({ row, task, format: "programs", reasoning: params.options.reasoning, augment: params.options.transductionAugment }),
      })),
    };
  }
}
