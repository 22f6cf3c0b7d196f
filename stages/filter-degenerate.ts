import type { BuildOptions } from "../schemas/build-options.js";
import { applyFilter, defineStage, type StageOutput } from "../pipeline/engine/stage.js";
import { gridsEqual, type Grid } from "../schemas/grid.js";
import type { Verdict } from "../schemas/drop.js";
import type { Row } from "../schemas/program.js";
import type { ArcTask } from "../schemas/task.js";
import { loadTasksStage } from "./load-tasks.js";
import { countList } from "../pipeline/common/count-list.js";

const colours = (grid: Grid) => new Set(grid.flat()).size;

/**
 * Programs that teach nothing (opt-in, as SOAR and the users' newer tooling do): an identity
 * program (its output is its input on every train example), and a single-colour prediction where
 * the real output has several colours (on any train example).
 */
export function degenerateVerdict(params: { row: Row; task: ArcTask; dropIdentity: boolean; dropSingleColour: boolean }): Verdict {
  const { row, task } = params;
  if (params.dropIdentity && task.train.every((example, i) => gridsEqual(row.predictedTrain[i], example.input))) {
    return { drop: "identity", detail: "output equals input on every train example" };
  }
  if (params.dropSingleColour) {
    const i = task.train.findIndex((example, k) => colours(row.predictedTrain[k]!) === 1 && colours(example.output) > 1);
    if (i !== -1) return { drop: "single_colour", detail: `train ${i}: one colour predicted, ${colours(task.train[i]!.output)} in the real output` };
  }
  return "keep";
}

export const filterDegenerateStage = defineStage<BuildOptions, Row, Row, undefined>({
  name: "filter-degenerate",
  version: 1,
  selects: true,
  sides: [loadTasksStage],
  summary: ({ report }) => (Object.keys(report.dropped).length ? [`degenerate programs dropped: ${countList(report.dropped)}`] : []),
  key: (options) => ({ dropIdentity: options.dropIdentity, dropSingleColour: options.dropSingleColour }),
  async run({ options, upstream }): Promise<StageOutput<Row, undefined>> {
    const rows = upstream.input.records;
    if (!options.dropIdentity && !options.dropSingleColour) return { records: rows, drops: [] };
    const { tasks } = upstream.side(loadTasksStage).data;
    const verdict = (row: Row) =>
      degenerateVerdict({ row, task: tasks[row.taskKey]!, dropIdentity: options.dropIdentity, dropSingleColour: options.dropSingleColour });
    return applyFilter({ records: rows, id: (r) => r.id, taskId: (r) => r.taskId, verdict });
  },
});
