import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProcessExecutor } from "../../pipeline/executor/process-pool.js";
import type { Executor } from "../../pipeline/executor/types.js";
import { gridProblem, gridToText, gridsEqual } from "../../schemas/grid.js";

/** [python expression a program returns, the same value as JSON (when it has one), expected reason or null] */
const CASES: [string, unknown, string | null][] = [
  [
    "[[1, 2], [3, 4]]",
    [
      [1, 2],
      [3, 4],
    ],
    null,
  ],
  ["np.array([[1, 2], [3, 4]], dtype=np.int64)", undefined, null],
  ["np.array([[9]], dtype=np.uint8)", undefined, null],
  ["[[np.int64(3), np.int32(4)]]", undefined, null],
  ["[np.array([1, 2]), np.array([3, 4])]", undefined, null],
  ["[[True, False]]", [[true, false]], "bool"],
  ["np.array([[True]])", undefined, "bool"],
  ["[[np.bool_(True)]]", undefined, "bool"],
  ["[[1.0, 2.0]]", [[1.5, 2.5]], "float"],
  ["np.zeros((2, 2))", undefined, "float"],
  ["[[1, 2], [3]]", [[1, 2], [3]], "ragged"],
  ["[]", [], "empty"],
  ["[[]]", [[]], "empty"],
  ["[[1], []]", [[1], []], "empty"],
  ["np.zeros((2, 2, 2), dtype=int)", [[[1]]], "not_2d"],
  ["[1, 2, 3]", [1, 2, 3], "not_2d"],
  ["[[[1]]]", [[[1]]], "not_2d"],
  ["'1 2\\n3 4'", "1 2\n3 4", "not_2d"],
  ["None", null, "not_2d"],
  ["((1, 2), (3, 4))", undefined, "not_2d"],
  ["[[1, 10]]", [[1, 10]], "out_of_range"],
  ["[[-1]]", [[-1]], "out_of_range"],
  ["[['1']]", [["1"]], "not_int"],
  ["[[None]]", [[null]], "not_int"],
  ["[[0] * 31] * 2", [Array(31).fill(0), Array(31).fill(0)], "too_large"],
  ["[[0]] * 31", Array(31).fill([0]), "too_large"],
  ["[[0] * 30] * 30", Array(30).fill(Array(30).fill(0)), null],
];

describe("the grid rule", () => {
  let executor: Executor;
  const fromRunner = new Map<string, string | null>();

  beforeAll(async () => {
    executor = createProcessExecutor({ workers: 2 });
    const jobs = CASES.map(([expr], k) => ({ programId: String(k), code: `import numpy as np\ndef transform(grid):\n    return ${expr}`, inputs: [[[0]]] }));
    for await (const r of executor.run(jobs)) {
      const o = r.outcomes[0]!;
      fromRunner.set(r.programId, o.status === "ok" ? null : o.status === "invalid_output" ? o.reason : `unexpected ${o.status}: ${JSON.stringify(o)}`);
    }
  });
  afterAll(() => executor.close());

  it.each(CASES.map((c, k) => [c[0], c[2], k] as const))("the runner judges %s as %s", (_expr, reason, k) => {
    expect(fromRunner.get(String(k))).toBe(reason);
  });

  it.each(CASES.filter((c) => c[1] !== undefined).map((c) => [JSON.stringify(c[1]).slice(0, 40), c[1], c[2]] as const))(
    "the TypeScript rule agrees with the runner on %s",
    (_label, value, reason) => {
      expect(gridProblem(value)).toBe(reason);
    },
  );

  it("returns numpy results as plain ints equal to the list form", async () => {
    for await (const r of executor.run([
      {
        programId: "np",
        code: "import numpy as np\ndef transform(g):\n    return np.array(g, dtype=np.int64) + 1",
        inputs: [
          [
            [1, 2],
            [3, 4],
          ],
        ],
      },
    ])) {
      expect(r.outcomes[0]).toMatchObject({
        status: "ok",
        grid: [
          [2, 3],
          [4, 5],
        ],
      });
    }
  });

  it("writes grids as digit rows and keeps empty rows visible as [EMPTY_ROW]", () => {
    expect(gridToText([[1, 2], [], [3, 4]])).toBe("1 2\n[EMPTY_ROW]\n3 4");
    expect(gridsEqual([[1, 2]], [[1, 2]])).toBe(true);
    expect(gridsEqual([[1, 2]], [[1], [2]])).toBe(false);
  });
});
