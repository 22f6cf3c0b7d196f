import { describe, expect, it } from "vitest";
import type { ArcTask } from "../../schemas/task.js";
import { transductionVerdict } from "../../stages/filter-transductive.js";

const task: ArcTask = {
  train: [
    {
      input: [[0, 1]],
      output: [
        [1, 2],
        [3, 4],
      ],
    },
  ],
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
    expect(transductionVerdict({ code: "def transform(g):\n    return [\n        [1, 2],\n        [3, 4],\n    ]", task })).toMatchObject({
      drop: "transductive_train_output",
    });
  });

  it("rejects a test output, and written as tuples (brackets removed)", () => {
    expect(transductionVerdict({ code: "out = [[6,7,8]]", task })).toMatchObject({ drop: "transductive_test_output" });
    expect(transductionVerdict({ code: "rows = ((1, 2), (3, 4))", task })).toMatchObject({ drop: "transductive_train_output" });
  });

  it("does not compare without brackets when the task has a 1x1 output, and ignores matches of 2 characters or fewer", () => {
    expect(transductionVerdict({ code: "def transform(g):\n    return [[g[0][0] + 2]] if 3 else 5", task: oneByOne })).toBe("keep");
    expect(transductionVerdict({ code: "def transform(g):\n    return [[3]]", task: oneByOne })).toMatchObject({ drop: "transductive_train_output" });
  });

  it("judges a program of a million short lines without overflowing the stack", () => {
    const code = `def transform(g):\n${"    g = g\n".repeat(1_000_000)}    return g`;
    expect(transductionVerdict({ code, task })).toBe("keep");
  });

  it("keeps a program that computes its outputs", () => {
    expect(transductionVerdict({ code: "def transform(g):\n    return [[c + 1 for c in row] for row in g]", task })).toBe("keep");
  });
});

describe("hard-coded outputs in another digit spelling (transductive_digits)", () => {
  /** A 3x3 two-colour output: 707 / 000 / 707. */
  const cross: ArcTask = {
    train: [
      {
        input: [
          [1, 0, 1],
          [0, 0, 0],
          [1, 0, 1],
        ],
        output: [
          [7, 0, 7],
          [0, 0, 0],
          [7, 0, 7],
        ],
      },
    ],
    test: [
      {
        input: [
          [2, 2, 0],
          [0, 0, 0],
          [0, 0, 2],
        ],
        output: [
          [5, 5, 0],
          [0, 0, 0],
          [0, 0, 5],
        ],
      },
    ],
  };

  it("catches outputs stored as digit strings keyed by a hash of the input", () => {
    const code = [
      "import hashlib",
      "ANSWERS = {'9f2c': '707000707/', 'c0de': '550000005'}",
      "def transform(g):",
      "    s = ANSWERS[hashlib.md5(str(g).encode()).hexdigest()[:4]].replace('/', '')",
      "    return [[int(c) for c in s[i * 3:i * 3 + 3]] for i in range(3)]",
    ].join("\n");
    expect(transductionVerdict({ code, task: cross })).toMatchObject({
      drop: "transductive_digits",
      detail: "the test 0 output's digits appear in the code's literals",
    });
  });

  it("catches digits spread over number literals and bytes, in source order", () => {
    const code = "a, b, c = 7, 0, 7\nmiddle = b'000'\nlast = (7, 0, 7)\ndef transform(g):\n    return [[a, b, c], list(middle), list(last)]";
    expect(transductionVerdict({ code, task: cross })).toMatchObject({
      drop: "transductive_digits",
      detail: "the train 0 output's digits appear in the code's literals",
    });
  });

  it("keeps programs whose literals do not hold an output, small or one-colour outputs, and digits in names", () => {
    const honest = "def transform(g):\n    return [[7 if c else 0 for c in row] for row in g]";
    expect(transductionVerdict({ code: honest, task: cross })).toBe("keep");
    const names = "v707, v000, v707b = 1, 2, 3\ndef transform(g):\n    return [[7 if c else 0 for c in row] for row in g]";
    expect(transductionVerdict({ code: names, task: cross })).toBe("keep");
    const plain: ArcTask = {
      train: [
        {
          input: [[1]],
          output: [
            [0, 0, 0],
            [0, 0, 0],
            [0, 0, 0],
          ],
        },
      ],
      test: [{ input: [[1]] }],
    };
    expect(transductionVerdict({ code: "Z = '000000000'\ndef transform(g):\n    return [[0] * 3] * 3", task: plain })).toBe("keep");
  });
});
