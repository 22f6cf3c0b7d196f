import { Queue, QueueEvents, type Job } from "bullmq";
import { Redis } from "ioredis";
import type { SandboxLimits } from "../../../schemas/sandbox-limits.js";
import { QueueError } from "../../common/errors.js";
import { fingerprintId, type RuntimeFingerprint } from "../runtime-fingerprint.js";
import type { ExecJob, ExecResult, Executor, ExecutorEvent, SandboxInfo } from "../types.js";
import { connectedWorkers } from "./worker-registry.js";
import { jobId, queueName, redisConnection, safeUrl, type BatchJob, type BatchResult } from "./queue-protocol.js";

export interface QueueExecutorOptions {
  url: string;
  /** The runtime this build expects: its fingerprint names the queue (the local backend is never started). */
  local: Executor;
  limits: SandboxLimits;
  /** Fail when no worker serves this fingerprint for this long (seconds). */
  queueWait: number;
  /** Programs per job: large enough that a job is not one execution, small enough to spread. */
  batchPrograms?: number;
  onEvent?: (event: ExecutorEvent) => void;
}

/** Redis silent for this long while a build waits on it is gone, not slow. */
const LOST_AFTER_MS = 5_000;

/**
 * Executes through BullMQ on Redis: the programs that missed the execution cache are sent in
 * batches to the queue of this build's runtime fingerprint, and `arcforge worker` processes on
 * any machine run them with the same sandbox and return the same outcomes.
 */
