import { mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BOOLEAN, DuckDBInstance, LIST, listValue, VARCHAR, type DuckDBAppender } from "@duckdb/node-api";
import type { Grid } from "../../schemas/grid.js";
import type { ArcTask } from "../../schemas/task.js";

/** The columns a recipe sees in `programs`: the program table's, without the task grids. */
export const PROGRAM_COLUMNS: [string, string][] = [
  ["row_id", "VARCHAR"],
  ["dataset", "VARCHAR"],
  ["task_id", "VARCHAR"],
  ["code", "VARCHAR"],
  ["reasoning", "VARCHAR"],
  ["model", "VARCHAR"],
  ["models", "VARCHAR[]"],
  ["generation", "BIGINT"],
  ["copies", "BIGINT"],
  ["attempt_id", "VARCHAR"],
  ["source", "VARCHAR"],
  ["run_timestamp", "VARCHAR"],
  ["subset", "VARCHAR"],
  ["correct_train_input", "BOOLEAN[]"],
  ["correct_test_input", "BOOLEAN[]"],
  ["predicted_train_output", "INTEGER[][][]"],
  ["predicted_test_output", "INTEGER[][][]"],
  ["train_correct", "BIGINT"],
  ["test_correct", "BIGINT"],
  ["all_train_correct", "BOOLEAN"],
  ["all_test_correct", "BOOLEAN"],
  ["code_length", "BIGINT"],
  ["max_predicted_height", "BIGINT"],
  ["max_predicted_width", "BIGINT"],
  ["identity", "BOOLEAN"],
  ["single_colour", "BOOLEAN"],
  ["fails_augment", "BOOLEAN"],
];

/** `tasks`: each task once, with the folder its file came from (training, evaluation; null when taken on trust). */
export const TASK_COLUMNS: [string, string][] = [
  ["dataset", "VARCHAR"],
  ["task_id", "VARCHAR"],
  ["split", "VARCHAR"],
  ["train_input", "INTEGER[][][]"],
  ["train_output", "INTEGER[][][]"],
  ["test_input", "INTEGER[][][]"],
  ["test_output", "INTEGER[][][]"],
];

const GRID_TYPE = "INTEGER[][][]";
/**
 * Grids are appended as JSON text and cast by DuckDB once the table is loaded: a grid appended as
 * a value builds one native value per cell, held until V8 collects its wrapper (at 300k attempts
 * ~0.5 GiB of native memory and half the table's load time).
 */
const stagedType = (type: string) => (type === GRID_TYPE ? "VARCHAR" : type);
const loadedColumn = ([name, type]: [string, string]) => (type === GRID_TYPE ? `CAST("${name}" AS ${GRID_TYPE}) AS "${name}"` : `"${name}"`);

function append(appender: DuckDBAppender, type: string, value: unknown): void {
  if (value === null || value === undefined) return appender.appendNull();
  switch (type) {
    case "VARCHAR":
      return appender.appendVarchar(value as string);
    case "BIGINT":
      return appender.appendBigInt(BigInt(value as number));
    case "BOOLEAN":
      return appender.appendBoolean(value as boolean);
    case "VARCHAR[]":
      return appender.appendList(listValue(value as string[]), LIST(VARCHAR));
    case "BOOLEAN[]":
      return appender.appendList(listValue(value as boolean[]), LIST(BOOLEAN));
    case GRID_TYPE:
      return appender.appendVarchar(JSON.stringify(value as Grid[]));
    default:
      throw new Error(`no appender for ${type}`);
  }
}

/** One task and its program-table rows (formatted as --format programs writes them), plus each row's attempt in this build. */
export interface TableTask {
  dataset: string;
  taskId: string;
  split: string | null;
  task: ArcTask;
  rows: { id: string; values: Record<string, unknown> }[];
}

/**
 * The program table as an on-disk DuckDB file, written task by task (memory holds one task), to
 * a temporary name renamed once complete: a file at `path` is always whole. `_row` (the row's
 * attempt in this build) is the table's own column; recipes see the `programs` view without it.
 */
export async function writeProgramTable(params: { path: string; tasks: Iterable<TableTask> }): Promise<{ rows: number }> {
  mkdirSync(join(params.path, ".."), { recursive: true });
  const temporary = `${params.path}.${process.pid}.tmp`;
  rmSync(temporary, { force: true });
  const instance = await DuckDBInstance.create(temporary);
  const connection = await instance.connect();
  let rows = 0;
  try {
    await connection.run(`CREATE TABLE program_staged (_row VARCHAR, ${PROGRAM_COLUMNS.map(([n, t]) => `"${n}" ${stagedType(t)}`).join(", ")})`);
    await connection.run(`CREATE TABLE task_staged (${TASK_COLUMNS.map(([n, t]) => `"${n}" ${stagedType(t)}`).join(", ")})`);
    const programs = await connection.createAppender("program_staged");
    const tasks = await connection.createAppender("task_staged");
    for (const t of params.tasks) {
      const grids = {
        train_input: t.task.train.map((e) => e.input),
        train_output: t.task.train.map((e) => e.output),
        test_input: t.task.test.map((e) => e.input),
        test_output: t.task.test.map((e) => e.output ?? []),
      };
      const taskValues: Record<string, unknown> = { dataset: t.dataset, task_id: t.taskId, split: t.split, ...grids };
      for (const [name, type] of TASK_COLUMNS) append(tasks, type, taskValues[name]);
      tasks.endRow();
      for (const row of t.rows) {
        programs.appendVarchar(row.id);
        for (const [name, type] of PROGRAM_COLUMNS) append(programs, type, row.values[name]);
        programs.endRow();
        rows++;
      }
    }
    programs.closeSync();
    tasks.closeSync();
    await connection.run(`CREATE TABLE program_rows AS SELECT _row, ${PROGRAM_COLUMNS.map(loadedColumn).join(", ")} FROM program_staged`);
    await connection.run(`CREATE TABLE task_rows AS SELECT ${TASK_COLUMNS.map(loadedColumn).join(", ")} FROM task_staged`);
    await connection.run("DROP TABLE program_staged");
    await connection.run("DROP TABLE task_staged");
    await connection.run(`CREATE VIEW programs AS SELECT ${PROGRAM_COLUMNS.map(([n]) => `"${n}"`).join(", ")} FROM program_rows`);
    await connection.run("CREATE VIEW tasks AS SELECT * FROM task_rows");
    await connection.run("CHECKPOINT");
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
  renameSync(temporary, params.path);
  rmSync(`${temporary}.wal`, { force: true });
  return { rows };
}
