import { readFileSync } from "node:fs";
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
  /** `stop`: the job's failFast (ExecJob), part of the content the id hashes and the MAC signs. */
  programs: { code: string; inputs: Grid[]; stop?: number }[];
  /** The build's MAC over the job id (a content hash): workers run only jobs of holders of the secret. */
  mac?: string;
}

/** A job's answer: outcomes per program, in batch order, signed by the worker that ran them. */
export interface BatchResult {
  fingerprint: string;
  outcomes: Outcome[][];
  /** The answering worker's name (its registry key), so a disagreement can name it. */
  worker?: string;
  /** MAC over {job id, fingerprint, worker, outcomes}: the build uses no answer without a valid one. */
  mac?: string;
}

/** What an answer's MAC covers: the job (by its content hash) and everything the build takes from it. */
export const answerSigned = (params: { job: string; result: BatchResult }) => ({
  job: params.job,
  fingerprint: params.result.fingerprint,
  worker: params.result.worker ?? null,
  outcomes: params.result.outcomes,
});

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
  /** Its registry key, named in answers. */
  name?: string;
  /** MAC over the rest: a build counts only workers that hold its secret. */
  mac?: string;
}

/** Jobs go to the queue of their runtime fingerprint: a worker consumes only its own. */
export const queueName = (fingerprint: RuntimeFingerprint) => `arcforge-exec-${fingerprintId(fingerprint)}`;

/**
 * The job id is the content hash of what decides its outcomes, so a resumed or repeated build
 * never enqueues the same work twice, whatever its program ids are called.
 */
export const jobId = (job: BatchJob) => cacheKey({ fingerprint: job.fingerprint, limits: job.limits, programs: job.programs });

/** How to reach Redis: the URL (user, password, rediss:// for TLS) and a CA file for a self-signed certificate. */
export interface RedisTarget {
  url: string;
  caFile?: string;
}

/**
 * ioredis options for a redis:// or rediss:// URL (BullMQ passes `url` on to ioredis); with a CA
 * file, TLS trusts that certificate authority.
 */
export function redisOptions(target: RedisTarget) {
  let parsed: URL;
  try {
    parsed = new URL(target.url);
  } catch {
    throw new QueueError(`--queue wants a redis://[USER:PASSWORD@]HOST:PORT or rediss:// URL, got '${safeUrl(target.url)}'`);
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:")
    throw new QueueError(`--queue wants a redis://[USER:PASSWORD@]HOST:PORT or rediss:// URL, got '${safeUrl(target.url)}'`);
  if (target.caFile && parsed.protocol !== "rediss:")
    throw new QueueError(`--queue-ca applies to TLS connections: use a rediss:// URL, not ${safeUrl(target.url)}`);
  let ca: Buffer | undefined;
  if (target.caFile) {
    try {
      ca = readFileSync(target.caFile);
    } catch (error) {
      throw new QueueError(`cannot read the CA file ${target.caFile} (--queue-ca): ${(error as Error).message}`);
    }
  }
  return { url: target.url, ...(ca ? { tls: { ca } } : {}) };
}

/** BullMQ's connection: its blocking connections need maxRetriesPerRequest null. */
export const redisConnection = (target: RedisTarget) => ({
  ...redisOptions(target),
  maxRetriesPerRequest: null,
  retryStrategy: (times: number) => Math.min(times * 200, 2000),
});

/** The URL without its password, for messages. */
export const safeUrl = (url: string) => url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
