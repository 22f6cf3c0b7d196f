import { describe, expect, it } from "vitest";
import type { ArcTask } from "../../schemas/task.js";
import { transductionVerdict } from "../../stages/filter-transductive.js";

const task: ArcTask = {
  train: [{ input: [[0, 1]], output: [[1, 2], [3, 4]] }],
  test: [{ input: [[5]], output: [[6, 7, 8]] }],
};
const oneByOne: ArcTask = { train: [{ input: [[1, 2]], output: [[3]] }], test: [{ input: [[4]], output: [[5]] }] };

describe("transductive filter", () => {
  it("rejects a line longer than 200 characters", () => {
    expect(transductionVerdict({ code: `x = ${"1".repeat(197)}\n`, task })).toMatchObject({ drop: "transductive_long_line" });
    expect(transductionVerdict({ code: `x = ${"1".repeat(196)}\n`, task })).toBe("keep");
  });

  it("rejects a train output written literally, whatever the spacing", () => {
    expect(transductionVerdict({ code: "def transform(g):\n    return [[1, 2], [3, 4]]", task })).toMatchObject({ drop: "transductive_train_output" });
  });

  it("rejects a literal spread over several lines", () => {
    expect(transductionVerdict({ code: "def transform(g):\n    return [\n        [1, 2],\n        [3, 4],\n    ]", task })).toMatchObject({ drop: "transductive_train_output" });
  });

  it("rejects a test output, and written as tuples (brackets removed)", () => {
    expect(transductionVerdict({ code: "out = [[6,7,8]]", task })).toMatchObject({ drop: "transductive_test_output" });
    expect(transductionVerdict({ code: "rows = ((1, 2), (3, 4))", task })).toMatchObject({ drop: "transductive_train_output" });
  });

  it("does not compare without brackets when the task has a 1x1 output, and ignores matches of 2 characters or fewer", () => {
    expect(transductionVerdict({ code: "def transform(g):\n    return [[g[0][0] + 2]] if 3 else 5", task: oneByOne })).toBe("keep");
    expect(transductionVerdict({ code: "def transform(g):\n    return [[3]]", task: oneByOne })).toMatchObject({ drop: "transductive_train_output" });
  });

  it("keeps a program that computes its outputs", () => {
    expect(transductionVerdict({ code: "def transform(g):\n    return [[c + 1 for c in row] for row in g]", task })).toBe("keep");
  });
});
