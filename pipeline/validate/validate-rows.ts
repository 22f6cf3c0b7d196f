import { gridProblem, gridsEqual, type Grid } from "../../schemas/grid.js";
import type { Outcome } from "../../schemas/outcome.js";
import type { ArcTask } from "../../schemas/task.js";
import type { Executor } from "../executor/types.js";

export type RowStatus = "ok" | "mismatch" | "error" | "timeout" | "schema";

export interface RowReport {
  split: string;
  /** Position of the row in its split (shards in name order). */
  row: number;
  taskId: string | null;
  status: RowStatus;
  /** What is wrong and where: "train 2: stored output differs from the fresh one". */
  problems: string[];
  examplesTested: number;
  examplesCorrect: number;
}

/** The inputs, stored predictions and flags of one row, whatever format it came in. */
interface Prepared {
  code: string;
  inputs: Grid[];
  trainCount: number;
  predicted: (Grid | null)[];
  stored: (boolean | null)[];
  expected: (Grid | null)[];
}

const asGrids = (v: unknown): Grid[] | null => (Array.isArray(v) ? (v as Grid[]) : null);

/** A row's task, or why there is none to give it inputs. */
export type TaskLookup = { task: ArcTask } | { problem: string };

/** A row's data or its schema problems. SOAR rows take their inputs from the task. */
export function prepareRow(row: Record<string, unknown>, lookup: TaskLookup): Prepared | string[] {
  const task = "task" in lookup ? lookup.task : undefined;
  const problems: string[] = [];
  const code = row.code;
  if (typeof code !== "string" || !code.trim()) problems.push("column code is missing or empty");
  const trainInputs = asGrids(row.train_input) ?? task?.train.map((e) => e.input) ?? null;
  const trainOutputs = asGrids(row.train_output) ?? task?.train.map((e) => e.output) ?? null;
  const testInputs = asGrids(row.test_input) ?? task?.test.map((e) => e.input) ?? null;
  const testOutputs = asGrids(row.test_output) ?? task?.test.map((e) => e.output ?? []) ?? null;
  const predictedTrain = asGrids(row.predicted_train_output);
  const predictedTest = asGrids(row.predicted_test_output);
  if (!trainInputs) problems.push(`no train inputs: the row has no train_input column, and ${"problem" in lookup ? lookup.problem : "its task has none"}`);
  if (!predictedTrain) problems.push("column predicted_train_output is missing");
  if (trainInputs && predictedTrain && trainInputs.length !== predictedTrain.length)
    problems.push(`predicted_train_output has ${predictedTrain.length} grids for ${trainInputs.length} train inputs`);
  // Every grid the row holds must be one (a failed test prediction is stored as []).
  const grids = {
    predicted_train_output: predictedTrain,
    train_input: trainInputs,
    train_output: trainOutputs,
    test_input: testInputs,
    test_output: testOutputs,
    predicted_test_output: predictedTest,
  } as const;
  for (const [name, list] of Object.entries(grids)) {
    list?.forEach((g, i) => {
      if ((name === "predicted_test_output" || name === "test_output") && g.length === 0) return;
      const problem = gridProblem(g);
      if (problem) problems.push(`${name}[${i}] is not a valid grid (${problem})`);
    });
  }
  for (const [name, flagsValue, inputs] of [
    ["correct_train_input", row.correct_train_input, trainInputs],
    ["correct_test_input", row.correct_test_input, testInputs],
  ] as const) {
    if (Array.isArray(flagsValue) && inputs && flagsValue.length !== inputs.length)
      problems.push(`${name} has ${flagsValue.length} flags for ${inputs.length} inputs`);
  }
  if (problems.length) return problems;
  const withTest = Boolean(testInputs && predictedTest && testInputs.length === predictedTest.length);
  const flags = (v: unknown, n: number) => (Array.isArray(v) && v.length === n ? (v as boolean[]) : Array<null>(n).fill(null));
  return {
    code: code as string,
    inputs: [...trainInputs!, ...(withTest ? testInputs! : [])],
    trainCount: trainInputs!.length,
    predicted: [...predictedTrain!, ...(withTest ? predictedTest! : [])],
    stored: [...flags(row.correct_train_input, trainInputs!.length), ...(withTest ? flags(row.correct_test_input, testInputs!.length) : [])],
    expected: [...(trainOutputs ?? trainInputs!.map(() => null)), ...(withTest ? (testOutputs ?? testInputs!.map(() => null)) : [])],
  };
}

