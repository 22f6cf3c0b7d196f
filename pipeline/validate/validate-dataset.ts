import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Executor } from "../executor/types.js";
import { loadTask } from "../sources/load-task.js";
import { readParquetRows } from "../parquet/read-parquet-rows.js";
import { resolveDataset } from "./dataset-source.js";
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
  fetch?: typeof fetch;
  executor: Executor;
  onReport?: (report: RowReport) => void;
}

/** Downloads (or reads) a dataset, re-executes every row and compares it with what is stored. */
export async function validateDataset(params: ValidateParams): Promise<{ summary: ValidationSummary; reports: RowReport[] }> {
  const workDir = await mkdtemp(join(tmpdir(), "arcforge-validate-"));
  try {
    const all = await resolveDataset({ target: params.target, workDir, hubUrl: params.hubUrl, token: params.token, fetch: params.fetch });
    const splits = params.split === "all" ? all : all.filter((s) => s.split === params.split);
    if (splits.length === 0) throw new Error(`${params.target} has no '${params.split}' split (it has: ${all.map((s) => s.split).join(", ")})`);
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
      for (const { split, files } of splits) {
        let row = 0;
        for (const path of files) {
          const left = params.limit === undefined ? undefined : params.limit - row;
          if (left !== undefined && left <= 0) break;
          for await (const data of readParquetRows({ path, limit: left })) yield { split, row: row++, data };
        }
      }
    }
    const reports = await validateRows({ rows: rows(), tasks, executor: params.executor, onReport: params.onReport });
    return { summary: summarise(params.target, splits.map((s) => s.split), reports), reports };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
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
    errors: rows.error + rows.timeout + rows.schema,
    examplesTested,
    examplesCorrect,
    successRate: examplesTested ? examplesCorrect / examplesTested : 0,
  };
}
