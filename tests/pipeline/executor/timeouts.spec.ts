import { afterEach, describe, expect, it } from "vitest";
import { createProcessExecutor } from "../../../pipeline/executor/process-pool.js";
import type { Executor } from "../../../pipeline/executor/types.js";

let executor: Executor | undefined;
afterEach(async () => {
  await executor?.close();
  executor = undefined;
});

async function timed(code: string, timeoutSeconds = 0.3) {
  executor = createProcessExecutor({ workers: 1, timeoutSeconds });
  await executor.info();
  const started = performance.now();
  for await (const r of executor.run([{ programId: "p", code, inputs: [[[1]]] }]))
    return { outcome: r.outcomes[0]!, seconds: (performance.now() - started) / 1000 };
  throw new Error("no result");
}

describe("timeouts are decided by CPU time", () => {
  it("gives a CPU-bound program a cpu timeout at once", async () => {
    const { outcome } = await timed("def transform(g):\n    while True:\n        pass");
    expect(outcome).toMatchObject({ status: "timeout", reason: "cpu" });
  });

  it("gives a CPU-bound program that swallows the timer a cpu timeout, without retrying it", async () => {
    const { outcome, seconds } = await timed(
      "def transform(g):\n    while True:\n        try:\n            while True:\n                pass\n        except BaseException:\n            pass",
    );
    expect(outcome).toMatchObject({ status: "timeout", reason: "cpu" });
    expect(seconds).toBeLessThan(2 * (0.3 * 2 + 0.5));
  });

  it("gives a program that sleeps past the backstop a sleep timeout at once, without retrying it", async () => {
    const { outcome, seconds } = await timed("import time\ndef transform(g):\n    time.sleep(30)\n    return g");
    expect(outcome).toMatchObject({ status: "timeout", reason: "sleep" });
    expect(seconds).toBeGreaterThanOrEqual(0.3 * 2 + 0.5 - 0.05);
    expect(seconds).toBeLessThan(30);
  });

  it("lets a program sleep a while under the backstop and still answer", async () => {
    const { outcome } = await timed("import time\ndef transform(g):\n    time.sleep(0.4)\n    return g");
    expect(outcome).toMatchObject({ status: "ok", grid: [[1]] });
  });

  it("spends a huge result's checking on the program's own CPU limit", async () => {
    const { outcome, seconds } = await timed("def transform(g):\n    return [[1]] * 3_000_000", 0.3);
    expect(["timeout", "invalid_output"]).toContain(outcome.status);
    expect(seconds).toBeLessThan(10);
  });
});
