import { execFileSync } from "node:child_process";
import { join } from "node:path";
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

  it("judges every grid as the cell-by-cell rule does, whichever path decides it", () => {
    // The runner's rule takes a fast path for rows of exact ints; this reference is the cell loop
    // alone. Grids are random, then spoiled in one place with what programs return.
    const script = `
import random, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from grid_rule import normalise
def reference(value):
    if isinstance(value, np.ndarray):
        if value.ndim != 2: return None, "not_2d"
        if value.dtype == np.bool_: return None, "bool"
        if value.dtype.kind == "f": return None, "float"
        if value.dtype.kind not in "iu" and value.dtype != object: return None, "not_int"
        value = value.tolist()
    if not isinstance(value, list): return None, "not_2d"
    if len(value) == 0: return None, "empty"
    rows, width = [], None
    for row in value:
        if isinstance(row, np.ndarray):
            if row.ndim != 1: return None, "not_2d"
            row = row.tolist()
        if not isinstance(row, list): return None, "not_2d"
        if len(row) == 0: return None, "empty"
        if width is None: width = len(row)
        elif len(row) != width: return None, "ragged"
        cells = []
        for cell in row:
            if isinstance(cell, (list, tuple, np.ndarray)): return None, "not_2d"
            if isinstance(cell, (bool, np.bool_)): return None, "bool"
            if isinstance(cell, (float, np.floating)): return None, "float"
            if not isinstance(cell, (int, np.integer)): return None, "not_int"
            cell = int(cell)
            if cell < 0 or cell > 9: return None, "out_of_range"
            cells.append(cell)
        rows.append(cells)
    if len(rows) > 30 or width > 30: return None, "too_large"
    return rows, None
class Int(int): pass
class Row(list): pass
SPOILERS = [True, 10, -1, 2.0, "3", None, [1], (1,), np.int64(4), np.bool_(False), np.float64(1), Int(5), Int(12), 2**70]
rng = random.Random(7)
judged = {}
for case in range(4000):
    h, w = rng.randint(1, 31), rng.randint(1, 31)
    grid = [[rng.randint(0, 9) for _ in range(w)] for _ in range(h)]
    kind = rng.randrange(6)
    if kind == 1: grid[rng.randrange(h)][rng.randrange(w)] = rng.choice(SPOILERS)
    if kind == 2: grid[rng.randrange(h)] = Row(grid[rng.randrange(h)])
    if kind == 3: grid[rng.randrange(h)] = grid[rng.randrange(h)][: rng.randrange(w + 1)]
    if kind == 4: grid[rng.randrange(h)] = np.array(grid[rng.randrange(h)])
    value = np.array(grid) if kind == 5 else grid
    got, want = normalise(value), reference(value)
    if got != want or (got[0] is not None and any(type(c) is not int for r in got[0] for c in r)):
        print("DIFFERS", case, got[1], want[1]); sys.exit(1)
    judged[str(want[1])] = judged.get(str(want[1]), 0) + 1
print(sorted(judged.items(), key=str))
`;
    const out = execFileSync("python3", ["-B", "-c", script, join(import.meta.dirname, "../../docker/runner")]).toString();
    for (const reason of ["None", "bool", "float", "not_int", "out_of_range", "ragged", "empty", "too_large", "not_2d"]) expect(out).toContain(`'${reason}'`);
  });

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
