import type { Outcome } from "../../schemas/outcome.js";
import type { ExecutedProgram, Row } from "../../schemas/program.js";
import type { ArcTask } from "../../schemas/task.js";

/** Small records for stage specs: one task, executed programs and relabelled rows, no Python. */
export const task: ArcTask = {
  train: [
    { input: [[1]], output: [[2]] },
    { input: [[3]], output: [[4]] },
  ],
  test: [
    { input: [[5]], output: [[6]] },
    { input: [[7]], output: [[8]] },
  ],
};
export const ok = (grid: number[][]): Outcome => ({ status: "ok", grid, ms: 1 });

export function program(id: string, outcomes: Outcome[], code = "def transform(g): ..."): ExecutedProgram {
  return {
    id,
    logFile: id.split("#")[0]!,
    taskId: "aaaaaaaa",
    dataset: "arc-agi-1",
    subset: null,
    model: "m",
    attemptNumber: Number(id.split("#")[1]),
    code,
    reasoning: null,
    loggedTestCorrect: null,
    taskKey: "arc-agi-1/aaaaaaaa",
    outcomes,
  };
}

export function row(id: string, params: { task?: string; solves?: boolean; code?: string; train?: number[][][]; correct?: boolean[] }): Row {
  return {
    id,
    logFile: id.split("#")[0]!,
    attemptNumber: Number(id.split("#")[1]),
    taskKey: `arc-agi-1/${params.task ?? "aaaaaaaa"}`,
    dataset: "arc-agi-1",
    taskId: params.task ?? "aaaaaaaa",
    model: "m",
    generation: 0,
    code: params.code ?? `code of ${id}`,
    reasoning: null,
    predictedTrain: params.train ?? [[[Number(id.split("#")[1])]]],
    correctTrain: params.correct ?? [false],
    predictedTest: [],
    correctTest: [params.solves ?? false],
    solvesTest: params.solves ?? false,
    loggedTestCorrect: null,
  };
}