/** Compares a fresh execution with what the row stores. */
export function judgeRow(prepared: Prepared, outcomes: Outcome[]): Pick<RowReport, "status" | "problems" | "examplesTested" | "examplesCorrect"> {
  const problems: string[] = [];
  let correct = 0;
  let status: RowStatus = "ok";
  outcomes.forEach((outcome, i) => {
    const where = i < prepared.trainCount ? `train ${i}` : `test ${i - prepared.trainCount}`;
    const fresh = outcome.status === "ok" ? outcome.grid : [];
    const stored = prepared.predicted[i] ?? [];
    if (i < prepared.trainCount && outcome.status !== "ok") {
      status = outcome.status === "timeout" ? "timeout" : status === "ok" ? "error" : status;
      problems.push(`${where}: ${outcome.status}${"message" in outcome ? ` (${outcome.message})` : "reason" in outcome ? ` (${outcome.reason})` : ""}`);
      return;
    }
    if (!gridsEqual(fresh, stored)) {
      if (status === "ok") status = "mismatch";
      // Say why in the user's terms: a stored grid the program cannot produce because its output is invalid reads "invalid_output: ragged".
      const why =
        outcome.status === "ok"
          ? "stored output differs from the fresh one"
          : `${outcome.status}${"reason" in outcome && outcome.reason ? `: ${outcome.reason}` : "message" in outcome ? `: ${outcome.message}` : ""} (the row stores ${stored.length ? "a grid" : "[]"})`;
      problems.push(`${where}: ${why}`);
      return;
    }
    const expected = prepared.expected[i];
    const flag = prepared.stored[i];
    if (expected && flag !== null && flag !== undefined && flag !== (outcome.status === "ok" && gridsEqual(fresh, expected))) {
      if (status === "ok") status = "mismatch";
      problems.push(`${where}: stored correct flag ${flag} is wrong`);
      return;
    }
    correct++;
  });
  return { status, problems, examplesTested: outcomes.length, examplesCorrect: correct };
}

/** Re-executes rows in the sandbox and reports each, in row order. */
export async function validateRows(params: {
  rows: AsyncIterable<{ split: string; row: number; data: Record<string, unknown> }>;
  tasks: (taskId: string) => Promise<TaskLookup>;
  executor: Executor;
  onReport?: (report: RowReport) => void;
}): Promise<RowReport[]> {
  const reports = new Map<string, RowReport>();
  const pending = new Map<string, { base: Omit<RowReport, "status" | "problems" | "examplesTested" | "examplesCorrect">; prepared: Prepared }>();
  const finish = (key: string, report: RowReport) => {
    reports.set(key, report);
    params.onReport?.(report);
  };
  async function* jobs() {
    for await (const { split, row, data } of params.rows) {
      const key = `${split}\0${row}`;
      const taskId = typeof data.task_id === "string" ? data.task_id : null;
      const base = { split, row, taskId };
      const prepared = prepareRow(data, taskId ? await params.tasks(taskId) : { problem: "it has no task_id" });
      if (Array.isArray(prepared)) {
        finish(key, { ...base, status: "schema", problems: prepared, examplesTested: 0, examplesCorrect: 0 });
        continue;
      }
      pending.set(key, { base, prepared });
      yield { programId: key, code: prepared.code, inputs: prepared.inputs };
    }
  }
  for await (const result of params.executor.run(jobs())) {
    const { base, prepared } = pending.get(result.programId)!;
    pending.delete(result.programId);
    finish(result.programId, { ...base, ...judgeRow(prepared, result.outcomes) });
  }
  return [...reports.values()].sort((a, b) => (a.split === b.split ? a.row - b.row : a.split < b.split ? -1 : 1));
}
