import type { Grid } from "../../schemas/grid.js";
import { checkSkipped, decidesFate, type Outcome } from "../../schemas/outcome.js";
import { ExecCache, type ExecNamespace } from "./exec-cache.js";
import type { Executor } from "../executor/types.js";
import type { SandboxLimits } from "../../schemas/sandbox-limits.js";
import type { ProgressEvent } from "../common/progress.js";
import { SandboxError } from "../common/errors.js";

export interface CachedJob {
  id: string;
  code: string;
  inputs: Grid[];
  /** A failure on one of the first `failFast` inputs decides the program: the inputs after it are not run (ExecJob). */
  failFast?: number;
}

const SKIPPED: Outcome = { status: "skipped", ms: 0 };

/**
 * Outcomes for every job, executing only the (code, input) pairs the cache does not hold, each
 * once: jobs that need the same pairs (a program sampled many times over) share one execution.
 * With `failFast`, a failure (cached or run) on one of the first `failFast` inputs ends the job:
 * the inputs after it are `skipped`, never run nor cached. The executor is started only when
 * something is missing.
 */
export async function executeCached(params: {
  jobs: CachedJob[];
  cache: ExecCache;
  limits: SandboxLimits;
  executor: () => Promise<Executor>;
  onProgress?: (done: number, total: number) => void;
}): Promise<Map<string, Outcome[]>> {
  const { cache, limits } = params;
  const results = new Map<string, Outcome[]>();
  // Per distinct set of missing pairs: the job that runs, and every job waiting on it.
  const missing = new Map<string, { run: Missing; waiting: Missing[] }>();
  for (const job of params.jobs) {
    const keys = job.inputs.map((input) => ExecCache.key({ code: job.code, input, limits }));
    const outcomes = keys.map((k) => cache.get(k));
    const failFast = job.failFast ?? 0;
    // A cached failure that decides the program: the inputs after it are not needed.
    const decided = outcomes.findIndex((o, i) => o !== undefined && decidesFate(o, i, failFast));
    if (decided !== -1) for (let i = decided + 1; i < outcomes.length; i++) outcomes[i] ??= SKIPPED;
    results.set(job.id, outcomes as Outcome[]);
    const positions = outcomes.flatMap((o, i) => (o ? [] : [i]));
    if (positions.length === 0) continue;
    const entry: Missing = {
      id: job.id,
      code: job.code,
      inputs: positions.map((i) => job.inputs[i]!),
      positions,
      keys,
      failFast: positions.filter((i) => i < failFast).length,
    };
    const pairs = `${entry.failFast}:${positions.map((i) => keys[i]).join(",")}`;
    const found = missing.get(pairs);
    if (found) found.waiting.push(entry);
    else missing.set(pairs, { run: entry, waiting: [entry] });
  }
  const waiting = [...missing.values()].reduce((n, m) => n + m.waiting.length, 0);
  let done = params.jobs.length - waiting;
  params.onProgress?.(done, params.jobs.length);
  if (missing.size === 0) return results;
  const byId = new Map([...missing.values()].map((m) => [m.run.id, m]));
  const executor = await params.executor();
  const jobs = [...missing.values()].map(({ run }) => ({ programId: run.id, code: run.code, inputs: run.inputs, failFast: run.failFast }));
  for await (const result of executor.run(jobs)) {
    const { run, waiting: jobs } = byId.get(result.programId)!;
    // No backend's word alone skips an input: only a failure before it within failFast does.
    const answered = checkSkipped(result.outcomes, run.failFast);
    cache.put(answered.map((outcome, k) => [run.keys[run.positions[k]!]!, outcome]));
    for (const job of jobs) {
      const outcomes = results.get(job.id)!;
      answered.forEach((outcome, k) => (outcomes[job.positions[k]!] = outcome));
      params.onProgress?.(++done, params.jobs.length);
    }
  }
  return results;
}

interface Missing {
  id: string;
  code: string;
  inputs: Grid[];
  positions: number[];
  keys: string[];
  failFast: number;
}

const describeLimits = (l: SandboxLimits) => `${l.timeoutSeconds} s CPU and ${Math.round(l.memoryBytes / 2 ** 20)} MiB per input`;

/**
 * executeCached for a stage: opens the stage's cache namespace, reports progress under the stage's
 * name, and closes the cache however the run ends.
 */
export async function executeForStage(params: {
  stage: string;
  namespace: ExecNamespace;
  jobs: CachedJob[];
  limits: SandboxLimits;
  /** The sandbox's seed (random, numpy.random, hash): its own fingerprint, its own cache. */
  seed?: number;
  context: { cacheDir: string; fresh: boolean; executor: (seed?: number) => Promise<Executor>; emit: (event: ProgressEvent) => void };
}): Promise<{ outcomes: Map<string, Outcome[]>; hits: number; misses: number; transient: number }> {
  const executor = await params.context.executor(params.seed);
  if (executor.limits.timeoutSeconds !== params.limits.timeoutSeconds || executor.limits.memoryBytes !== params.limits.memoryBytes)
    throw new SandboxError(
      `stage ${params.stage}: the ${executor.name} executor enforces ${describeLimits(executor.limits)} but the build's options say ${describeLimits(params.limits)}, ` +
        "and its cache is keyed on the options: build the executor from the resolved options' limits",
    );
  const cache = new ExecCache({
    cacheDir: params.context.cacheDir,
    namespace: params.namespace,
    fingerprint: await executor.fingerprint(),
    fresh: params.context.fresh,
  });
  try {
    const outcomes = await executeCached({
      jobs: params.jobs,
      cache,
      limits: params.limits,
      executor: async () => executor,
      onProgress: (done, total) => params.context.emit({ type: "progress", stage: params.stage, done, total }),
    });
    const transient = [...outcomes.values()].reduce((n, list) => n + list.filter((o) => o.status === "crash" && o.transient).length, 0);
    return { outcomes, hits: cache.hits, misses: cache.misses, transient };
  } finally {
    await cache.close();
  }
}
