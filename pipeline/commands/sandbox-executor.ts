import { createDockerExecutor } from "../executor/docker-pool.js";
import { createProcessExecutor } from "../executor/process-pool.js";
import { resolveQueueAuth } from "../executor/queue/queue-auth.js";
import { createQueueExecutor } from "../executor/queue/queue-executor.js";
import type { Executor, ExecutorEvent } from "../executor/types.js";
import type { SandboxCliOptions } from "./sandbox-options.js";

/**
 * The executor the options describe. `protect`: the command's data folders (--tasks, --logs,
 * --out, the cache), which programs must never see, beside the working and home folders.
 */
export function executorFromOptions(
  options: SandboxCliOptions,
  onEvent?: (event: ExecutorEvent) => void,
  seed = 0,
  protect: (string | undefined)[] = [],
): Executor {
  const limits = { timeoutSeconds: options.timeout, memoryBytes: Math.round(options.memory * 1024 * 1024) };
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
