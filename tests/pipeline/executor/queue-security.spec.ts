import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Queue, QueueEvents, Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createProcessExecutor } from "../../../pipeline/executor/process-pool.js";
import { sign } from "../../../pipeline/executor/queue/queue-auth.js";
import { createQueueExecutor } from "../../../pipeline/executor/queue/queue-executor.js";
import { answerSigned, jobId, queueName, type BatchJob, type BatchResult, type RedisTarget } from "../../../pipeline/executor/queue/queue-protocol.js";
import { startQueueWorker } from "../../../pipeline/executor/queue/queue-worker.js";
import { announceWorker } from "../../../pipeline/executor/queue/worker-registry.js";
import { fingerprintId } from "../../../pipeline/executor/runtime-fingerprint.js";
import type { ExecJob, ExecResult, Executor } from "../../../pipeline/executor/types.js";
import type { Grid } from "../../../schemas/grid.js";
import { freePort, REDIS_SERVER, startRedis } from "../../support/redis.js";
import { tempDir } from "../../support/stage-harness.js";

const SECRET = "a-shared-secret-of-the-tests-0123456789";
const LIMITS = { timeoutSeconds: 1, memoryBytes: 1024 * 2 ** 20 };
const local = () => createProcessExecutor({ ...LIMITS, workers: 1 });
const JOBS: ExecJob[] = [
  { programId: "double", code: "def transform(grid):\n    return [[c * 2 for c in row] for row in grid]\n", inputs: [[[1, 2]], [[3]]] },
  {
    programId: "first",
    code: "def transform(grid):\n    return [grid[0]]\n",
    inputs: [
      [
        [4, 4],
        [1, 1],
      ],
    ],
  },
];
const RIGHT = { double: [[[2, 4]], [[6]]], first: [[[4, 4]]] };

async function collect(executor: Executor, jobs = JOBS): Promise<Record<string, ExecResult["outcomes"]>> {
  const found: Record<string, ExecResult["outcomes"]> = {};
  for await (const result of executor.run(jobs)) found[result.programId] = result.outcomes;
  return found;
}
const grids = (found: Record<string, ExecResult["outcomes"]>) =>
  Object.fromEntries(Object.entries(found).map(([id, os]) => [id, os.map((o) => (o.status === "ok" ? o.grid : o.status))]));

/** A worker that runs nothing: it answers every job with `answer`, signing with `secret` when given. */
function fakeWorker(params: {
  redis: RedisTarget;
  fingerprint: string;
  secret?: string;
  answer: (inputs: Grid[]) => unknown[];
}): Worker<BatchJob, BatchResult> {
  const worker = new Worker<BatchJob, BatchResult>(
    `arcforge-exec-${params.fingerprint}`,
    async (job) => {
      const { mac: _mac, ...content } = job.data;
      const result: BatchResult = {
        fingerprint: params.fingerprint,
        worker: "liar:1",
        outcomes: content.programs.map((p) => params.answer(p.inputs)) as BatchResult["outcomes"],
      };
      return { ...result, mac: sign({ secret: params.secret }, "answer", answerSigned({ job: jobId(content), result })) };
    },
    { connection: { url: params.redis.url, maxRetriesPerRequest: null } },
  );
  worker.on("error", () => undefined);
  return worker;
}

