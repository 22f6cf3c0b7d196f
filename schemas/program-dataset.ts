import { MAX_CODE_BYTES } from "./build-options.js";
import { nameProblem } from "./names.js";
import { arcTaskSchema, TASK_ID, type ArcTask } from "./task.js";
import type { Provenance } from "./program-identity.js";
import type { Attempt, AttemptDrop } from "./run-log.js";

/** The columns a program dataset must have; every other one is optional. */
export const REQUIRED_COLUMNS = ["code", "task_id"] as const;

/** Which known schema a Parquet's columns are: arcforge's program table or flat, SOAR's 8 columns, or just programs. */
export function datasetSchema(columns: string[]): { schema: "table" | "flat" | "soar" | "programs" } | { missing: string[] } {
  const has = new Set(columns);
  const missing = REQUIRED_COLUMNS.filter((c) => !has.has(c));
  if (missing.length) return { missing };
  const flat = ["train_input", "train_output", "test_input"].every((c) => has.has(c));
  if (flat && ["row_id", "attempt_id", "copies", "models", "source"].every((c) => has.has(c))) return { schema: "table" };
  if (flat) return { schema: "flat" };
  if (["correct_train_input", "predicted_train_output", "correct_test_input", "predicted_test_output", "model", "generation"].every((c) => has.has(c)))
    return { schema: "soar" };
  return { schema: "programs" };
}

/** A flat row carries its whole task: its inputs and real outputs, or undefined when it does not. */
function taskOf(row: Record<string, unknown>): ArcTask | undefined {
  if (!Array.isArray(row.train_input) || !Array.isArray(row.train_output) || !Array.isArray(row.test_input)) return undefined;
  const testOutputs = Array.isArray(row.test_output) ? (row.test_output as unknown[]) : [];
  const task = {
    train: (row.train_input as unknown[]).map((input, i) => ({ input, output: (row.train_output as unknown[])[i] })),
    test: (row.test_input as unknown[]).map((input, i) => {
      const output = testOutputs[i];
      return Array.isArray(output) && output.length > 0 ? { input, output } : { input };
    }),
  };
  const parsed = arcTaskSchema.safeParse(task);
  return parsed.success ? parsed.data : undefined;
}

/**
 * One row of a program dataset as an attempt: id `<source>:<split>:<row>`; its dataset from a
 * `dataset` column, else the build's --dataset, else arc-agi-1; its generation when it has one.
 * Stored outputs and flags are never trusted: the pipeline executes the code itself.
 */
export function rowToAttempt(params: {
  row: Record<string, unknown>;
  source: string;
  split: string;
  index: number;
  defaultDataset: string;
  refined?: boolean;
}): Attempt | AttemptDrop {
  const { row, source, split, index } = params;
  const id = `${source}:${split}:${index}`;
  const taskId = typeof row.task_id === "string" ? row.task_id : "";
  if (!TASK_ID.test(taskId)) return { id, taskId, reason: "malformed_attempt", detail: `task_id ${JSON.stringify(row.task_id)} is not 8 hex characters` };
  if (typeof row.code !== "string" || !row.code.trim()) return { id, taskId, reason: "no_program" };
  const codeBytes = Buffer.byteLength(row.code);
  if (codeBytes > MAX_CODE_BYTES)
    return { id, taskId, reason: "malformed_attempt", detail: `a program of ${codeBytes} bytes, over the ${MAX_CODE_BYTES}-byte cap` };
  const datasetProblem = typeof row.dataset === "string" && row.dataset ? nameProblem({ what: "dataset", value: row.dataset }) : null;
  if (datasetProblem) return { id, taskId, reason: "malformed_attempt", detail: datasetProblem };
  const correctTest = Array.isArray(row.correct_test_input) ? (row.correct_test_input as unknown[]) : null;
  const embeddedTask = taskOf(row);
  const dataset = typeof row.dataset === "string" && row.dataset ? row.dataset : params.defaultDataset;
  return {
    id,
    logFile: `${source}:${split}`,
    taskId,
    dataset,
    taskKey: `${dataset}/${taskId}`,
    subset: text(row.subset),
    model: typeof row.model === "string" && row.model ? row.model : "unknown",
    attemptNumber: index,
    code: row.code,
    reasoning: typeof row.reasoning === "string" && row.reasoning ? row.reasoning : null,
    loggedTestCorrect: correctTest && correctTest.length > 0 ? correctTest.every((c) => c === true) : null,
    ...(embeddedTask ? { embeddedTask } : {}),
    ...(typeof row.generation === "number" && Number.isInteger(row.generation) ? { generation: row.generation } : {}),
    ...provenanceOf(row),
    ...(params.refined && (text(row.row_id) || text(row.refined_from_id))
      ? { refined: { rowId: text(row.row_id), from: text(row.refined_from_id), codeOriginal: text(row.code_original) } }
      : {}),
  };
}

const text = (v: unknown) => (typeof v === "string" && v ? v : null);

/**
 * A program-table row keeps its first copy's identity and its copies through --from; anything
 * malformed in those columns is ignored, and the row counts as one attempt of its own.
 */
function provenanceOf(row: Record<string, unknown>): { provenance: Provenance } | Record<string, never> {
  const { attempt_id, source, copies, models } = row;
  if (
    typeof attempt_id !== "string" ||
    typeof source !== "string" ||
    typeof copies !== "number" ||
    !Number.isInteger(copies) ||
    copies < 1 ||
    !Array.isArray(models) ||
    !models.every((m) => typeof m === "string")
  )
    return {};
  return {
    provenance: {
      attemptId: attempt_id,
      source,
      runTimestamp: text(row.run_timestamp),
      subset: text(row.subset),
      models: [...new Set(models as string[])].sort(),
      copies,
    },
  };
}
