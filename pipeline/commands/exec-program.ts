import { gridsEqual, type Grid } from "../../schemas/grid.js";
import type { Outcome } from "../../schemas/outcome.js";
import type { ArcTask } from "../../schemas/task.js";
import type { Executor } from "../executor/types.js";

export interface ExecReport {
  outcomes: (Outcome & { split: "train" | "test" | "input"; index: number; matches?: boolean })[];
}

/** Runs one program on every train then test input of a task (or on a plain list of grids). */
export async function execProgram(params: { code: string; executor: Executor; task?: ArcTask; inputs?: Grid[] }): Promise<ExecReport> {
  const examples: { split: "train" | "test" | "input"; index: number; input: Grid; expected?: Grid }[] = params.task
    ? [
        ...params.task.train.map((e, index) => ({ split: "train" as const, index, input: e.input, expected: e.output })),
        ...params.task.test.map((e, index) => ({ split: "test" as const, index, input: e.input, expected: e.output })),
      ]
    : (params.inputs ?? []).map((input, index) => ({ split: "input" as const, index, input }));
  let outcomes: Outcome[] = [];
  for await (const result of params.executor.run([{ programId: "program", code: params.code, inputs: examples.map((e) => e.input) }])) {
    outcomes = result.outcomes;
  }
  return {
    outcomes: examples.map((example, i) => ({
      ...outcomes[i]!,
      split: example.split,
      index: example.index,
      ...(example.expected ? { matches: outcomes[i]!.status === "ok" && gridsEqual((outcomes[i] as { grid: Grid }).grid, example.expected) } : {}),
    })),
  };
}
