import { gridsEqual, gridToText, type Grid } from "./grid.js";
import { userPrompt } from "./prompt.js";
import type { ArcTask } from "./task.js";

/** Cells listed for a wrong output of the right shape; the rest are counted. */
export const MAX_LISTED_CELLS = 20;

const size = (grid: Grid) => `${grid.length}×${grid[0]?.length ?? 0}`;

/** How an output departs from the expected one: the cells that differ (0-based), or the shape. */
export function difference(params: { got: Grid; expected: Grid }): string {
  const { got, expected } = params;
  if (got.length !== expected.length || got.some((row, r) => row.length !== expected[r]!.length))
    return `Wrong shape: expected ${size(expected)}, got ${size(got)}.`;
  const cells: string[] = [];
  expected.forEach((row, r) => row.forEach((cell, c) => got[r]![c] !== cell && cells.push(`row ${r}, col ${c}: got ${got[r]![c]}, expected ${cell}`)));
  const more = cells.length > MAX_LISTED_CELLS ? [`and ${cells.length - MAX_LISTED_CELLS} more`] : [];
  return [`${cells.length} cells differ:`, ...cells.slice(0, MAX_LISTED_CELLS), ...more].join("\n");
}

/**
 * The user turn of a repair example: the task (train pairs with their real outputs, the test
 * input), the parent's code, how many train outputs it got right, each of its train outputs with
 * what is wrong in it, and its test output, marked as not known to be right.
 */
export function repairPrompt(params: { task: ArcTask; code: string; predictedTrain: Grid[]; predictedTest: Grid[] }): string {
  const { task } = params;
  const right = task.train.filter((e, i) => gridsEqual(params.predictedTrain[i], e.output)).length;
  const trainLines = task.train.map((e, i) => {
    const got = params.predictedTrain[i]!;
    const ok = gridsEqual(got, e.output);
    return [
      `### Its output for example ${i + 1} (${size(got)}): ${ok ? "right" : "wrong"}`,
      gridToText(got),
      ...(ok ? [] : [difference({ got, expected: e.output })]),
    ].join("\n");
  });
  const testLines = params.predictedTest.map((got, i) =>
    [
      `### Its output for the test input${params.predictedTest.length > 1 ? ` ${i + 1}` : ""} (${size(got)})`,
      gridToText(got),
      "We do not know if this is correct.",
    ].join("\n"),
  );
  return [
    userPrompt({ train: task.train, testInputs: task.test.map((e) => e.input) }),
    "",
    "## A previous attempt",
    "",
    "```python",
    params.code.trimEnd(),
    "```",
    "",
    `It produced the right output on ${right} of ${task.train.length} training examples.`,
    "",
    ...trainLines.flatMap((l) => [l, ""]),
    ...testLines.flatMap((l) => [l, ""]),
    "Write an improved `def transform(grid)` in a single ```python code block.",
  ].join("\n");
}