describe.skipIf(!REDIS_SERVER)("a queue that only workers holding the secret can answer", () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let fingerprint: string;
  const closers: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    fingerprint = fingerprintId(await local().fingerprint());
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
    // Answers are kept by job content: each test starts from an empty queue.
    const client = new Redis(redis.url);
    await client.flushall();
    client.disconnect();
  });
  afterAll(() => redis?.stop());

  const executor = (audit: number, target: RedisTarget = { url: redis.url }) => {
    const e = createQueueExecutor({ redis: target, auth: { secret: SECRET }, audit, local: local(), limits: LIMITS, queueWait: 20 });
    closers.push(() => e.close());
    return e;
  };
  /** A signed announcement with no worker behind it: the build then waits on the queue. */
  const announce = async () => {
    const client = new Redis(redis.url);
    const a = announceWorker({ client, auth: { secret: SECRET }, announcement: { fingerprints: [fingerprint], workers: 1 } });
    closers.push(async () => (await a.stop(), client.disconnect()));
    await new Promise((r) => setTimeout(r, 200));
  };
  const honest = async (target: RedisTarget = { url: redis.url }) => {
    const w = await startQueueWorker({
      redis: target,
      auth: { secret: SECRET },
      seeds: [0],
      createExecutor: (limits, seed) => createProcessExecutor({ ...limits, workers: 1, seed }),
      defaultLimits: LIMITS,
    });
    closers.push(() => w.close());
  };

  it("uses no answer of a worker without the secret, and refuses such answers left in Redis", async () => {
    await announce();
    const rogue = fakeWorker({ redis: { url: redis.url }, fingerprint, answer: (inputs) => inputs.map(() => ({ status: "ok", grid: [[0]], ms: 1 })) });
    closers.push(() => rogue.close());
    await expect(collect(executor(0))).rejects.toThrow(/without a valid signature .*liar:1.*none of its answers was used/);

    // The rogue answers a job while no build waits; a later build finds that answer in Redis.
    const content: BatchJob = { fingerprint, limits: LIMITS, programs: JOBS.map((j) => ({ code: j.code, inputs: j.inputs })) };
    const queue = new Queue(queueName(await local().fingerprint()), { connection: { url: redis.url } });
    const events = new QueueEvents(queue.name, { connection: { url: redis.url } });
    closers.push(
      () => queue.close(),
      () => events.close(),
    );
    await events.waitUntilReady();
    const planted = await queue.add("batch", content, { jobId: jobId(content) });
    expect(await planted.waitUntilFinished(events)).toMatchObject({ worker: "liar:1" });
    await rogue.close();
    await honest();
    expect(grids(await collect(executor(0), JOBS))).toEqual(RIGHT);
  });

  it("stops the build naming a worker with the secret that lies, when the audit re-executes its answer", async () => {
    await announce();
    const liar = fakeWorker({
      redis: { url: redis.url },
      fingerprint,
      secret: SECRET,
      answer: (inputs) => inputs.map(() => ({ status: "ok", grid: [[0]], ms: 1 })),
    });
    closers.push(() => liar.close());
    await expect(collect(executor(1))).rejects.toThrow(
      /queue audit: worker liar:1 answered job \w+, program 0, input 0: it says grid \[\[0\]\], this machine's sandbox gives grid \[\[2,4\]\]/,
    );
  });

  it("turns an invalid grid from a worker into invalid_output, like a local answer", async () => {
    await announce();
    const big = Array.from({ length: 40 }, () => Array.from({ length: 40 }, () => 1));
    const liar = fakeWorker({
      redis: { url: redis.url },
      fingerprint,
      secret: SECRET,
      answer: (inputs) => inputs.map((_, i) => ({ status: "ok", grid: i === 0 ? [[99]] : big, ms: 1 })),
    });
    closers.push(() => liar.close());
    const found = await collect(executor(0));
    expect(found.double).toEqual([
      { status: "invalid_output", reason: "out_of_range", ms: 1 },
      { status: "invalid_output", reason: "too_large", ms: 1 },
    ]);
  });

  it("refuses an answer with a wrong number of outcomes, naming the worker", async () => {
    await announce();
    const liar = fakeWorker({ redis: { url: redis.url }, fingerprint, secret: SECRET, answer: () => [] });
    closers.push(() => liar.close());
    await expect(collect(executor(0))).rejects.toThrow(/worker liar:1 broke the answer contract in job \w+, program 0: 0 outcomes for 2 inputs/);
  });

  it("works over TLS with a self-signed CA and an ACL user with a password", async () => {
    const dir = await tempDir("arcforge-tls-");
    const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=arcforge test CA");
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
    writeFileSync(join(dir, "san.cnf"), "subjectAltName=IP:127.0.0.1\n");
    openssl(
      "x509",
      "-req",
      "-in",
      "server.csr",
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      "server.crt",
      "-days",
      "2",
      "-extfile",
      "san.cnf",
    );
    const port = await freePort();
    const tls = await startRedis(port, [
      "--port",
      "0",
      "--tls-port",
      String(port),
      "--tls-cert-file",
      join(dir, "server.crt"),
      "--tls-key-file",
      join(dir, "server.key"),
      "--tls-ca-cert-file",
      join(dir, "ca.crt"),
      "--tls-auth-clients",
      "no",
      "--user",
      "default",
      "off",
      "--user",
      "builder",
      "on",
      ">builder-password",
      "~*",
      "&*",
      "+@all",
    ]);
    closers.push(() => tls.stop());
    const target = { url: `rediss://builder:builder-password@127.0.0.1:${port}`, caFile: join(dir, "ca.crt") };
    await honest(target);
    expect(grids(await collect(executor(0.5, target)))).toEqual(RIGHT);
    const untrusted = createQueueExecutor({ redis: { url: target.url }, auth: { secret: SECRET }, audit: 0, local: local(), limits: LIMITS, queueWait: 2 });
    closers.push(() => untrusted.close());
    await expect(collect(untrusted)).rejects.toThrow(/cannot reach Redis at rediss:\/\/builder:\*\*\*@127\.0\.0\.1/);
  });
});
