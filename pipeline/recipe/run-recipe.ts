import { mkdirSync } from "node:fs";
import { DuckDBInstance, version as duckdbVersion } from "@duckdb/node-api";
import { RecipeError } from "../common/errors.js";

/** A recipe as a build uses it: a built-in's name or a file's path, and its SQL. */
export interface Recipe {
  name: string;
  sql: string;
}

/** One row a recipe chose: its attempt in this build, its rank (null when the recipe gave none), and what a split needs. */
export interface RecipePick {
  id: string;
  rowId: string;
  rank: number | null;
  anyTrain: boolean;
  solves: boolean;
}

/** The DuckDB engine's version: part of a recipe result's key (another engine may order ties differently). */
export const DUCKDB_VERSION = duckdbVersion();

const SELECT = 1;
/** What a recipe may use: generous for a 5M-row table, bounded for a hostile one. */
const MEMORY_LIMIT = "2GB";
const TEMP_LIMIT = "20GB";

const oneLine = (message: string) => message.split("\n").filter(Boolean)[0] ?? message;
const lineOf = (message: string) => /LINE (\d+):/.exec(message)?.[1];

/**
 * Runs one recipe over a program table file, locked down before the recipe is read: the file
 * opened read-only, no external access (files, network, extensions), memory and temp space
 * limited, the configuration locked; exactly one SELECT; interrupted after `timeoutSeconds`. The
 * recipe returns `row_id` (and may return `rank`); every row_id must be a row of the table, once.
 * Returns the picks by task key.
 */
export async function runRecipe(params: { dbPath: string; recipe: Recipe; timeoutSeconds: number; tempDir: string }): Promise<Map<string, RecipePick[]>> {
  const { recipe } = params;
  const fail = (what: string) => new RecipeError(`recipe ${recipe.name}: ${what}`);
  mkdirSync(params.tempDir, { recursive: true });
  const instance = await DuckDBInstance.create(params.dbPath, {
    access_mode: "READ_ONLY",
    autoinstall_known_extensions: "false",
    autoload_known_extensions: "false",
    allow_community_extensions: "false",
    memory_limit: MEMORY_LIMIT,
    temp_directory: params.tempDir,
    max_temp_directory_size: TEMP_LIMIT,
  });
  const connection = await instance.connect();
  // DuckDB refuses a temp directory once external access is off, so these two come after start-up, before the recipe is read.
  await connection.run("SET enable_external_access = false");
  await connection.run("SET lock_configuration = true");
  const timer = setTimeout(() => connection.interrupt(), params.timeoutSeconds * 1000);
  try {
    const sql = recipe.sql.replace(/[\s;]+$/, "");
    let statements: number;
    try {
      statements = (await connection.extractStatements(sql)).count;
    } catch (error) {
      const message = (error as Error).message;
      throw fail(`${lineOf(message) ? `line ${lineOf(message)}: ` : ""}${oneLine(message)}`);
    }
    if (statements !== 1) throw fail(`a recipe is exactly one SELECT statement; this one has ${statements}`);
    let columns: string[];
    try {
      const prepared = await connection.prepare(sql);
      if (prepared.statementType !== SELECT)
        throw fail(
          `a recipe is one SELECT statement; this one is not (statement type ${prepared.statementType}): it may not copy, attach, install, set or change anything`,
        );
      columns = Array.from({ length: prepared.columnCount }, (_, i) => prepared.columnName(i));
    } catch (error) {
      if (error instanceof RecipeError) throw error;
      const message = (error as Error).message;
      throw fail(`${lineOf(message) ? `line ${lineOf(message)}: ` : ""}${oneLine(message)}`);
    }
    if (!columns.includes("row_id")) throw fail(`its result has no row_id column (it has: ${columns.join(", ")})`);
    const rank = columns.includes("rank") ? "TRY_CAST(r.rank AS DOUBLE)" : "NULL";
    const wrapped = `SELECT r.row_id::VARCHAR AS row_id, ${rank} AS rank, p._row, p.dataset, p.task_id, p.train_correct > 0 AS any_train, p.all_test_correct AS solves
FROM (
${sql}
) AS r LEFT JOIN program_rows p ON p.row_id = r.row_id::VARCHAR`;
    const picks = new Map<string, RecipePick[]>();
    const seen = new Set<string>();
    try {
      const result = await connection.stream(wrapped);
      for await (const rows of result.yieldRowsJs()) {
        for (const [rowId, rankValue, id, dataset, taskId, anyTrain, solves] of rows as [
          string | null,
          number | null,
          string | null,
          string,
          string,
          boolean,
          boolean,
        ][]) {
          if (rowId === null || id === null) throw fail(`it returned row_id ${JSON.stringify(rowId)}, which is no row of the program table`);
          if (seen.has(rowId)) throw fail(`it returned row_id ${rowId} twice`);
          seen.add(rowId);
          const key = `${dataset}/${taskId}`;
          const list = picks.get(key) ?? [];
          list.push({ id, rowId, rank: rankValue, anyTrain, solves });
          picks.set(key, list);
        }
      }
    } catch (error) {
      if (error instanceof RecipeError) throw error;
      const message = (error as Error).message;
      if (/interrupt/i.test(message)) throw fail(`it ran past --recipe-timeout ${params.timeoutSeconds} s and was stopped`);
      throw fail(oneLine(message));
    }
    for (const list of picks.values()) list.sort((a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || (a.rowId < b.rowId ? -1 : a.rowId > b.rowId ? 1 : 0));
    return picks;
  } finally {
    clearTimeout(timer);
    connection.closeSync();
    instance.closeSync();
  }
}
