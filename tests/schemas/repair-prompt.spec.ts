import { describe, expect, it } from "vitest";
import { difference, repairPrompt } from "../../schemas/repair-prompt.js";

describe("the repair prompt", () => {
  it("is pinned on a fixed task", () => {
    const task = {
      train: [
        { input: [[1, 2]], output: [[2, 1]] },
        { input: [[3, 4]], output: [[4, 3]] },
      ],
      test: [{ input: [[5, 6]] }],
    };
    expect(
      repairPrompt({
        task,
        code: "def transform(g):\n    return g\n",
        predictedTrain: [
          [[2, 1]],
          [
            [3, 4],
            [0, 0],
          ],
        ],
        predictedTest: [[[5, 6]]],
      }),
    ).toBe(
      [
        "Solve this ARC puzzle.",
        "",
        "## Example 1\nInput (1x2):\n1 2\nOutput (1x2):\n2 1",
        "",
        "## Example 2\nInput (1x2):\n3 4\nOutput (1x2):\n4 3",
        "",
        "## Test input (1x2):\n5 6",
        "",
        "Write the rule as `def transform(grid)` in a single ```python code block.",
        "",
        "## A previous attempt",
        "",
        "```python\ndef transform(g):\n    return g\n```",
        "",
        "It produced the right output on 1 of 2 training examples.",
        "",
        "### Its output for example 1 (1×2): right\n2 1",
        "",
        "### Its output for example 2 (2×2): wrong\n3 4\n0 0\nWrong shape: expected 1×2, got 2×2.",
        "",
        "### Its output for the test input (1×2)\n5 6\nWe do not know if this is correct.",
        "",
        "Write an improved `def transform(grid)` in a single ```python code block.",
      ].join("\n"),
    );
  });

  it("lists at most 20 differing cells, 0-based, then how many more", () => {
    const expected = Array.from({ length: 5 }, () => [0, 0, 0, 0, 0]);
    const got = Array.from({ length: 5 }, () => [1, 1, 1, 1, 1]);
    const text = difference({ got, expected });
    expect(text.split("\n")[0]).toBe("25 cells differ:");
    expect(text.split("\n")[1]).toBe("row 0, col 0: got 1, expected 0");
    expect(text.split("\n")).toHaveLength(22);
    expect(text.endsWith("and 5 more")).toBe(true);
  });
});
