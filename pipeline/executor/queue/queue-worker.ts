import { UnrecoverableError, Worker } from "bullmq";
import { Redis } from "ioredis";
import { cacheKey } from "../../common/canonical-json.js";
import type { SandboxLimits } from "../../../schemas/sandbox-limits.js";
import type { Outcome } from "../../../schemas/outcome.js";
import { fingerprintId } from "../runtime-fingerprint.js";
import type { Executor } from "../types.js";
import { announceWorker } from "./worker-registry.js";
import { queueName, redisConnection, safeUrl, type BatchJob, type BatchResult } from "./queue-protocol.js";

export interface QueueWorkerParams {
  url: string;
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
  const connection = redisConnection(params.url);
  const workers: Worker<BatchJob, BatchResult>[] = [];
  const fingerprints: string[] = [];
  for (const seed of params.seeds) {
    const probe = executorFor(params.defaultLimits, seed);
    const info = await probe.info(); // starts the sandbox now: a broken or unisolated one fails here, not on a job
    const fingerprint = await probe.fingerprint();
    const id = fingerprintId(fingerprint);
    fingerprints.push(id);
    const worker = new Worker<BatchJob, BatchResult>(
      queueName(fingerprint),
      async (job) => {
        if (job.data.fingerprint !== id) throw new UnrecoverableError(`this worker serves ${id}, not ${job.data.fingerprint}`);
        const executor = executorFor(job.data.limits, seed);
        if (fingerprintId(await executor.fingerprint()) !== id) throw new UnrecoverableError(`the sandbox for limits ${JSON.stringify(job.data.limits)} is not runtime ${id}`);
        const outcomes = new Map<string, Outcome[]>();
        const jobs = job.data.programs.map((p, k) => ({ programId: String(k), code: p.code, inputs: p.inputs }));
        for await (const result of executor.run(jobs)) outcomes.set(result.programId, result.outcomes);
        return { fingerprint: id, outcomes: jobs.map((j) => outcomes.get(j.programId)!) };
      },
      {
        connection,
        concurrency: 1,
        lockDuration: params.lockDurationMs ?? 30_000,
        stalledInterval: params.stalledIntervalMs ?? 30_000,
        maxStalledCount: 3,
      },
    );
    worker.on("error", (error) => log(`queue error (${safeUrl(params.url)}): ${error.message}`));
    worker.on("failed", (job, error) => log(`job ${job?.id ?? "?"} failed: ${error.message}`));
    worker.on("completed", (job) => log(`job ${job.id ?? "?"} done: ${job.data.programs.length} programs`));
    workers.push(worker);
    log(`serving runtime fingerprint ${id} (seed ${seed}, ${info.isolation}, Python ${info.python}, numpy ${info.numpy}) on queue ${queueName(fingerprint)}`);
  }
  const redis = new Redis(params.url, { maxRetriesPerRequest: null });
  redis.on("error", () => undefined);
  const announcement = announceWorker({ client: redis, announcement: { fingerprints, workers: workers.length } });
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  log(`connected to ${safeUrl(params.url)}`);
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
