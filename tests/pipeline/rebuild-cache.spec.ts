import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildDataset } from "../../pipeline/orchestrator/build-dataset.js";
import type { BuildOptions } from "../../schemas/build-options.js";
import { DEMO_TASKS } from "../../pipeline/orchestrator/demo-data.js";
import { demoWorld, tempDir } from "../support/stage-harness.js";
import { lockCache } from "../../pipeline/store/cache-lock.js";
import { execCacheStats } from "../../pipeline/store/exec-cache.js";
import type { BuildManifest } from "../../schemas/build-manifest.js";
import { countingExecutor } from "../support/counting-executor.js";

async function build(options: BuildOptions, cacheDir: string, counter = { programs: 0 }): Promise<BuildManifest> {
  return buildDataset({ options, cacheDir, createExecutor: countingExecutor(counter) });
}

const ran = (m: BuildManifest) => m.stages.filter((s) => s.ran).map((s) => s.stage);

describe("incremental rebuilds", () => {
  it("re-runs nothing and executes nothing when nothing changed, and writes the same bytes", async () => {
    const { options } = await demoWorld({ validation: true });
    const cacheDir = await tempDir();
    const cold = { programs: 0 };
    const first = await build(options, cacheDir, cold);
    expect(cold.programs).toBeGreaterThan(0);
    const warm = { programs: 0 };
    const second = await build(options, cacheDir, warm);
    expect(warm.programs).toBe(0);
    expect(ran(second)).toEqual([]);
    expect(second.sandbox).toBeNull();
    expect(second.outputs.map((o) => o.sha256)).toEqual(first.outputs.map((o) => o.sha256));
  });

  it("re-runs only dedup and the stages after it when the dedup rule changes, executing no program", async () => {
    const { options } = await demoWorld({ validation: true });
    const cacheDir = await tempDir();
    await build(options, cacheDir);
    for (const change of [{ dedup: false }, { dedup: true }]) {
      const counter = { programs: 0 };
      const manifest = await build({ ...options, ...change }, cacheDir, counter);
      expect(counter.programs).toBe(0);
      expect(ran(manifest)).toEqual(change.dedup ? [] : ["dedup", "near-dedup", "against", "select", "pair", "balance", "split"]);
    }
    const counter = { programs: 0 };
    const manifest = await build({ ...options, dedup: false }, cacheDir, counter);
    expect(manifest.stages.find((s) => s.stage === "dedup")!.reason).toBe("cached");
    const fresh = await build({ ...options, dedup: false, out: `${options.out}-fresh` }, await tempDir());
    expect(manifest.outputs.map((o) => o.sha256)).toEqual(fresh.outputs.map((o) => o.sha256));
  });

  it("rebuilds from stored selections and patches to the bytes a fresh build writes", async () => {
    const { options } = await demoWorld({ validation: true });
    const cacheDir = await tempDir();
    await build(options, cacheDir);
    // relabel runs again: it reads execute's stored patches over clean-code's patches over the read attempts.
    const changed = await build({ ...options, generation: 5 }, cacheDir, { programs: 0 });
    expect(ran(changed)).toEqual(["relabel", "revalidate", "filter-degenerate", "dedup", "near-dedup", "against", "select", "pair", "balance", "split"]);
    const fresh = await buildDataset({ options: { ...options, generation: 5, out: `${options.out}-fresh` }, cacheDir: await tempDir() });
    expect(changed.outputs.map((o) => o.sha256)).toEqual(fresh.outputs.map((o) => o.sha256));
  });

  it("runs every stage and executes every program again with --fresh, and still writes the same bytes", async () => {
    const { options } = await demoWorld();
    const cacheDir = await tempDir();
    const first = await build(options, cacheDir);
    const counter = { programs: 0 };
    const fresh = await buildDataset({ options, cacheDir, fresh: true, createExecutor: countingExecutor(counter) });
    expect(fresh.stages.every((s) => s.ran && s.reason === "--fresh")).toBe(true);
    expect(counter.programs).toBeGreaterThan(0);
    expect(fresh.outputs.map((o) => o.sha256)).toEqual(first.outputs.map((o) => o.sha256));
  });

  it("says which part of a stage's key changed", async () => {
    const { options } = await demoWorld();
    const cacheDir = await tempDir();
    await build(options, cacheDir);
    const manifest = await build({ ...options, seed: 7, validation: true }, cacheDir);
    expect(manifest.stages.find((s) => s.stage === "balance")!.reason).toBe("changed: option validation, option seed");
    expect(manifest.stages.find((s) => s.stage === "read-logs")!.reason).toBe("cached");
  });

  it("executes only the new programs when logs are added", async () => {
    const { options } = await demoWorld();
    const cacheDir = await tempDir();
    await build(options, cacheDir);
    const extra = {
      task_id: "a1b2c3d4",
      model: "demo/coder-c",
      api_type: "chat_completions_independent_attempts",
      independent_attempts_data: {
        attempt_details: [{ attempt_number: 1, program_extracted: true, program: "def transform(grid):\n    return [list(reversed(r)) for r in grid]\n" }],
      },
    };
    await writeFile(join(options.logs[0]!, "20250803_000000_000001_1_a1b2c3d4.json"), JSON.stringify(extra));
    const counter = { programs: 0 };
    const manifest = await build(options, cacheDir, counter);
    expect(counter.programs).toBe(2); // the new program: its first execution and its re-validation
    expect(manifest.stages.find((s) => s.stage === "read-logs")!.reason).toBe("changed: option files");
    expect(manifest.stages.find((s) => s.stage === "execute")!.counts).toMatchObject({ cache_misses: 4 });
    // Only the task the new log belongs to runs its task stages again.
    expect(manifest.stages.find((s) => s.stage === "clean-code")!.tasks).toEqual({ ran: 1, total: expect.any(Number) });
    expect(manifest.stages.find((s) => s.stage === "clean-code")!.tasks!.total).toBeGreaterThan(5);
  });

  it("counts a kept program's twins once when a stage after dedup runs on dedup's cached output", async () => {
    const { options } = await demoWorld({ validation: true });
    // Three attempts of one file the same but for their number: one record standing for two twins.
    const attempt = { program_extracted: true, program: "def transform(grid):\n    return [list(reversed(r)) for r in grid]\n" };
    const log = {
      task_id: "a1b2c3d4",
      model: "demo/coder-c",
      api_type: "chat_completions_independent_attempts",
      independent_attempts_data: { attempt_details: [1, 2, 3].map((n) => ({ attempt_number: n, ...attempt })) },
    };
    await writeFile(join(options.logs[0]!, "20250803_000000_000001_1_a1b2c3d4.json"), JSON.stringify(log));
    const cacheDir = await tempDir();
    await build(options, cacheDir);
    const rebuilt = await build({ ...options, nearDedup: 0.9 }, cacheDir);
    expect(ran(rebuilt)).toContain("near-dedup");
    expect(rebuilt.stages.find((s) => s.stage === "dedup")!.ran).toBe(false);
    const cold = await build({ ...options, nearDedup: 0.9, out: `${options.out}-cold` }, await tempDir());
    const kept = (m: BuildManifest) => m.stages.map((s) => [s.stage, s.kept, s.dropped]);
    expect(cold.stages.find((s) => s.stage === "dedup")!.dropped.duplicate_code).toBeGreaterThanOrEqual(2);
    expect(kept(rebuilt)).toEqual(kept(cold));
    expect(rebuilt.attempts).toEqual(cold.attempts);
    expect(rebuilt.outputs.map((o) => o.sha256)).toEqual(cold.outputs.map((o) => o.sha256));
  });

  it("refuses a second build on the same cache while one holds it", async () => {
    const cacheDir = await tempDir();
    const unlock = lockCache(cacheDir);
    const { options } = await demoWorld();
    await expect(build(options, cacheDir)).rejects.toThrow(/another arcforge build \(pid \d+\) is using the cache/);
    unlock();
  });
});

