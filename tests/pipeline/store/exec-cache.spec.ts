import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CacheError, SandboxError } from "../../../pipeline/common/errors.js";
import { ExecCache } from "../../../pipeline/store/exec-cache.js";
import { executeCached, executeForStage } from "../../../pipeline/store/execute-cached.js";
import { createProcessExecutor } from "../../../pipeline/executor/process-pool.js";
import { fingerprintId, type RuntimeFingerprint } from "../../../pipeline/executor/runtime-fingerprint.js";
import type { Executor, ExecJob } from "../../../pipeline/executor/types.js";
import type { Outcome } from "../../../schemas/outcome.js";
import { DEFAULT_LIMITS } from "../../../schemas/sandbox-limits.js";
import { tempDir } from "../../support/stage-harness.js";

const LIMITS = { timeoutSeconds: 0.3, memoryBytes: 1 << 30 };
const JOBS = [
  { id: "sleeps", code: "import time\ndef transform(g):\n    time.sleep(30)\n    return g", inputs: [[[1]]] },
  { id: "works", code: "def transform(g):\n    return g", inputs: [[[2]]] },
];

/** An executor whose sandbox "dies" on every program: the only way to see a transient outcome on purpose. */
function dyingExecutor(fingerprint: RuntimeFingerprint): Executor {
  return {
    name: "dying",
    limits: DEFAULT_LIMITS,
    async *run(jobs: Iterable<ExecJob> | AsyncIterable<ExecJob>) {
      for await (const job of jobs)
        yield {
          programId: job.programId,
          outcomes: job.inputs.map((): Outcome => ({ status: "crash", message: "sandbox server died twice", ms: 0, transient: true })),
        };
    },
    info: () => Promise.reject(new Error("not used")),
    fingerprint: async () => fingerprint,
    close: async () => undefined,
  };
}

