import { createDockerExecutor } from "../executor/docker-pool.js";
import { createProcessExecutor } from "../executor/process-pool.js";
import { resolveQueueAuth } from "../executor/queue/queue-auth.js";
import { createQueueExecutor } from "../executor/queue/queue-executor.js";
import type { Executor, ExecutorEvent } from "../executor/types.js";
import type { SandboxLimits } from "../../schemas/sandbox-limits.js";
import type { SandboxCliOptions } from "./sandbox-options.js";

/**
 * The executor the options describe, enforcing exactly `limits`: the resolved limits a build also
 * keys its cache on (resolveSandboxLimits), never re-derived here. `protect`: the command's data
 * folders (--tasks, --logs, --out, the cache), which programs must never see.
 */
export function executorFromOptions(params: {
  options: SandboxCliOptions;
  limits: SandboxLimits;
  onEvent?: (event: ExecutorEvent) => void;
  seed?: number;
  protect?: (string | undefined)[];
}): Executor {
  const { options, limits, onEvent } = params;
  const seed = params.seed ?? 0;
  const protect = params.protect ?? [];
  const common = { ...limits, workers: Math.round(options.sandboxWorkers ?? options.workers), onEvent, seed };
  const folders = protect.filter((p): p is string => Boolean(p));
  const local =
    options.executor === "docker"
      ? createDockerExecutor({ ...common, recycleEvery: Math.round(options.recycleEvery) })
      : createProcessExecutor({ ...common, isolation: options.isolation, protect: folders });
  // With a queue, the local backend only names the runtime (its fingerprint); workers run the programs.
  if (!options.queue) return local;
  return createQueueExecutor({
    redis: { url: options.queue, caFile: options.queueCa },
    auth: resolveQueueAuth({ secret: options.queueSecret, insecure: options.queueInsecure }),
    audit: options.queueAudit,
    local,
    limits,
    queueWait: options.queueWait,
    batchPrograms: Math.round(options.queueBatch),
    onEvent,
  });
}