describe("a killed build", () => {
  it("resumes without re-executing what was done and writes what an uninterrupted build writes", async () => {
    // Enough work to be killed in the middle of: 60 distinct programs that each spin ~20 ms per input.
    const { dir, options } = await demoWorld();
    const logs = join(dir, "slow-logs");
    await mkdir(logs);
    const attempts = Array.from({ length: 60 }, (_, k) => ({
      attempt_number: k + 1,
      program_extracted: true,
      program: `import time\ndef transform(grid):\n    end = time.process_time() + 0.02 + ${k}e-9\n    while time.process_time() < end:\n        pass\n    return [[${k % 10}]]\n`,
    }));
    await writeFile(
      join(logs, "20250901_000000_000001_1_a1b2c3d4.json"),
      JSON.stringify({
        task_id: "a1b2c3d4",
        model: "slow",
        api_type: "chat_completions_independent_attempts",
        independent_attempts_data: { attempt_details: attempts },
      }),
    );
    expect(DEMO_TASKS.a1b2c3d4).toBeDefined();
    const cli = join(process.cwd(), "dist", "pipeline", "commands", "cli.js");
    const args = (out: string, cache: string) => [
      cli,
      "build",
      "--logs",
      logs,
      "--tasks",
      options.tasks!,
      "--out",
      out,
      "--cache-dir",
      cache,
      "--quiet",
      "--workers",
      "1",
    ];
    const cacheDir = await tempDir();

    const child = spawn(process.execPath, args(join(dir, "killed"), cacheDir), { stdio: "ignore" });
    // Outcomes stored so far, read from the cache's LMDB store while the build writes it.
    const lines = () =>
      existsSync(join(cacheDir, "store.lmdb")) ? Object.values(execCacheStats(cacheDir).execute ?? {}).reduce((n, f) => n + f.outcomes, 0) : 0;
    const deadline = Date.now() + 60_000;
    while (lines() < 40 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const done = lines();
    expect(done).toBeGreaterThanOrEqual(40);
    expect(done).toBeLessThan(240);

    const resume = spawn(process.execPath, args(join(dir, "killed"), cacheDir), { stdio: "ignore" });
    expect(await new Promise((r) => resume.once("exit", r))).toBe(0);
    const resumed = JSON.parse(readFileSync(join(dir, "killed", "manifest.json"), "utf8")) as BuildManifest;
    expect(resumed.stages.find((s) => s.stage === "execute")!.counts.cache_hits).toBeGreaterThanOrEqual(done - 4);

    const clean = spawn(process.execPath, args(join(dir, "clean"), await tempDir()), { stdio: "ignore" });
    expect(await new Promise((r) => clean.once("exit", r))).toBe(0);
    const cleanManifest = JSON.parse(readFileSync(join(dir, "clean", "manifest.json"), "utf8")) as BuildManifest;
    expect(resumed.outputs.map((o) => o.sha256)).toEqual(cleanManifest.outputs.map((o) => o.sha256));
    expect(resumed.outputs[0]!.rows).toBe(10);
  });
});
