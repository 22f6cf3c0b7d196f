import type { Grid } from "../../schemas/grid.js";
import type { Outcome } from "../../schemas/outcome.js";
import { ExecCache, type ExecNamespace } from "./exec-cache.js";
import type { Executor } from "../executor/types.js";
import type { SandboxLimits } from "../../schemas/sandbox-limits.js";
import type { ProgressEvent } from "../common/progress.js";

export interface CachedJob {
  id: string;
  code: string;
  inputs: Grid[];
}

/**
 * Outcomes for every job, executing only the (code, input) pairs the cache does not hold.
 * The executor is started only when something is missing.
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
  const missing: { id: string; code: string; inputs: Grid[]; positions: number[]; keys: string[] }[] = [];
  for (const job of params.jobs) {
    const keys = job.inputs.map((input) => ExecCache.key({ code: job.code, input, limits }));
    const outcomes = keys.map((k) => cache.get(k));
    results.set(job.id, outcomes as Outcome[]);
    const positions = outcomes.flatMap((o, i) => (o ? [] : [i]));
    if (positions.length > 0) missing.push({ id: job.id, code: job.code, inputs: positions.map((i) => job.inputs[i]!), positions, keys });
  }
  let done = params.jobs.length - missing.length;
  params.onProgress?.(done, params.jobs.length);
  if (missing.length === 0) return results;
  const byId = new Map(missing.map((m) => [m.id, m]));
  const executor = await params.executor();
  for await (const result of executor.run(missing.map((m) => ({ programId: m.id, code: m.code, inputs: m.inputs })))) {
    const job = byId.get(result.programId)!;
    const outcomes = results.get(job.id)!;
    const fresh: [string, Outcome][] = [];
    result.outcomes.forEach((outcome, k) => {
      const position = job.positions[k]!;
      outcomes[position] = outcome;
      fresh.push([job.keys[position]!, outcome]);
    });
    cache.put(fresh);
    params.onProgress?.(++done, params.jobs.length);
  }
  return results;
}

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
  const cache = new ExecCache({ cacheDir: params.context.cacheDir, namespace: params.namespace, fingerprint: await executor.fingerprint(), fresh: params.context.fresh });
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
