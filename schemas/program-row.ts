import { gridsEqual, type Grid } from "./grid.js";
import { rowId, runTimestampOf } from "./program-identity.js";
import type { Row } from "./program.js";
import type { ArcTask } from "./task.js";

const colours = (grid: Grid) => new Set(grid.flat()).size;

/**
 * A row of the verified program table: the flat columns, the program's identity and provenance
 * (its first copy's, carried through a round trip), and the derived columns recipes filter on.
 */
export function programRow(params: { flat: Record<string, unknown>; row: Row; task: ArcTask; augment: boolean }): Record<string, unknown> {
  const { row, task } = params;
  const p = row.provenance;
  const predicted = [...row.predictedTrain, ...row.predictedTest];
  return {
    ...params.flat,
    row_id: rowId({ dataset: row.dataset, taskId: row.taskId, code: row.code }),
    copies: row.copies ?? p?.copies ?? 1,
    models: row.models ?? p?.models ?? [row.model],
    source: p?.source ?? row.logFile,
    run_timestamp: p ? p.runTimestamp : runTimestampOf(row.logFile),
    subset: p ? p.subset : (row.subset ?? null),
    train_correct: row.correctTrain.filter(Boolean).length,
    test_correct: row.correctTest.filter(Boolean).length,
    all_train_correct: row.correctTrain.every(Boolean),
    all_test_correct: row.solvesTest,
    code_length: [...row.code].length,
    max_predicted_height: Math.max(0, ...predicted.map((g) => g.length)),
    max_predicted_width: Math.max(0, ...predicted.map((g) => Math.max(0, ...g.map((r) => r.length)))),
    identity: task.train.every((e, i) => gridsEqual(row.predictedTrain[i], e.input)),
    single_colour: task.train.some((e, i) => colours(row.predictedTrain[i]!) === 1 && colours(e.output) > 1),
    // Programs the augmentation check failed were dropped, so a row that ran it passed it.
    fails_augment: params.augment ? false : null,
  };
}
