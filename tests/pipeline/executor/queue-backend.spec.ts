import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildDataset } from "../../../pipeline/orchestrator/build-dataset.js";
import { DEMO_TASKS } from "../../../pipeline/orchestrator/demo-data.js";
import type { BuildOptions } from "../../../schemas/build-options.js";
import { REDIS_SERVER, startRedis } from "../../support/redis.js";
import { demoWorld, tempDir } from "../../support/stage-harness.js";
import type { BuildManifest } from "../../../schemas/build-manifest.js";

const CLI = join(process.cwd(), "dist", "pipeline", "commands", "cli.js");
const FAST_STALLS = ["--lock-duration", "2000", "--stalled-interval", "1000"];

interface Running {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

const running: Running[] = [];
/** Every process a test starts is killed after it, whatever the test's outcome. */
function start(args: string[]): Running {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ARCFORGE_QUEUE_SECRET: "queue-backend-tests-secret-0123456789" },
  });
  let output = "";
  child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  const exit = once(child, "exit").then(([code]) => code as number | null);
  const started = { child, output: () => output, exit };
  running.push(started);
  return started;
}

async function worker(url: string, extra: string[] = []): Promise<Running> {
  const w = start(["worker", "--queue", url, "--workers", "1", "--timeout", "0.5", ...FAST_STALLS, ...extra]);
  const deadline = Date.now() + 60_000;
  while (!w.output().includes("connected to")) {
    if (w.child.exitCode !== null || Date.now() > deadline) throw new Error(`the worker did not start: ${w.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return w;
}
const jobsDone = (w: Running) => (w.output().match(/ done: \d+ programs/g) ?? []).length;

async function build(
  options: BuildOptions,
  url: string,
  cacheDir: string,
  extra: string[] = [],
): Promise<{ code: number | null; output: string; manifest?: BuildManifest }> {
  const b = start([
    "build",
    "--logs",
    ...options.logs,
    "--tasks",
    options.tasks!,
    "--out",
    options.out,
    "--cache-dir",
    cacheDir,
    "--timeout",
    "0.5",
    "--queue",
    url,
    "--queue-batch",
    "4",
    "--queue-wait",
    "20",
    "--quiet",
    ...(options.validation ? ["--validation"] : []),
    ...extra,
  ]);
  const code = await b.exit;
  return {
    code,
    output: b.output(),
    manifest: code === 0 ? (JSON.parse(readFileSync(join(options.out, "manifest.json"), "utf8")) as BuildManifest) : undefined,
  };
}

/** 48 programs of ~20 ms CPU each on one task: slow enough to act while the build runs. */
async function slowWorld(): Promise<BuildOptions> {
  const { dir, options } = await demoWorld();
  const logs = join(dir, "slow-logs");
  await mkdir(logs);
  const attempts = Array.from({ length: 48 }, (_, k) => ({
    attempt_number: k + 1,
    program_extracted: true,
    program: `import time\ndef transform(grid):\n    end = time.process_time() + 0.02\n    while time.process_time() < end:\n        pass\n    return [[${k % 10}, ${Math.floor(k / 10)}]]\n`,
  }));
  expect(DEMO_TASKS.a1b2c3d4).toBeDefined();
  await writeFile(
    join(logs, "20250901_000000_000001_1_a1b2c3d4.json"),
    JSON.stringify({
      task_id: "a1b2c3d4",
      model: "slow",
      api_type: "chat_completions_independent_attempts",
      independent_attempts_data: { attempt_details: attempts },
    }),
  );
  return { ...options, logs: [logs] };
}

const hashes = (m: BuildManifest) => m.outputs.map((o) => o.sha256);

describe.skipIf(!REDIS_SERVER)("executing through BullMQ on Redis with arcforge worker processes", () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let options: BuildOptions;
  let local: BuildManifest;

  beforeAll(async () => {
    redis = await startRedis();
    ({ options } = await demoWorld({ validation: true }));
    local = await buildDataset({ options: { ...options, out: `${options.out}-local` }, cacheDir: await tempDir() });
  });
  afterEach(async () => {
    for (const w of running.splice(0)) {
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
      await w.exit;
    }
  });
  afterAll(() => redis?.stop());

  it("builds through two workers exactly what a local build writes, and a repeat enqueues nothing", async () => {
    const [a, b] = [await worker(redis.url), await worker(redis.url)];
    const cacheDir = await tempDir();
    const first = await build(options, redis.url, cacheDir);
    expect(first.code, first.output).toBe(0);
    expect(hashes(first.manifest!)).toEqual(hashes(local));
    expect(first.manifest!.sandbox?.backend).toMatch(/^queue/);
    const jobs = jobsDone(a) + jobsDone(b);
    expect(jobs).toBeGreaterThan(2);
    expect(jobsDone(a)).toBeGreaterThan(0);
    expect(jobsDone(b)).toBeGreaterThan(0);
    const again = await build(options, redis.url, cacheDir);
    expect(again.code).toBe(0);
    const cold = await build({ ...options, out: `${options.out}-cold` }, redis.url, await tempDir());
    expect(hashes(cold.manifest!)).toEqual(hashes(local));
    expect(jobsDone(a) + jobsDone(b)).toBe(jobs); // same work, same job ids: nothing ran again
  });

  it("sends every job to the worker of its own fingerprint when a mismatched one is connected too", async () => {
    const other = await worker(redis.url, ["--isolation", "none"]);
    const matching = await worker(redis.url);
    const result = await build({ ...options, out: `${options.out}-mixed` }, redis.url, await tempDir(), ["--fresh"]);
    expect(result.code, result.output).toBe(0);
    expect(hashes(result.manifest!)).toEqual(hashes(local));
    expect(jobsDone(other)).toBe(0);
    expect(other.output()).toMatch(/serving runtime fingerprint process-landlock-seccomp-/);
    expect(matching.output()).toMatch(/serving runtime fingerprint process-bubblewrap-|serving runtime fingerprint process-landlock/);
  });

  it("fails after --queue-wait when no worker serves its fingerprint, naming both", async () => {
    const own = await startRedis();
    try {
      await worker(own.url, ["--isolation", "none"]);
      const result = await build({ ...options, out: `${options.out}-nobody` }, own.url, await tempDir(), ["--queue-wait", "2"]);
      expect(result.code).toBe(1);
      expect(result.output).toMatch(
        /no arcforge worker serves this build's runtime fingerprint process-\S+ .*connected workers serve: process-landlock-seccomp-/,
      );
    } finally {
      await own.stop();
    }
  });

  it("completes byte-identical when one of two workers is killed mid-build", async () => {
    const slow = await slowWorld();
    const reference = await buildDataset({ options: { ...slow, out: `${slow.out}-local` }, cacheDir: await tempDir() });
    const [a, b] = [await worker(redis.url), await worker(redis.url)];
    const job = start([
      "build",
      "--logs",
      ...slow.logs,
      "--tasks",
      slow.tasks!,
      "--out",
      slow.out,
      "--cache-dir",
      await tempDir(),
      "--timeout",
      "0.5",
      "--queue",
      redis.url,
      "--queue-batch",
      "4",
      "--quiet",
    ]);
    while (jobsDone(a) + jobsDone(b) < 2 && job.child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    a.child.kill("SIGKILL");
    expect(await job.exit, job.output()).toBe(0);
    const manifest = JSON.parse(readFileSync(join(slow.out, "manifest.json"), "utf8")) as BuildManifest;
    expect(hashes(manifest)).toEqual(hashes(reference));
    expect(manifest.outputs[0]!.rows).toBe(reference.outputs[0]!.rows);
  });

  it("says clearly when Redis goes away mid-build, and the same command then completes", async () => {
    const slow = await slowWorld();
    const own = await startRedis();
    try {
      const reference = await buildDataset({ options: { ...slow, out: `${slow.out}-local` }, cacheDir: await tempDir() });
      const w = await worker(own.url);
      const cacheDir = await tempDir();
      const args = [
        "build",
        "--logs",
        ...slow.logs,
        "--tasks",
        slow.tasks!,
        "--out",
        slow.out,
        "--cache-dir",
        cacheDir,
        "--timeout",
        "0.5",
        "--queue",
        own.url,
        "--queue-batch",
        "4",
        "--quiet",
      ];
      const job = start(args);
      while (jobsDone(w) < 2 && job.child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
      await own.stop();
      expect(await job.exit).toBe(1);
      expect(job.output()).toMatch(new RegExp(`lost the connection to Redis at ${own.url.replace(/[.]/g, "\\.")}`));
      const again = await startRedis(own.port);
      try {
        await worker(again.url);
        const resumed = start(args);
        expect(await resumed.exit, resumed.output()).toBe(0);
        expect(hashes(JSON.parse(readFileSync(join(slow.out, "manifest.json"), "utf8")) as BuildManifest)).toEqual(hashes(reference));
      } finally {
        await again.stop();
      }
    } finally {
      await own.stop();
    }
  });

  it("refuses --queue without a shared secret unless told --queue-insecure", async () => {
    const b = spawn(
      process.execPath,
      [
        CLI,
        "build",
        "--logs",
        ...options.logs,
        "--tasks",
        options.tasks!,
        "--out",
        `${options.out}-nosecret`,
        "--cache-dir",
        await tempDir(),
        "--queue",
        redis.url,
        "--quiet",
      ],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ARCFORGE_QUEUE_SECRET: "" } },
    );
    let output = "";
    b.stderr!.on("data", (c: Buffer) => (output += c.toString()));
    const [code] = await once(b, "exit");
    expect(code).toBe(1);
    expect(output).toMatch(/--queue needs a shared secret .*ARCFORGE_QUEUE_SECRET.*--queue-insecure/);
  });

  it("names the URL when Redis cannot be reached at all", async () => {
    const result = await build({ ...options, out: `${options.out}-unreachable` }, "redis://127.0.0.1:1", await tempDir());
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  });
});
