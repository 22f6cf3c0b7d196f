import { createProcessExecutor } from "../executor/process-pool.js";
import { resolveQueueAuth } from "../executor/queue/queue-auth.js";
import type { Executor, ExecutorEvent } from "../executor/types.js";
import type { SandboxLimits } from "../../schemas/sandbox-limits.js";
import type { SandboxCliOptions } from "./sandbox-options.js";

export type ExecutorFromOptions = (params: {
  limits: SandboxLimits;
  onEvent?: (event: ExecutorEvent) => void;
  seed?: number;
  protect?: (string | undefined)[];
}) => Executor;

/**
 * What makes the executor the options describe, each enforcing exactly `limits`: the resolved
 * limits a build also keys its cache on (resolveSandboxLimits), never re-derived here. `protect`:
 * the command's data folders (--tasks, --logs, --out, the cache), which programs must never see.
 * Docker's and the queue's clients are loaded only when the options name them (together a third
 * of a second of every start).
 */
export async function executorFactory(options: SandboxCliOptions): Promise<ExecutorFromOptions> {
  const [docker, queue] = await Promise.all([
    options.executor === "docker" ? import("../executor/docker-pool.js") : undefined,
    options.queue ? import("../executor/queue/queue-executor.js") : undefined,
  ]);
  return ({ limits, onEvent, seed = 0, protect = [] }) => {
    const common = { ...limits, workers: Math.round(options.sandboxWorkers ?? options.workers), onEvent, seed };
    const folders = protect.filter((p): p is string => Boolean(p));
    const local = docker
      ? docker.createDockerExecutor({ ...common, recycleEvery: Math.round(options.recycleEvery) })
      : createProcessExecutor({ ...common, isolation: options.isolation, protect: folders });
    // With a queue, the local backend only names the runtime (its fingerprint); workers run the programs.
    if (!queue || !options.queue) return local;
    return queue.createQueueExecutor({
      redis: { url: options.queue, caFile: options.queueCa },
      auth: resolveQueueAuth({ secret: options.queueSecret, insecure: options.queueInsecure }),
      audit: options.queueAudit,
      local,
      limits,
      queueWait: options.queueWait,
      batchPrograms: Math.round(options.queueBatch),
      onEvent,
    });
  };
}
