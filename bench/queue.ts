import { randomBytes } from "node:crypto";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createProcessExecutor } from "../pipeline/executor/process-pool.js";
import { createQueueExecutor } from "../pipeline/executor/queue/queue-executor.js";
import type { ExecJob, Executor } from "../pipeline/executor/types.js";
import { realPrograms } from "./real-programs.js";

/**
 * The same real program mix through (a) the local process backend with 2 workers, (b) the queue
 * with one `arcforge worker --workers 1`, (c) the queue with two of them. Each queue run gets a
 * fresh redis-server, so no job is answered from an earlier run.
 */
const CLI = join(process.cwd(), "dist", "pipeline", "commands", "cli.js");
const limits = { timeoutSeconds: 1, memoryBytes: 1 << 30 };

async function rate(executor: Executor, jobs: ExecJob[]): Promise<number> {
  await executor.info();
  const started = performance.now();
  let executions = 0;
  for await (const r of executor.run(jobs)) executions += r.outcomes.length;
  return executions / ((performance.now() - started) / 1000);
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

async function viaQueue(jobs: ExecJob[], workers: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), "arcforge-bench-queue-"));
  const port = await freePort();
  const redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  const started: ChildProcess[] = [];
  try {
    const url = `redis://127.0.0.1:${port}`;
    // Signed answers and the default 1% audit: what a real deployment pays.
    const secret = randomBytes(32).toString("hex");
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < workers; i++) {
      const worker = spawn(process.execPath, [CLI, "worker", "--queue", url, "--workers", "1"], {
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, ARCFORGE_QUEUE_SECRET: secret },
      });
      started.push(worker);
      let text = "";
      worker.stderr!.on("data", (c: Buffer) => (text += c.toString()));
      while (!text.includes("connected to")) {
        if (worker.exitCode !== null) throw new Error(`worker did not start: ${text}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const executor = createQueueExecutor({ redis: { url }, auth: { secret }, audit: 0.01, local: createProcessExecutor({ ...limits }), limits, queueWait: 30 });
    try {
      return await rate(executor, jobs);
    } finally {
      await executor.close();
    }
  } finally {
    for (const worker of started) worker.kill("SIGTERM");
    await Promise.all(started.map((w) => (w.exitCode === null ? once(w, "exit") : undefined)));
    redis.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
}

if (!existsSync("/usr/bin/redis-server")) throw new Error("bench:queue needs redis-server (apt-get install redis-server)");
const jobs = await realPrograms();
console.log(`real programs: ${jobs.length} from ../shared/run-logs, ${jobs.reduce((n, j) => n + j.inputs.length, 0)} executions`);
const local = createProcessExecutor({ ...limits, workers: 2 });
const a = await rate(local, jobs);
await local.close();
console.log(`(a) local process backend, 2 workers:       ${a.toFixed(1)} exec/s`);
const b = await viaQueue(jobs, 1);
console.log(`(b) queue, one worker process of 1 worker:   ${b.toFixed(1)} exec/s`);
const c = await viaQueue(jobs, 2);
console.log(`(c) queue, two worker processes of 1 worker: ${c.toFixed(1)} exec/s`);
console.log(`(c)/(b) = ${(c / b).toFixed(2)} (goal >= 1.8); (c)/(a) = ${(c / a).toFixed(2)} (goal >= 0.85)`);