export function createQueueExecutor(params: QueueExecutorOptions): Executor {
  const { url, limits } = params;
  const batchPrograms = params.batchPrograms ?? 64;
  let connected: Promise<{ queue: Queue; events: QueueEvents; redis: Redis; fingerprint: RuntimeFingerprint }> | undefined;
  const closers: (() => Promise<unknown>)[] = [];

  const connect = () =>
    (connected ??= (async () => {
      const fingerprint = await params.local.fingerprint();
      const connection = redisConnection(url);
      // Its own client for the watchdog and the worker list: commands fail at once while Redis is
      // away. It connects first, so an unreachable Redis is reported before BullMQ starts retrying.
      const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: (times: number) => Math.min(times * 200, 1000) });
      redis.on("error", () => undefined); // reported by the watchdog, with the URL
      const unreachable = `cannot reach Redis at ${safeUrl(url)}: start redis-server there, or fix --queue`;
      await withTimeout(redis.connect(), LOST_AFTER_MS, unreachable).catch((error: Error) => {
        redis.disconnect();
        throw error instanceof QueueError ? error : new QueueError(`${unreachable} (${error.message})`);
      });
      const queue = new Queue(queueName(fingerprint), { connection });
      const events = new QueueEvents(queueName(fingerprint), { connection });
      queue.on("error", () => undefined);
      events.on("error", () => undefined);
      // Every job in flight waits on these emitters: hundreds of listeners are expected, not a leak.
      queue.setMaxListeners(0);
      events.setMaxListeners(0);
      // Closing waits for Redis; when it is gone, force the connections down so the process can end.
      const closeOrDrop = (q: Queue | QueueEvents) => () => withTimeout(q.close(), 2000, "close").catch(() => withTimeout(q.disconnect(), 1000, "disconnect"));
      closers.push(closeOrDrop(events), closeOrDrop(queue), async () => redis.disconnect());
      await withTimeout(Promise.all([queue.waitUntilReady(), events.waitUntilReady()]), LOST_AFTER_MS, unreachable);
      await waitForWorkers({ redis, fingerprint });
      return { queue, events, redis, fingerprint };
    })());

  /** Resolves once a worker serves our fingerprint; fails after --queue-wait seconds, naming who is there. */
  async function waitForWorkers(p: { redis: Redis; fingerprint: RuntimeFingerprint }): Promise<number> {
    const id = fingerprintId(p.fingerprint);
    const deadline = Date.now() + params.queueWait * 1000;
    for (;;) {
      const workers = await connectedWorkers(p.redis);
      const serving = workers.filter((w) => w.fingerprints.includes(id)).length;
      if (serving > 0) return serving;
      if (Date.now() > deadline) {
        const others = [...new Set(workers.flatMap((w) => w.fingerprints))];
        throw new QueueError(
          `no arcforge worker serves this build's runtime fingerprint ${id} at ${safeUrl(url)} after ${params.queueWait} s; ` +
            (others.length ? `connected workers serve: ${others.join(", ")}` : "no worker is connected") +
            ` (start 'arcforge worker --queue ${safeUrl(url)}' with the same backend and isolation on a machine with the same Python and numpy)`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  async function submit(queue: Queue, data: BatchJob): Promise<Job<BatchJob, BatchResult>> {
    const id = jobId(data);
    const existing = (await queue.getJob(id)) as Job<BatchJob, BatchResult> | undefined;
    // A failed job of an earlier run would answer again with its failure: try it afresh.
    if (existing && (await existing.getState()) === "failed") await existing.remove();
    return queue.add("batch", data, { jobId: id, attempts: 3, backoff: { type: "exponential", delay: 500 }, removeOnComplete: { age: 24 * 3600 }, removeOnFail: { age: 24 * 3600 } });
  }

  return {
    name: "queue",
    fingerprint: () => params.local.fingerprint(),
    async info(): Promise<SandboxInfo> {
      const { fingerprint } = await connect();
      return { backend: `queue (${fingerprint.backend} workers)`, isolation: fingerprint.isolation, fingerprint, runnerVersion: 0, python: fingerprint.python, numpy: fingerprint.numpy, layers: {}, warnings: [] };
    },
    async *run(jobs: Iterable<ExecJob> | AsyncIterable<ExecJob>): AsyncGenerator<ExecResult> {
      const { queue, events, redis, fingerprint } = await connect();
      const id = fingerprintId(fingerprint);
      const ready: ExecResult[] = [];
      let failure: Error | undefined;
      let wake: (() => void) | undefined;
      const notify = () => (wake?.(), (wake = undefined));
      let submitted = 0;
      let done = 0;
      const send = (batch: ExecJob[]) => {
        submitted++;
        const data: BatchJob = { fingerprint: id, limits, programs: batch.map((j) => ({ code: j.code, inputs: j.inputs })) };
        void submit(queue, data)
            .then((job) => job.waitUntilFinished(events))
            .then((result: BatchResult) => {
              if (result.fingerprint !== id || result.outcomes.length !== batch.length) throw new QueueError(`a worker answered a job of fingerprint ${id} with ${result.fingerprint}: refusing its verdicts`);
              batch.forEach((job, k) => ready.push({ programId: job.programId, outcomes: result.outcomes[k]! }));
              done++;
            })
            .catch((error: Error) => void (failure ??= error instanceof QueueError ? error : new QueueError(`a queue job failed: ${error.message}`)))
            .finally(notify);
      };
      // The watchdog: Redis alive, workers present, and what the queue holds, every second.
      let lastSeen = Date.now();
      const watchdog = setInterval(() => {
        void (async () => {
          try {
            await withTimeout(redis.ping(), 1000, "ping");
            lastSeen = Date.now();
            const counts = await queue.getJobCounts("waiting", "active");
            const workers = (await connectedWorkers(redis)).filter((w) => w.fingerprints.includes(id)).length;
            params.onEvent?.({ type: "queue", fingerprint: id, workers, waiting: counts.waiting ?? 0, active: counts.active ?? 0, done, submitted });
          } catch {
            if (Date.now() - lastSeen > LOST_AFTER_MS) {
              failure ??= new QueueError(`lost the connection to Redis at ${safeUrl(url)}: the outcomes received so far are in the execution cache; run the same command again once Redis is back`);
              notify();
            }
          }
        })();
      }, 1000);
      try {
        let batch: ExecJob[] = [];
        for await (const job of jobs) {
          batch.push(job);
          if (batch.length >= batchPrograms) send(batch.splice(0));
        }
        if (batch.length) send(batch);
        while (done < submitted || ready.length > 0) {
          while (ready.length > 0) yield ready.shift()!;
          if (failure) throw failure;
          if (done >= submitted) break;
          await new Promise<void>((resolve) => (wake = resolve));
        }
        if (failure) throw failure;
      } finally {
        clearInterval(watchdog);
      }
    },
    async close() {
      await Promise.all(closers.splice(0).map((close) => close().catch(() => undefined)));
      await params.local.close();
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new QueueError(message)), ms)))]).finally(() => clearTimeout(timer));
}