describe("the execution cache", () => {
  it("keeps a sleep timeout, so a rebuild does not run a sleeping program again", async () => {
    const cacheDir = await tempDir();
    const executor = createProcessExecutor({ ...LIMITS, workers: 2 });
    const fingerprint = await executor.fingerprint();
    try {
      const first = new ExecCache({ cacheDir, namespace: "execute", fingerprint, fresh: false });
      const outcomes = await executeCached({ jobs: JOBS, cache: first, limits: LIMITS, executor: async () => executor });
      await first.close();
      expect(outcomes.get("sleeps")![0]).toMatchObject({ status: "timeout", reason: "sleep" });
      const again = new ExecCache({ cacheDir, namespace: "execute", fingerprint, fresh: false });
      await executeCached({ jobs: JOBS, cache: again, limits: LIMITS, executor: () => Promise.reject(new Error("nothing should run")) });
      expect({ hits: again.hits, misses: again.misses }).toEqual({ hits: 2, misses: 0 });
    } finally {
      await executor.close();
    }
  });

  it("runs a program sampled many times once per input and gives every copy its outcomes", async () => {
    const cacheDir = await tempDir();
    const executor = createProcessExecutor({ ...LIMITS, workers: 2 });
    const sent: string[] = [];
    const counting: Executor = {
      ...executor,
      run: (jobs) =>
        executor.run(
          (async function* () {
            for await (const job of jobs) {
              sent.push(job.programId);
              yield job;
            }
          })(),
        ),
    };
    const fingerprint = await executor.fingerprint();
    const doubled = "def transform(g):\n    return [[c * 2 for c in row] for row in g]";
    const jobs = [
      ...["a", "b", "c"].map((id) => ({ id, code: doubled, inputs: [[[1, 2]], [[3]]] })),
      // The same code on other inputs, and other code on the same inputs, are other executions.
      { id: "other-inputs", code: doubled, inputs: [[[4]]] },
      { id: "other-code", code: "def transform(g):\n    return g", inputs: [[[1, 2]], [[3]]] },
    ];
    try {
      const cache = new ExecCache({ cacheDir, namespace: "execute", fingerprint, fresh: false });
      const progress: number[] = [];
      const outcomes = await executeCached({ jobs, cache, limits: LIMITS, executor: async () => counting, onProgress: (done) => progress.push(done) });
      await cache.close();
      expect(sent).toHaveLength(3);
      for (const id of ["a", "b", "c"]) expect(outcomes.get(id)!.map((o) => o.status === "ok" && o.grid)).toEqual([[[2, 4]], [[6]]]);
      expect(outcomes.get("other-inputs")![0]).toMatchObject({ status: "ok", grid: [[8]] });
      expect(outcomes.get("other-code")![0]).toMatchObject({ status: "ok", grid: [[1, 2]] });
      expect(progress.at(-1)).toBe(jobs.length);
      expect({ hits: cache.hits, misses: cache.misses }).toEqual({ hits: 0, misses: 9 });
      // From the cache too, the copies share one outcome object (one decoded grid, not one per copy).
      const again = new ExecCache({ cacheDir, namespace: "execute", fingerprint, fresh: false });
      const cached = await executeCached({ jobs, cache: again, limits: LIMITS, executor: () => Promise.reject(new Error("nothing should run")) });
      expect(cached.get("b")![0]).toBe(cached.get("a")![0]);
      expect(cached.get("c")![1]).toBe(cached.get("a")![1]);
      expect(cached.get("a")![0]).not.toBe(cached.get("other-code")![0]);
      expect({ hits: again.hits, misses: again.misses }).toEqual({ hits: 9, misses: 0 });
    } finally {
      await executor.close();
    }
  });

  it("reports a write the store refuses as a cache error naming the store and the remedy", async () => {
    const cacheDir = await tempDir();
    const fingerprint: RuntimeFingerprint = {
      runner: "r",
      python: "3",
      numpy: "2",
      paths: [],
      packages: {},
      backend: "process",
      isolation: "bubblewrap",
      seeds: { random: 0, numpy: 0, hash: 0 },
    };
    const cache = new ExecCache({ cacheDir, namespace: "execute", fingerprint, fresh: false });
    // LMDB refuses a key this long: a real refusal of the real store, as a damaged store's would be.
    cache.put([["k".repeat(3000), { status: "ok", grid: [[1]], ms: 1 }]]);
    const error = await cache.close().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CacheError);
    expect((error as Error).message).toContain(join(cacheDir, "store.lmdb"));
    expect((error as Error).message).toContain("maximum key size");
    expect((error as Error).message).toContain("arcforge cache clear");
  });

  it("never stores a failure of the sandbox itself", async () => {
    const cacheDir = await tempDir();
    const fingerprint: RuntimeFingerprint = {
      runner: "r",
      python: "3",
      numpy: "2",
      paths: [],
      packages: {},
      backend: "process",
      isolation: "bubblewrap",
      seeds: { random: 0, numpy: 0, hash: 0 },
    };
    const first = new ExecCache({ cacheDir, namespace: "execute", fingerprint, fresh: false });
    await executeCached({ jobs: JOBS, cache: first, limits: LIMITS, executor: async () => dyingExecutor(fingerprint) });
    await first.close();
    const again = new ExecCache({ cacheDir, namespace: "execute", fingerprint, fresh: false });
    for (const job of JOBS) expect(again.get(ExecCache.key({ code: job.code, input: job.inputs[0]!, limits: LIMITS }))).toBeUndefined();
  });

  it("keeps each runtime's verdicts apart: another fingerprint finds nothing", async () => {
    const cacheDir = await tempDir();
    const base: RuntimeFingerprint = {
      runner: "r",
      python: "3.11.7",
      numpy: "2.4.6",
      paths: [],
      packages: {},
      backend: "process",
      isolation: "bubblewrap",
      seeds: { random: 0, numpy: 0, hash: 0 },
    };
    const key = ExecCache.key({ code: "x", input: [[1]], limits: LIMITS });
    const cache = new ExecCache({ cacheDir, namespace: "execute", fingerprint: base, fresh: false });
    cache.put([[key, { status: "ok", grid: [[1]], ms: 1 }]]);
    await cache.close();
    for (const other of [
      { numpy: "2.5.0" },
      { python: "3.12.1" },
      { backend: "docker" },
      { isolation: "landlock+seccomp" as const },
      { seeds: { random: 1, numpy: 1, hash: 1 } },
    ]) {
      const fingerprint = { ...base, ...other };
      expect(fingerprintId(fingerprint)).not.toBe(fingerprintId(base));
      expect(new ExecCache({ cacheDir, namespace: "execute", fingerprint, fresh: false }).get(key)).toBeUndefined();
    }
    expect(new ExecCache({ cacheDir, namespace: "execute", fingerprint: base, fresh: false }).get(key)).toMatchObject({ status: "ok" });
  });
});

describe("an executor whose limits are not the build's", () => {
  it("is refused before it runs anything: outcomes under other limits never enter a cache keyed on the options", async () => {
    const executor = createProcessExecutor({ workers: 1, timeoutSeconds: 0.5 });
    const cacheDir = await tempDir();
    const run = executeForStage({
      stage: "execute",
      namespace: "execute",
      jobs: [{ id: "p", code: "def transform(g):\n    return g", inputs: [[[1]]] }],
      limits: { timeoutSeconds: 2, memoryBytes: DEFAULT_LIMITS.memoryBytes },
      context: { cacheDir, fresh: false, executor: async () => executor, emit: () => undefined },
    });
    await expect(run).rejects.toThrow(SandboxError);
    await expect(run).rejects.toThrow(/enforces 0.5 s CPU and 1024 MiB per input but the build's options say 2 s CPU/);
    await executor.close();
  });
});
