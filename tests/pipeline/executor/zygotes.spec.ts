import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProcessExecutor } from "../../../pipeline/executor/process-pool.js";
import type { Executor } from "../../../pipeline/executor/types.js";
import type { Outcome } from "../../../schemas/outcome.js";

/**
 * The fork server keeps two zygotes: one without numpy, for programs that name neither numpy nor
 * scipy, and one with numpy imported and seeded. Which one a program runs in must never show in
 * what it returns. (The programs below spell numpy 'nu' + 'mpy' where they must not name it.)
 */
const DRAW = "def transform(g):\n    return [[int(np.random.randint(10)) for _ in range(8)]]\n";
const WAYS: Record<string, string> = {
  "names numpy": `import numpy as np\n${DRAW}`,
  "imports it under another name": `np = __import__("nu" + "mpy")\n${DRAW}`,
  "imports it with importlib": `import importlib\nnp = importlib.import_module("nu" + "mpy")\n${DRAW}`,
  "gets it through scipy": `from scipy import ndimage\nimport sys\nnp = sys.modules["nu" + "mpy"]\n${DRAW}`,
};
const HAS_NUMPY = "import sys\ndef transform(g):\n    return [[int(any(m.split('.')[0] == 'nu' + 'mpy' for m in sys.modules))]]\n";
const ALLOCATE = (mib: number) => `def transform(g):\n    block = bytearray(${mib} * 2 ** 20)\n    return [[len(block) // 2 ** 30]]\n`;

const grids = (outcomes: Outcome[]) => outcomes.map((o) => (o.status === "ok" ? o.grid : o.status));

async function runAll(executor: Executor, programs: Record<string, string>, inputs = [[[1]], [[2]]]) {
  const found = new Map<string, (number[][] | string)[]>();
  const jobs = Object.entries(programs).map(([programId, code]) => ({ programId, code, inputs }));
  for await (const r of executor.run(jobs)) found.set(r.programId, grids(r.outcomes));
  return found;
}

describe("the two zygotes", () => {
  const executors: Executor[] = [];
  const make = (seed: number, memoryBytes = 1024 ** 3) => {
    const executor = createProcessExecutor({ workers: 1, timeoutSeconds: 2, memoryBytes, seed });
    executors.push(executor);
    return executor;
  };
  let draws: Map<number, Map<string, (number[][] | string)[]>>;

  beforeAll(async () => {
    draws = new Map();
    for (const seed of [3, 5]) draws.set(seed, await runAll(make(seed), WAYS));
  }, 120_000);
  afterAll(async () => {
    await Promise.all(executors.map((e) => e.close()));
  });

  it("runs a program that names neither numpy nor scipy without numpy, and the others with it", async () => {
    const found = await runAll(make(0), { plain: HAS_NUMPY, numpy: `# numpy\n${HAS_NUMPY}`, scipy: `# scipy\n${HAS_NUMPY}` });
    expect(found.get("plain")).toEqual([[[0]], [[0]]]);
    expect(found.get("numpy")).toEqual([[[1]], [[1]]]);
    expect(found.get("scipy")).toEqual([[[1]], [[1]]]);
  });

  it.each(Object.keys(WAYS).filter((way) => way !== "names numpy"))("gives a program that %s the draws of one that names numpy, seed by seed", (way) => {
    for (const seed of [3, 5]) {
      const named = draws.get(seed)!.get("names numpy")!;
      expect(named.every((g) => typeof g !== "string")).toBe(true);
      expect(draws.get(seed)!.get(way)).toEqual(named);
    }
    expect(draws.get(3)!.get("names numpy")).not.toEqual(draws.get(5)!.get("names numpy"));
  });

  it("counts a program's memory from its own zygote: an allocation passes or fails whichever zygote runs it", async () => {
    const found = await runAll(
      make(0, 256 * 1024 ** 2),
      { small: ALLOCATE(128), smallNumpy: `# numpy\n${ALLOCATE(128)}`, large: ALLOCATE(384), largeNumpy: `# numpy\n${ALLOCATE(384)}` },
      [[[1]]],
    );
    expect(found.get("small")).toEqual([[[0]]]);
    expect(found.get("smallNumpy")).toEqual([[[0]]]);
    expect(found.get("large")).toEqual(["memory"]);
    expect(found.get("largeNumpy")).toEqual(["memory"]);
  });
});
