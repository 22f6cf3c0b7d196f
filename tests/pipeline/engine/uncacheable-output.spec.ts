import { describe, expect, it } from "vitest";
import { buildDataset } from "../../../pipeline/build/build-dataset.js";
import type { Executor, ExecJob } from "../../../pipeline/executor/types.js";
import type { RuntimeFingerprint } from "../../../pipeline/executor/runtime-fingerprint.js";
import type { Outcome } from "../../../schemas/outcome.js";
import { demoWorld, tempDir } from "../../support/stage-harness.js";

const FINGERPRINT: RuntimeFingerprint = { runner: "r", python: "3", numpy: "2", backend: "dying", isolation: "bubblewrap", seeds: { random: 0, numpy: 0, hash: 0 } };

/** A sandbox that fails (not the programs) on every execution. */
const dyingExecutor = (): Executor => ({
  name: "dying",
  async *run(jobs: Iterable<ExecJob> | AsyncIterable<ExecJob>) {
    for await (const job of jobs) yield { programId: job.programId, outcomes: job.inputs.map((): Outcome => ({ status: "crash", message: "sandbox server died twice", ms: 0, transient: true })) };
  },
  info: async () => ({ backend: "dying", isolation: "bubblewrap", fingerprint: FINGERPRINT, runnerVersion: 2, python: "3", numpy: "2", layers: {}, warnings: [] }),
  fingerprint: async () => FINGERPRINT,
  close: async () => undefined,
});

describe("a stage whose output the sandbox spoiled", () => {
  it("is used for this build but neither it nor any stage after it is cached", async () => {
    const { options } = await demoWorld();
    const cacheDir = await tempDir();
    const first = await buildDataset({ options, cacheDir, createExecutor: dyingExecutor });
    const execute = first.stages.find((s) => s.stage === "execute")!;
    expect(execute.counts.sandbox_failures).toBeGreaterThan(0);
    expect(execute.notCached).toMatch(/the sandbox failed/);
    for (const stage of first.stages.slice(first.stages.indexOf(execute))) expect(stage.notCached, stage.stage).toBeDefined();
    const again = await buildDataset({ options, cacheDir, createExecutor: dyingExecutor });
    expect(again.stages.find((s) => s.stage === "execute")!.ran).toBe(true);
    expect(again.stages.find((s) => s.stage === "clean-code")!.ran).toBe(false);
  });
});
