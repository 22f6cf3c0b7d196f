import { describe, expect, it } from "vitest";
import { judgeRow, prepareRow } from "../../../pipeline/validate/validate-rows.js";

const row = {
  code: "def transform(g):\n    return g",
  train_input: [[[1]], [[2]], [[3]]],
  train_output: [[[1]], [[2]], [[3]]],
  predicted_train_output: [[[1]], [[2]], [[3]]],
  correct_train_input: [true, true, true],
  test_input: [[[4]]],
  test_output: [[[4]]],
  predicted_test_output: [[[4, 4], [4]]],
  correct_test_input: [false],

  task_id: "aaaaaaaa",
};

describe("validating a row", () => {
  it("calls a row whose correctness flags do not match its inputs in number a schema problem", () => {
    const valid = { ...row, predicted_test_output: [[[4]]] };
    const problems = prepareRow({ ...valid, correct_train_input: Array(50).fill(true) }, { problem: "unused" });
    expect(problems).toEqual(["correct_train_input has 50 flags for 3 inputs"]);
    expect(prepareRow({ ...valid, correct_test_input: [true, false] }, { problem: "unused" })).toEqual(["correct_test_input has 2 flags for 1 inputs"]);
  });

  it("calls a stored grid that is no grid (ragged) a schema problem, not a mismatch", () => {
    expect(prepareRow(row, { problem: "unused" })).toEqual(["predicted_test_output[0] is not a valid grid (ragged)"]);
  });

  it("says why in the user's terms when the program cannot produce a stored grid", () => {
    const prepared = prepareRow({ ...row, predicted_test_output: [[[4]]] }, { problem: "unused" });
    if (Array.isArray(prepared)) throw new Error(prepared.join());
    const ok = (grid: number[][]) => ({ status: "ok" as const, grid, ms: 1 });
    const verdict = judgeRow(prepared, [ok([[1]]), ok([[2]]), ok([[3]]), { status: "invalid_output", reason: "ragged", ms: 1 }]);
    expect(verdict).toMatchObject({ status: "mismatch", problems: ["test 0: invalid_output: ragged (the row stores a grid)"] });
  });
});
