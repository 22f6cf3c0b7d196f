import { availableParallelism } from "node:os";
import { Option, type Command } from "commander";
import { createDockerExecutor } from "../executor/docker-pool.js";
import { createProcessExecutor } from "../executor/process-pool.js";
import { createQueueExecutor } from "../executor/queue/queue-executor.js";
import type { Executor, ExecutorEvent } from "../executor/types.js";

export interface SandboxCliOptions {
  timeout: number;
  memory: number;
  workers: number;
  /** `sample` names the sandbox's workers --sandbox-workers: its --workers counts requests. */
  sandboxWorkers?: number;
  isolation: "auto" | "bubblewrap" | "none";
  executor: "process" | "docker";
  recycleEvery: number;
  /** redis://HOST:PORT: execute through `arcforge worker` processes instead of locally. */
  queue?: string;
  queueWait: number;
  queueBatch: number;
}

/** The sandbox options every command that runs programs shares. */
export function addSandboxOptions(command: Command, params: { workersFlag?: string; queue?: boolean } = {}): Command {
  const withQueue = params.queue ?? true;
  const local = command
    .addOption(new Option("--timeout <seconds>", "CPU seconds per input before a program times out").default(1).argParser(positiveNumber))
    .addOption(new Option("--memory <MiB>", "memory a program may use on top of the runner, in MiB").default(1024).argParser(positiveNumber))
    .addOption(new Option(`${params.workersFlag ?? "--workers"} <n>`, "sandbox worker processes").default(availableParallelism()).argParser(positiveNumber))
    .addOption(
      new Option("--isolation <mode>", "auto: bubblewrap when available, else Landlock+seccomp, else refuse; bubblewrap: require it; none: run even without isolation")
        .choices(["auto", "bubblewrap", "none"])
        .default("auto"),
    )
    .addOption(new Option("--executor <backend>", "process: hardened fork servers; docker: the same runner in locked-down containers").choices(["process", "docker"]).default("process"))
    .addOption(new Option("--recycle-every <n>", "docker: replace a container after this many programs").default(1000).argParser(positiveNumber));
  if (!withQueue) return local;
  return local
    .addOption(new Option("--queue <redis-url>", "execute through arcforge worker processes on a Redis queue (redis://HOST:PORT)"))
    .addOption(new Option("--queue-wait <seconds>", "with --queue: fail when no worker serves this runtime for this long").default(60).argParser(positiveNumber))
    .addOption(new Option("--queue-batch <programs>", "with --queue: programs per job").default(64).argParser(positiveNumber));
}

export function executorFromOptions(options: SandboxCliOptions, onEvent?: (event: ExecutorEvent) => void, seed = 0): Executor {
  const limits = { timeoutSeconds: options.timeout, memoryBytes: Math.round(options.memory * 1024 * 1024) };
  const common = { ...limits, workers: Math.round(options.sandboxWorkers ?? options.workers), onEvent, seed };
  const local = options.executor === "docker" ? createDockerExecutor({ ...common, recycleEvery: Math.round(options.recycleEvery) }) : createProcessExecutor({ ...common, isolation: options.isolation });
  // With a queue, the local backend only names the runtime (its fingerprint); workers run the programs.
  return options.queue ? createQueueExecutor({ url: options.queue, local, limits, queueWait: options.queueWait, batchPrograms: Math.round(options.queueBatch), onEvent }) : local;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`expected a positive number, got '${value}'`);
  return n;
}
