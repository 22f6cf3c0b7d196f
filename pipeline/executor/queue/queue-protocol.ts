import type { Grid } from "../../../schemas/grid.js";
import type { Outcome } from "../../../schemas/outcome.js";
import type { SandboxLimits } from "../../../schemas/sandbox-limits.js";
import { cacheKey } from "../../common/canonical-json.js";
import { QueueError } from "../../common/errors.js";
import { fingerprintId, type RuntimeFingerprint } from "../runtime-fingerprint.js";

/** One queue job: a batch of programs, each with all of its inputs, for one runtime and limits. */
export interface BatchJob {
  fingerprint: string;
  limits: SandboxLimits;
  programs: { code: string; inputs: Grid[] }[];
}

/** A job's answer: outcomes per program, in batch order. */
export interface BatchResult {
  fingerprint: string;
  outcomes: Outcome[][];
}

/** Workers announce themselves under this prefix, with a time to live they keep renewing. */
export const WORKER_KEY_PREFIX = "arcforge:worker:";
export const WORKER_TTL_MS = 10_000;

export interface WorkerAnnouncement {
  host: string;
  pid: number;
  /** Fingerprint ids it serves (one per seed). */
  fingerprints: string[];
  workers: number;
  started: string;
}

/** Jobs go to the queue of their runtime fingerprint: a worker consumes only its own. */
export const queueName = (fingerprint: RuntimeFingerprint) => `arcforge-exec-${fingerprintId(fingerprint)}`;

/**
 * The job id is the content hash of what decides its outcomes, so a resumed or repeated build
 * never enqueues the same work twice, whatever its program ids are called.
 */
export const jobId = (job: BatchJob) => cacheKey({ fingerprint: job.fingerprint, limits: job.limits, programs: job.programs });

/** ioredis options for a redis:// URL; BullMQ's blocking connections need maxRetriesPerRequest null. */
export function redisConnection(url: string) {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new QueueError(`--queue wants a redis://HOST:PORT URL, got '${url}'`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") throw new QueueError(`--queue wants a redis://HOST:PORT URL, got '${url}'`);
  return { url, maxRetriesPerRequest: null, retryStrategy: (times: number) => Math.min(times * 200, 2000) };
}

/** The URL without its password, for messages. */
export const safeUrl = (url: string) => url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
