import type { BuildOptions } from "../schemas/build-options.js";
import { defineStage, type StageOutput } from "../pipeline/engine/stage.js";
import { gridsEqual, type Grid } from "../schemas/grid.js";
import type { Outcome } from "../schemas/outcome.js";
import type { ExecutedProgram, Row } from "../schemas/program.js";
import type { ArcTask } from "../schemas/task.js";
import { totalWeight } from "../schemas/twins.js";
import { loadTasksStage } from "./load-tasks.js";

const gridOf = (o: Outcome): Grid => (o.status === "ok" ? o.grid : []);

/** Hindsight relabelling: the program's own outputs become the labels of a new task. */
export function relabel(params: { program: ExecutedProgram; task: ArcTask; generation: number }): Row {
  const { program, task } = params;
  const train = program.outcomes.slice(0, task.train.length);
  const test = program.outcomes.slice(task.train.length);
  const correctTest = test.map((o, i) => o.status === "ok" && gridsEqual(o.grid, task.test[i]!.output));
  return {
    id: program.id,
    logFile: program.logFile,
    attemptNumber: program.attemptNumber,
    taskKey: program.taskKey,
    dataset: program.dataset,
    taskId: program.taskId,
    model: program.model,
    generation: params.generation,
    code: program.code,
    reasoning: program.reasoning,
    predictedTrain: train.map(gridOf),
    correctTrain: train.map((o, i) => o.status === "ok" && gridsEqual(o.grid, task.train[i]!.output)),
    predictedTest: test.map(gridOf),
    correctTest,
    solvesTest: correctTest.length > 0 && correctTest.every(Boolean),
    loggedTestCorrect: program.loggedTestCorrect,
    subset: program.subset,
    ...(program.provenance ? { provenance: program.provenance } : {}),
    ...(program.turn !== undefined ? { turn: program.turn } : {}),
    ...(program.twins ? { twins: program.twins } : {}),
    ...(program.refined ? { refined: program.refined } : {}),
  };
}

export const relabelStage = defineStage<BuildOptions, ExecutedProgram, Row, undefined>({
  name: "relabel",
  version: 4,
  sides: [loadTasksStage],
  summary: ({ report: { counts } }) => [
    `relabelled rows: ${counts.rows ?? 0}; >=1 train correct ${counts.any_train_correct ?? 0}, all train correct ${counts.all_train_correct ?? 0}, ` +
      `test solved ${counts.test_solved ?? 0}, all train and test ${counts.all_train_and_test ?? 0}`,
    `logged vs re-executed test result: ${counts.logged_vs_executed_mismatch ?? 0} differ`,
  ],
  key: (options) => ({ generation: options.generation ?? null, reasoning: options.reasoning }),
  async run({ options, upstream }): Promise<StageOutput<Row, undefined>> {
    const programs = upstream.input.records;
    const { tasks } = upstream.side(loadTasksStage).data;
    const records = programs.map((program) => {
      const row = relabel({ program, task: tasks[program.taskKey]!, generation: options.generation ?? program.generation ?? 0 });
      // Only --reasoning writes a model's reasoning, and only a test-solving row's: not carried
      // otherwise. On real logs it was half of these rows' bytes, read back by every rebuild.
      return row.reasoning === null || (options.reasoning && row.solvesTest) ? row : { ...row, reasoning: null };
    });
    // Per attempt: a row standing for its twins counts once for each.
    const count = (test: (r: Row) => boolean) => totalWeight(records.filter(test));
    const counts = {
      rows: totalWeight(records),
      any_train_correct: count((r) => r.correctTrain.some(Boolean)),
      all_train_correct: count((r) => r.correctTrain.every(Boolean)),
      test_solved: count((r) => r.solvesTest),
      all_train_and_test: count((r) => r.solvesTest && r.correctTrain.every(Boolean)),
      logged_vs_executed_mismatch: count((r) => r.loggedTestCorrect !== null && r.loggedTestCorrect !== r.solvesTest),
    };
    return { records, drops: [], counts };
  },
});
