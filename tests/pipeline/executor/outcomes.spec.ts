import { execFileSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { createProcessExecutor } from "../../../pipeline/executor/process-pool.js";
import type { ExecutorEvent, Executor } from "../../../pipeline/executor/types.js";
import { killIfAlive, runnerPids } from "../../support/processes.js";

let executor: Executor | undefined;
afterEach(async () => {
  await executor?.close();
  executor = undefined;
});

async function runOne(code: string, inputs = [[[1]]], options = {}) {
  executor = createProcessExecutor({ workers: 1, timeoutSeconds: 0.5, ...options });
  for await (const r of executor.run([{ programId: "p", code, inputs }])) return r.outcomes;
  throw new Error("no result");
}

describe("execution outcomes", () => {
  it("reports an exception with its type and message", async () => {
    const [o] = await runOne("def transform(g):\n    raise ValueError('no pattern found')");
    expect(o).toMatchObject({ status: "error", message: "ValueError: no pattern found" });
  });

  it("reports a syntax error for every input", async () => {
    const outcomes = await runOne("def transform(g) return g", [[[1]], [[2]]]);
    expect(outcomes.map((o) => o.status)).toEqual(["error", "error"]);
    expect(outcomes[0]).toMatchObject({ message: expect.stringContaining("SyntaxError") });
  });

  it("reports a missing transform function", async () => {
    const [o] = await runOne("def solve(g):\n    return g");
    expect(o).toMatchObject({ status: "error", message: expect.stringContaining("no transform function") });
  });

  it("treats sys.exit as an error, not a crash", async () => {
    const [o] = await runOne("import sys\ndef transform(g):\n    sys.exit(2)");
    expect(o).toMatchObject({ status: "error", message: "SystemExit: 2" });
  });

  it("times out module-level code and every input after it", async () => {
    const outcomes = await runOne("while True:\n    pass\ndef transform(g):\n    return g", [[[1]], [[2]]]);
    expect(outcomes.map((o) => o.status)).toEqual(["timeout", "timeout"]);
  });

  it("keeps going after a crash on one input: the other inputs run in a fresh child", async () => {
    const code = "import ctypes\ndef transform(g):\n    if g[0][0] == 2:\n        ctypes.string_at(0)\n    return g";
    const outcomes = await runOne(code, [[[1]], [[2]], [[3]]]);
    expect(outcomes.map((o) => o.status)).toEqual(["ok", "crash", "ok"]);
    expect(outcomes[2]).toMatchObject({ grid: [[3]] });
  });

  it("does not let a program that mutates its input affect the next input", async () => {
    const outcomes = await runOne("def transform(g):\n    g[0][0] = 9\n    return g", [[[1]], [[1]]]);
    expect(outcomes).toMatchObject([{ grid: [[9]] }, { grid: [[9]] }]);
  });

  it("gives the same output for a program using unseeded randomness, run after run", async () => {
    const code = "import random, numpy as np\ndef transform(g):\n    return [[random.randint(0, 9), int(np.random.randint(0, 10))]]";
    const first = await runOne(code);
    await executor!.close();
    const second = await runOne(code);
    expect(first).toEqual(second.map((o, i) => ({ ...o, ms: first[i]!.ms })));
  });

  it("hashes strings under the seed's key in every worker, as Python does under PYTHONHASHSEED", async () => {
    const code = "def transform(g):\n    names = ['red', 'green', 'blue', 'yellow', 'grey']\n    return [[names.index(list(set(names))[0]), hash('arc') % 10]]";
    for (const seed of [0, 2]) {
      const expected = execFileSync("python3", ["-c", `${code}\nprint(transform(None))`], { env: { ...process.env, PYTHONHASHSEED: String(seed) } })
        .toString()
        .trim();
      executor = createProcessExecutor({ workers: 2, seed });
      const jobs = Array.from({ length: 12 }, (_, k) => ({ programId: `p${k}`, code, inputs: [[[1]]] }));
      for await (const r of executor.run(jobs))
        expect(JSON.stringify(r.outcomes[0]!.status === "ok" ? r.outcomes[0]!.grid : r.outcomes[0]).replaceAll(",", ", ")).toBe(expected);
      await executor.close();
      executor = undefined;
    }
  });

  it("pairs outcomes with their programs and inputs under concurrency", async () => {
    executor = createProcessExecutor({ workers: 2 });
    // Programs of uneven length finish out of order; each output encodes its program and input.
    const jobs = Array.from({ length: 120 }, (_, k) => ({
      programId: `p${k}`,
      code: `def transform(g):\n    n = 0\n    for _ in range(${(k * 7919) % 20000}):\n        n += 1\n    return [[${k % 10}, g[0][0]]]`,
      inputs: Array.from({ length: 1 + (k % 4) }, (_, i) => [[i]]),
    }));
    const order: string[] = [];
    for await (const r of executor.run(jobs)) {
      order.push(r.programId);
      const k = Number(r.programId.slice(1));
      expect(r.outcomes.map((o) => (o.status === "ok" ? o.grid : o))).toEqual(jobs[k]!.inputs.map((_, i) => [[k % 10, i]]));
    }
    expect(order.sort()).toEqual(jobs.map((j) => j.programId).sort());
  });

  it("respawns a killed fork server and still returns every outcome", async () => {
    const events: ExecutorEvent[] = [];
    executor = createProcessExecutor({ workers: 2, onEvent: (e) => events.push(e) });
    const jobs = Array.from({ length: 40 }, (_, k) => ({
      programId: `p${k}`,
      code: "import time\ndef transform(g):\n    time.sleep(0.05)\n    return g",
      inputs: [[[k % 10]], [[1]]],
    }));
    let seen = 0;
    const done = new Set<string>();
    for await (const r of executor.run(jobs)) {
      if (++seen === 5) for (const pid of runnerPids()) killIfAlive(pid);
      expect(r.outcomes[0]).toMatchObject({ status: "ok", grid: [[Number(r.programId.slice(1)) % 10]] });
      done.add(r.programId);
    }
    expect(done.size).toBe(40);
    expect(events.some((e) => e.type === "respawn")).toBe(true);
  });

  it("emits health events with outcome rates", async () => {
    const events: ExecutorEvent[] = [];
    executor = createProcessExecutor({ workers: 2, healthEvery: 10, onEvent: (e) => events.push(e) });
    const jobs = Array.from({ length: 20 }, (_, k) => ({
      programId: `p${k}`,
      code: k % 2 ? "def transform(g):\n    return g" : "def transform(g):\n    raise KeyError(1)",
      inputs: [[[1]]],
    }));
    for await (const _ of executor.run(jobs)) void _;
    const health = events.filter((e) => e.type === "health");
    expect(health).toHaveLength(2);
    expect(health[1]).toMatchObject({ programs: 20, executions: 20, rates: { ok: 0.5, error: 0.5 } });
  });

  it("names what is missing when the interpreter cannot be run", async () => {
    executor = createProcessExecutor({ workers: 1, python: "/nonexistent/python3" });
    await expect(executor.info()).rejects.toThrow(/needs Python 3 with numpy.*ARCFORGE_PYTHON/);
  });
});

describe("concurrent runs on one executor", () => {
  it("pairs every outcome correctly when several run() calls share the workers", async () => {
    const shared = createProcessExecutor({ workers: 2 });
    const batches = Array.from({ length: 6 }, (_, b) =>
      Array.from({ length: 10 }, (_, k) => ({
        programId: `b${b}p${k}`,
        code: `def transform(g):\n    return [[${(b * 10 + k) % 10}, g[0][0]]]`,
        inputs: [[[b]], [[k % 10]]],
      })),
    );
    const all = await Promise.all(
      batches.map(async (jobs) => {
        const out: { programId: string; grids: unknown[] }[] = [];
        for await (const r of shared.run(jobs)) out.push({ programId: r.programId, grids: r.outcomes.map((o) => (o.status === "ok" ? o.grid : o)) });
        return out;
      }),
    );
    await shared.close();
    all.forEach((results, b) => {
      expect(results).toHaveLength(10);
      for (const r of results) {
        const k = Number(r.programId.split("p")[1]);
        expect(r.grids).toEqual([[[(b * 10 + k) % 10, b]], [[(b * 10 + k) % 10, k % 10]]]);
      }
    });
  });
});
