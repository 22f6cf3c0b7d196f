import { UnrecoverableError, Worker } from "bullmq";
import { Redis } from "ioredis";
import { cacheKey } from "../../common/canonical-json.js";
import type { SandboxLimits } from "../../../schemas/sandbox-limits.js";
import type { Outcome } from "../../../schemas/outcome.js";
import { fingerprintId } from "../runtime-fingerprint.js";
import type { Executor } from "../types.js";
import { sign, verify, type QueueAuth } from "./queue-auth.js";
import { announceWorker } from "./worker-registry.js";
import { answerSigned, jobId, queueName, redisConnection, redisOptions, safeUrl, type BatchJob, type BatchResult, type RedisTarget } from "./queue-protocol.js";

export interface QueueWorkerParams {
  redis: RedisTarget;
  /** The shared secret: jobs must carry its MAC, answers carry one. */
  auth: QueueAuth;
  /** One queue per seed: a build's first runs (seed 0) and its re-validation (another seed). */
  seeds: number[];
  /** The local sandbox for given limits and seed (process or docker backend). */
  createExecutor: (limits: SandboxLimits, seed: number) => Executor;
  defaultLimits: SandboxLimits;
  /** BullMQ's lock and stall check: a killed worker's job goes to another after about this long. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  log?: (text: string) => void;
}

/**
 * `arcforge worker`: serves the queues of its own runtime fingerprints (one per seed) with the
 * same sandbox as a local build, and never answers a job of another fingerprint.
 */
export async function startQueueWorker(params: QueueWorkerParams): Promise<{ fingerprints: string[]; close(): Promise<void> }> {
  const log = params.log ?? (() => undefined);
  const executors = new Map<string, Executor>();
  const executorFor = (limits: SandboxLimits, seed: number) => {
    const key = cacheKey({ limits, seed });
    let found = executors.get(key);
    if (!found) executors.set(key, (found = params.createExecutor(limits, seed)));
    return found;
  };
  const url = safeUrl(params.redis.url);
  const connection = redisConnection(params.redis);
  const serving: { seed: number; fingerprint: Awaited<ReturnType<Executor["fingerprint"]>>; info: Awaited<ReturnType<Executor["info"]>> }[] = [];
  for (const seed of params.seeds) {
    const probe = executorFor(params.defaultLimits, seed);
    const info = await probe.info(); // starts the sandbox now: a broken or unisolated one fails here, not on a job
    serving.push({ seed, fingerprint: await probe.fingerprint(), info });
  }
  const fingerprints = serving.map((s) => fingerprintId(s.fingerprint));
  const redis = new Redis(params.redis.url, { ...redisOptions(params.redis), maxRetriesPerRequest: null });
  redis.on("error", () => undefined);
  const announcement = announceWorker({ client: redis, auth: params.auth, announcement: { fingerprints, workers: serving.length } });
  const workers: Worker<BatchJob, BatchResult>[] = [];
  for (const { seed, fingerprint, info } of serving) {
    const id = fingerprintId(fingerprint);
    const worker = new Worker<BatchJob, BatchResult>(
      queueName(fingerprint),
      async (job) => {
        const { mac, ...content } = job.data;
        // The id is the content's hash: a job whose id names other content is refused, not run.
        const contentId = jobId(content);
        if (job.id !== contentId) throw new UnrecoverableError(`job ${job.id} does not hold the content its id names (${contentId})`);
        if (!verify(params.auth, "job", { job: contentId }, mac))
          throw new UnrecoverableError(`job ${job.id} is not signed with the queue secret: not running it`);
        if (content.fingerprint !== id) throw new UnrecoverableError(`this worker serves ${id}, not ${content.fingerprint}`);
        const executor = executorFor(content.limits, seed);
        if (fingerprintId(await executor.fingerprint()) !== id)
          throw new UnrecoverableError(`the sandbox for limits ${JSON.stringify(content.limits)} is not runtime ${id}`);
        const outcomes = new Map<string, Outcome[]>();
        const jobs = content.programs.map((p, k) => ({
          programId: String(k),
          code: p.code,
          inputs: p.inputs,
          failFast: Number.isSafeInteger(p.stop) && p.stop! > 0 ? p.stop : 0,
        }));
        for await (const result of executor.run(jobs)) outcomes.set(result.programId, result.outcomes);
        const answer: BatchResult = { fingerprint: id, outcomes: jobs.map((j) => outcomes.get(j.programId)!), worker: announcement.name };
        return { ...answer, mac: sign(params.auth, "answer", answerSigned({ job: contentId, result: answer })) };
      },
      {
        connection,
        concurrency: 1,
        lockDuration: params.lockDurationMs ?? 30_000,
        stalledInterval: params.stalledIntervalMs ?? 30_000,
        maxStalledCount: 3,
      },
    );
    worker.on("error", (error) => log(`queue error (${url}): ${error.message}`));
    worker.on("failed", (job, error) => log(`job ${job?.id ?? "?"} failed: ${error.message}`));
    worker.on("completed", (job) => log(`job ${job.id ?? "?"} done: ${job.data.programs.length} programs`));
    workers.push(worker);
    log(`serving runtime fingerprint ${id} (seed ${seed}, ${info.isolation}, Python ${info.python}, numpy ${info.numpy}) on queue ${queueName(fingerprint)}`);
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  log(`connected to ${url} as ${announcement.name}${params.auth.secret ? "" : " (insecure: answers unsigned)"}`);
  return {
    fingerprints,
    async close() {
      await announcement.stop();
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all([...executors.values()].map((e) => e.close()));
      redis.disconnect();
    },
  };
}
