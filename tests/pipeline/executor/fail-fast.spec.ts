import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProcessExecutor } from "../../../pipeline/executor/process-pool.js";
import type { ExecJob, Executor } from "../../../pipeline/executor/types.js";
import { ExecCache } from "../../../pipeline/store/exec-cache.js";
import { executeCached } from "../../../pipeline/store/execute-cached.js";
import type { Outcome } from "../../../schemas/outcome.js";
import { tempDir } from "../../support/stage-harness.js";

const LIMITS = { timeoutSeconds: 0.3, memoryBytes: 1 << 30 };
const INPUTS = [[[1]], [[2]], [[3]], [[4]]];
/** Fails on the input holding 2: an error, so the inputs after it may be skipped. */
const FAILS_ON_2 = "def transform(g):\n    if g[0][0] == 2:\n        raise ValueError('two')\n    return g";
const LOOPS_ON_1 = "def transform(g):\n    while g[0][0] == 1:\n        pass\n    return g";
const PASSES = "def transform(g):\n    return [[c + 1 for c in row] for row in g]";

let executor: Executor;
beforeAll(() => {
  executor = createProcessExecutor({ ...LIMITS, workers: 2 });
});
afterAll(async () => executor.close());

/** The executor, with every job it is asked to run recorded. */
function recording(sent: ExecJob[]): Executor {
  return {
    ...executor,
    run: (jobs) =>
      executor.run(
        (async function* () {
          for await (const job of jobs) {
            sent.push(job);
            yield job;
          }
        })(),
      ),
  };
}

async function run(jobs: { id: string; code: string; inputs: number[][][]; failFast?: number }[], cacheDir: string, sent: ExecJob[] = []) {
  const cache = new ExecCache({ cacheDir, namespace: "execute", fingerprint: await executor.fingerprint(), fresh: false });
  try {
    return await executeCached({ jobs, cache, limits: LIMITS, executor: async () => recording(sent) });
  } finally {
    await cache.close();
  }
}

const statuses = (outcomes: Outcome[]) => outcomes.map((o) => o.status);
/** Outcomes without their timing. */
const timeless = (outcomes: Outcome[]) => outcomes.map((o) => ({ ...o, ms: 0 }));

describe("a failure that decides a program ends its run (failFast)", () => {
  it("skips the inputs after a failure within failFast, and runs every input after a failure beyond it", async () => {
    const outcomes = await run(
      [
        { id: "decided", code: FAILS_ON_2, inputs: INPUTS, failFast: 4 },
        { id: "train-only", code: FAILS_ON_2, inputs: INPUTS, failFast: 1 },
        { id: "every-input", code: FAILS_ON_2, inputs: INPUTS },
      ],
      await tempDir(),
    );
    expect(statuses(outcomes.get("decided")!)).toEqual(["ok", "error", "skipped", "skipped"]);
    expect(statuses(outcomes.get("train-only")!)).toEqual(["ok", "error", "ok", "ok"]);
    expect(statuses(outcomes.get("every-input")!)).toEqual(["ok", "error", "ok", "ok"]);
  });

  it("stops a program that times out on its first input instead of timing out on every input", async () => {
    const started = performance.now();
    const outcomes = await run([{ id: "loops", code: LOOPS_ON_1, inputs: [[[1]], [[1]], [[1]], [[1]]], failFast: 4 }], await tempDir());
    expect(statuses(outcomes.get("loops")!)).toEqual(["timeout", "skipped", "skipped", "skipped"]);
    // One timeout and its backstop, not four.
    expect(performance.now() - started).toBeLessThan(4 * LIMITS.timeoutSeconds * 1000 * 2);
  });

  it("never changes a verdict: the same first failure and the same outcomes before it, every input of a passing program", async () => {
    const programs = [
      { id: "passes", code: PASSES },
      { id: "fails-on-2", code: FAILS_ON_2 },
      { id: "loops-on-1", code: LOOPS_ON_1 },
      { id: "bad-output", code: "def transform(g):\n    return 7 if g[0][0] == 3 else g" },
    ];
    const full = await run(
      programs.map((p) => ({ ...p, inputs: INPUTS })),
      await tempDir(),
    );
    const fast = await run(
      programs.map((p) => ({ ...p, inputs: INPUTS, failFast: INPUTS.length })),
      await tempDir(),
    );
    for (const { id } of programs) {
      const first = full.get(id)!.findIndex((o) => o.status !== "ok");
      if (first === -1) expect(timeless(fast.get(id)!), id).toEqual(timeless(full.get(id)!));
      else {
        expect(timeless(fast.get(id)!.slice(0, first + 1)), id).toEqual(timeless(full.get(id)!.slice(0, first + 1)));
        expect(statuses(fast.get(id)!.slice(first + 1)), id).toEqual(Array(INPUTS.length - first - 1).fill("skipped"));
      }
    }
  });

  it("caches no skipped input: a later run that needs every input runs only those, and a run that stops early runs nothing", async () => {
    const cacheDir = await tempDir();
    await run([{ id: "p", code: FAILS_ON_2, inputs: INPUTS, failFast: 4 }], cacheDir);
    const again: ExecJob[] = [];
    const decided = await run([{ id: "p", code: FAILS_ON_2, inputs: INPUTS, failFast: 4 }], cacheDir, again);
    expect(again).toEqual([]);
    expect(statuses(decided.get("p")!)).toEqual(["ok", "error", "skipped", "skipped"]);
    const validate: ExecJob[] = [];
    const every = await run([{ id: "p", code: FAILS_ON_2, inputs: INPUTS }], cacheDir, validate);
    expect(validate.map((j) => j.inputs)).toEqual([INPUTS.slice(2)]);
    expect(statuses(every.get("p")!)).toEqual(["ok", "error", "ok", "ok"]);
  });

  it("takes no backend's word for a skip: an input skipped without a failure before it is a sandbox failure, not cached", async () => {
    const lying: Executor = {
      ...executor,
      async *run(jobs) {
        for await (const job of jobs) yield { programId: job.programId, outcomes: job.inputs.map((): Outcome => ({ status: "skipped", ms: 0 })) };
      },
    };
    const cacheDir = await tempDir();
    const cache = new ExecCache({ cacheDir, namespace: "execute", fingerprint: await executor.fingerprint(), fresh: false });
    const outcomes = await executeCached({
      jobs: [{ id: "p", code: PASSES, inputs: INPUTS, failFast: 4 }],
      cache,
      limits: LIMITS,
      executor: async () => lying,
    });
    await cache.close();
    expect(outcomes.get("p")!.every((o) => o.status === "crash" && o.transient)).toBe(true);
    const honest = await run([{ id: "p", code: PASSES, inputs: INPUTS, failFast: 4 }], cacheDir);
    expect(statuses(honest.get("p")!)).toEqual(["ok", "ok", "ok", "ok"]);
  });
});
