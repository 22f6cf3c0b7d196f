import { Queue, QueueEvents, type Job } from "bullmq";
import { Redis } from "ioredis";
import { checkRemoteOutcomes, type Outcome } from "../../../schemas/outcome.js";
import type { SandboxLimits } from "../../../schemas/sandbox-limits.js";
import { QueueError } from "../../common/errors.js";
import { fingerprintId, type RuntimeFingerprint } from "../runtime-fingerprint.js";
import type { ExecJob, ExecResult, Executor, ExecutorEvent, SandboxInfo } from "../types.js";
import { sign, verify, type QueueAuth } from "./queue-auth.js";
import { auditDisagreement, createAuditSample } from "./queue-audit.js";
import { connectedWorkers } from "./worker-registry.js";
import { answerSigned, jobId, queueName, redisConnection, redisOptions, safeUrl, type BatchJob, type BatchResult, type RedisTarget } from "./queue-protocol.js";

export interface QueueExecutorOptions {
  redis: RedisTarget;
  /** The shared secret: jobs are signed with it, and no answer without its MAC is used or cached. */
  auth: QueueAuth;
  /** The fraction of answered programs re-executed locally (0..1); a disagreement stops the build. */
  audit: number;
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
/** A job whose answers keep failing authentication is given up after this many submissions. */
const MAX_SUBMISSIONS = 4;

/**
 * Executes through BullMQ on Redis: the programs that missed the execution cache are sent in
 * batches to the queue of this build's runtime fingerprint, and `arcforge worker` processes on
 * any machine run them with the same sandbox and return the same outcomes.
 */
export function createQueueExecutor(params: QueueExecutorOptions): Executor {
  const { limits, auth } = params;
  const url = params.redis.url;
  const audit = createAuditSample(params.audit);
  const batchPrograms = params.batchPrograms ?? 64;
  let connected: Promise<{ queue: Queue; events: QueueEvents; redis: Redis; fingerprint: RuntimeFingerprint }> | undefined;
  const closers: (() => Promise<unknown>)[] = [];

  const connect = () =>
    (connected ??= (async () => {
      const fingerprint = await params.local.fingerprint();
      const connection = redisConnection(params.redis);
      // Its own client for the watchdog and the worker list: commands fail at once while Redis is
      // away. It connects first, so an unreachable Redis is reported before BullMQ starts retrying.
      const redis = new Redis(url, {
        ...redisOptions(params.redis),
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        lazyConnect: true,
        retryStrategy: (times: number) => Math.min(times * 200, 1000),
      });
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
      const workers = await connectedWorkers(p.redis, auth);
      const serving = workers.filter((w) => w.verified && w.fingerprints.includes(id)).length;
      if (serving > 0) return serving;
      if (Date.now() > deadline) {
        const others = [...new Set(workers.filter((w) => w.verified).flatMap((w) => w.fingerprints))];
        const unverified = workers.filter((w) => !w.verified).length;
        throw new QueueError(
          `no arcforge worker serves this build's runtime fingerprint ${id} at ${safeUrl(url)} after ${params.queueWait} s; ` +
            (others.length ? `connected workers serve: ${others.join(", ")}` : "no worker is connected") +
            (unverified ? `; ${unverified} worker(s) announced without this build's queue secret are ignored` : "") +
            ` (start 'arcforge worker --queue ${safeUrl(url)}' with the same backend and isolation on a machine with the same Python and numpy)`,
        );
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  async function submit(queue: Queue, data: BatchJob, id: string): Promise<Job<BatchJob, BatchResult>> {
    const existing = (await queue.getJob(id)) as Job<BatchJob, BatchResult> | undefined;
    // A failed job of an earlier run would answer again with its failure: try it afresh.
    if (existing && (await existing.getState()) === "failed") await existing.remove();
    return queue.add("batch", data, {
      jobId: id,
      attempts: 3,
      backoff: { type: "exponential", delay: 500 },
      removeOnComplete: { age: 24 * 3600 },
      removeOnFail: { age: 24 * 3600 },
    });
  }

  /**
   * The job's answer once it carries a valid MAC: an answer that does not (a worker without the
   * secret, or one left in Redis by such a worker) is removed and the job sent again.
   */
  async function signedAnswer(p: { queue: Queue; events: QueueEvents; data: BatchJob; id: string; fingerprint: string }): Promise<BatchResult> {
    for (let submission = 1; ; submission++) {
      const job = await submit(p.queue, p.data, p.id);
      const result = (await job.waitUntilFinished(p.events)) as BatchResult;
      if (result && result.fingerprint === p.fingerprint && verify(auth, "answer", answerSigned({ job: p.id, result }), result.mac)) return result;
      await job.remove().catch(() => undefined);
      if (submission >= MAX_SUBMISSIONS) {
        const who = typeof result?.worker === "string" ? ` (it calls itself ${result.worker.slice(0, 100)})` : "";
        throw new QueueError(
          `job ${p.id} was answered ${submission} times without a valid signature${who}: a worker without this build's queue secret is taking jobs at ${safeUrl(url)}; none of its answers was used. Stop it, protect Redis with a password (see the README), and run the same command again`,
        );
      }
    }
  }

  /** Checks an answer's shape and grids, and re-executes the audited part of it here. */
  async function checkedAnswer(p: { id: string; batch: ExecJob[]; result: BatchResult }): Promise<Outcome[][]> {
    const who = p.result.worker ?? "an unnamed worker";
    if (!Array.isArray(p.result.outcomes) || p.result.outcomes.length !== p.batch.length)
      throw new QueueError(
        `worker ${who} answered job ${p.id} with ${Array.isArray(p.result.outcomes) ? p.result.outcomes.length : "no"} outcome lists for ${p.batch.length} programs: refusing its verdicts`,
      );
    const outcomes = p.batch.map((job, k) => {
      const checked = checkRemoteOutcomes(p.result.outcomes[k], job.inputs.length);
      if (typeof checked === "string")
        throw new QueueError(`worker ${who} broke the answer contract in job ${p.id}, program ${k}: ${checked}; refusing its verdicts`);
      return checked;
    });
    const audited = p.batch.flatMap((job, k) => (audit.picks(`${p.id}:${k}`) ? [{ ...job, programId: String(k) }] : []));
    if (audited.length === 0) return outcomes;
    for await (const local of params.local.run(audited)) {
      const k = Number(local.programId);
      const disagreement = auditDisagreement({ remote: outcomes[k]!, local: local.outcomes });
      audit.checked++;
      if (disagreement) {
        throw new QueueError(
          `queue audit: worker ${who} answered job ${p.id}, program ${k}, ${disagreement}: stopping the build. Its answers are not trustworthy: stop that worker, clear the cache this build used (arcforge cache clear), and run the same command again`,
        );
      }
    }
    return outcomes;
  }

  return {
    name: "queue",
    limits: params.limits,
    fingerprint: () => params.local.fingerprint(),
    async info(): Promise<SandboxInfo> {
      const { fingerprint } = await connect();
      return {
        backend: `queue (${fingerprint.backend} workers)`,
        isolation: fingerprint.isolation,
        fingerprint,
        runnerVersion: 0,
        python: fingerprint.python,
        numpy: fingerprint.numpy,
        layers: {},
        warnings: [],
      };
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
        const content: BatchJob = {
          fingerprint: id,
          limits,
          programs: batch.map((j) => ({ code: j.code, inputs: j.inputs, ...(j.failFast ? { stop: j.failFast } : {}) })),
        };
        const contentId = jobId(content);
        const data: BatchJob = { ...content, mac: sign(auth, "job", { job: contentId }) };
        void signedAnswer({ queue, events, data, id: contentId, fingerprint: id })
          .then((result) => checkedAnswer({ id: contentId, batch, result }))
          .then((outcomes) => {
            batch.forEach((job, k) => ready.push({ programId: job.programId, outcomes: outcomes[k]! }));
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
            const workers = (await connectedWorkers(redis, auth)).filter((w) => w.verified && w.fingerprints.includes(id)).length;
            params.onEvent?.({
              type: "queue",
              fingerprint: id,
              workers,
              waiting: counts.waiting ?? 0,
              active: counts.active ?? 0,
              done,
              submitted,
              audited: audit.checked,
            });
          } catch {
            if (Date.now() - lastSeen > LOST_AFTER_MS) {
              failure ??= new QueueError(
                `lost the connection to Redis at ${safeUrl(url)}: the outcomes received so far are in the execution cache; run the same command again once Redis is back`,
              );
              notify();
            }
          }
        })();
      }, 1000);
      try {
        const batch: ExecJob[] = [];
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
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new QueueError(message)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}
