import type { Executor } from "../executor/types.js";
import { InputError } from "../common/errors.js";
import { loadTask } from "../sources/load-task.js";
import { readParquetRows } from "../parquet/read-parquet-rows.js";
import { datasetShards } from "../sources/dataset-shards.js";
import type { TransferMeter } from "../hub/range-blob.js";
import { validateRows, type RowReport, type RowStatus, type TaskLookup } from "./validate-rows.js";

export interface ValidationSummary {
  target: string;
  splits: string[];
  rowsProcessed: number;
  rows: Record<RowStatus, number>;
  errors: number;
  examplesTested: number;
  examplesCorrect: number;
  /** examplesCorrect / examplesTested. */
  successRate: number;
}

export interface ValidateParams {
  target: string;
  split: string;
  limit?: number;
  tasksRoot?: string;
  dataset: string;
  hubUrl: string;
  token?: string;
  allowHttp?: boolean;
  fetch?: typeof fetch;
  /** Counts the bytes read from the Hub: with --limit, only footers and the row groups needed. */
  meter?: TransferMeter;
  executor: Executor;
  onReport?: (report: RowReport) => void;
}

/**
 * Streams a dataset (Hub repo, folder or file) shard by shard and row group by row group,
 * re-executes every row and compares it with what is stored. With a limit, only the row groups
 * that hold those rows are read.
 */
export async function validateDataset(params: ValidateParams): Promise<{ summary: ValidationSummary; reports: RowReport[] }> {
  const { shards } = await datasetShards({
    target: params.target,
    hubUrl: params.hubUrl,
    token: params.token,
    allowHttp: params.allowHttp,
    fetch: params.fetch,
    meter: params.meter,
  });
  const present = [...new Set(shards.map((s) => s.split))];
  const chosen = params.split === "all" ? present : present.filter((s) => s === params.split);
  if (chosen.length === 0) throw new InputError(`${params.target} has no '${params.split}' split (it has: ${present.join(", ")})`);
  const cache = new Map<string, Promise<TaskLookup>>();
  const tasks = (taskId: string): Promise<TaskLookup> => {
    const root = params.tasksRoot;
    if (!root) return Promise.resolve({ problem: "no --tasks folder was given to find its task" });
    let found = cache.get(taskId);
    if (!found) {
      found = loadTask({ root, dataset: params.dataset, taskId }).then(
        (t): TaskLookup => (t ? { task: t.task } : { problem: `task ${taskId} is not in ${root}/${params.dataset}/{training,evaluation}` }),
        (error: Error): TaskLookup => ({ problem: error.message }),
      );
      cache.set(taskId, found);
    }
    return found;
  };
  async function* rows() {
    for (const split of chosen) {
      let row = 0;
      for (const shard of shards.filter((s) => s.split === split)) {
        const left = params.limit === undefined ? undefined : params.limit - row;
        if (left !== undefined && left <= 0) break;
        for await (const data of readParquetRows({ blob: await shard.open(), name: shard.path, limit: left })) {
          if (row === 0) checkFormat({ columns: Object.keys(data), target: params.target, tasksRoot: params.tasksRoot });
          yield { split, row: row++, data };
        }
      }
    }
  }
  const reports = await validateRows({ rows: rows(), tasks, executor: params.executor, onReport: params.onReport });
  return { summary: summarise(params.target, chosen, reports), reports };
}

/** What a dataset is, decided once from its first row: a format with no program outputs is refused in one line. */
function checkFormat(params: { columns: string[]; target: string; tasksRoot?: string }): void {
  const has = new Set(params.columns);
  if (has.has("messages") && !has.has("code")) {
    throw new InputError(
      `${params.target} is a chat (messages or OpenAI) dataset: its rows hold no program outputs to re-execute; validate the flat, SOAR or programs dataset it was built from`,
    );
  }
  if (!has.has("code") || !has.has("predicted_train_output"))
    throw new InputError(
      `${params.target} is not a program dataset: it has no column ${["code", "predicted_train_output"].filter((c) => !has.has(c)).join(" or ")} (it has: ${params.columns.join(", ")})`,
    );
  if (!has.has("train_input") && !params.tasksRoot)
    throw new InputError(`${params.target} stores no task inputs (SOAR format): give --tasks <arc-data-root> (or ARC_DATA) to take them from the task files`);
}

function summarise(target: string, splits: string[], reports: RowReport[]): ValidationSummary {
  const rows = { ok: 0, mismatch: 0, error: 0, timeout: 0, schema: 0 } as Record<RowStatus, number>;
  for (const r of reports) rows[r.status]++;
  const examplesTested = reports.reduce((n, r) => n + r.examplesTested, 0);
  const examplesCorrect = reports.reduce((n, r) => n + r.examplesCorrect, 0);
  return {
    target,
    splits,
    rowsProcessed: reports.length,
    rows,
    // Every row that is not ok, once: the rows the report lists.
    errors: reports.length - rows.ok,
    examplesTested,
    examplesCorrect,
    successRate: examplesTested ? examplesCorrect / examplesTested : 0,
  };
}
