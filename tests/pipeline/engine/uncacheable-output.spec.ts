import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildDataset } from "../../../pipeline/orchestrator/build-dataset.js";
import { createProcessExecutor } from "../../../pipeline/executor/process-pool.js";
import type { Executor, ExecJob, ExecutorOptions } from "../../../pipeline/executor/types.js";
import type { Outcome } from "../../../schemas/outcome.js";
import { demoWorld, tempDir } from "../../support/stage-harness.js";

/** The real sandbox, except that it "dies" on the first program it is given (the sandbox failing, not the program). */
const dyingOnce = (onEvent: ExecutorOptions["onEvent"], seed: number): Executor => {
  const inner = createProcessExecutor({ workers: 2, timeoutSeconds: 0.5, onEvent, seed });
  let died = false;
  return {
    ...inner,
    async *run(jobs: Iterable<ExecJob> | AsyncIterable<ExecJob>) {
      const rest: ExecJob[] = [];
      for await (const job of jobs) {
        if (died) rest.push(job);
        else {
          died = true;
          yield {
            programId: job.programId,
            outcomes: job.inputs.map((): Outcome => ({ status: "crash", message: "sandbox server died twice", ms: 0, transient: true })),
          };
        }
      }
      yield* inner.run(rest);
    },
  };
};

describe("a stage whose output the sandbox spoiled", () => {
  it("is used for this build but neither it nor any stage after it is cached", async () => {
    const { options } = await demoWorld();
    const cacheDir = await tempDir();
    const first = await buildDataset({ options, cacheDir, createExecutor: dyingOnce, allowSandboxFailures: true });
    const execute = first.stages.find((s) => s.stage === "execute")!;
    expect(execute.counts.sandbox_failures).toBeGreaterThan(0);
    expect(first.attempts.dropped.sandbox_failure).toBe(2);
    expect(execute.notCached).toMatch(/the sandbox failed/);
    for (const stage of first.stages.slice(first.stages.indexOf(execute))) expect(stage.notCached, stage.stage).toBeDefined();
    const again = await buildDataset({ options, cacheDir, createExecutor: dyingOnce, allowSandboxFailures: true });
    expect(again.stages.find((s) => s.stage === "execute")!.ran).toBe(true);
    expect(again.stages.find((s) => s.stage === "clean-code")!.ran).toBe(false);
  });
});

describe("a build on which the sandbox itself failed", () => {
  it("exits with an error having written nothing, unless told --allow-sandbox-failures, and the same command then completes", async () => {
    const { options } = await demoWorld();
    const cacheDir = await tempDir();
    await expect(buildDataset({ options, cacheDir, createExecutor: dyingOnce })).rejects.toThrow(
      /2 program\(s\) could not be run: the sandbox failed, not the programs, so nothing was written\. The same command retries them/,
    );
    expect(existsSync(join(options.out, "manifest.json"))).toBe(false);
    const retried = await buildDataset({ options, cacheDir });
    expect(retried.attempts.dropped.sandbox_failure).toBeUndefined();
  });
});
