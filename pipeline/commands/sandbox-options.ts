import { availableParallelism } from "node:os";
import { Option, type Command } from "commander";
import { ISOLATION_REQUESTS, type IsolationRequest } from "../executor/runtime-fingerprint.js";
import type { SandboxLimits } from "../../schemas/sandbox-limits.js";
import { fraction, positiveNumber } from "./number-options.js";

export interface SandboxCliOptions {
  timeout: number;
  memory: number;
  workers: number;
  /** `sample` names the sandbox's workers --sandbox-workers: its --workers counts requests. */
  sandboxWorkers?: number;
  isolation: IsolationRequest;
  executor: "process" | "docker";
  recycleEvery: number;
  /** redis://HOST:PORT: execute through `arcforge worker` processes instead of locally. */
  queue?: string;
  queueWait: number;
  queueBatch: number;
  queueSecret?: string;
  queueInsecure?: boolean;
  queueCa?: string;
  queueAudit: number;
}

/** The sandbox limits the options ask for, resolved once: the executor enforces them and the caches are keyed on them. */
export function resolveSandboxLimits(options: Pick<SandboxCliOptions, "timeout" | "memory">): SandboxLimits {
  return { timeoutSeconds: options.timeout, memoryBytes: Math.round(options.memory * 2 ** 20) };
}

/** The options that reach a Redis queue securely: shared by builds, validate and `arcforge worker`. */
export function addQueueSecurityOptions(command: Command): Command {
  return command
    .addOption(new Option("--queue-secret <secret>", "shared secret of the build and its workers (prefer ARCFORGE_QUEUE_SECRET: a flag shows in ps)"))
    .addOption(new Option("--queue-insecure", "use the queue without a shared secret (anyone who reaches Redis can answer jobs)"))
    .addOption(new Option("--queue-ca <file>", "CA certificate to trust for a rediss:// (TLS) queue with a self-signed certificate"));
}

/** The sandbox options every command that runs programs shares. */
export function addSandboxOptions(command: Command, params: { workersFlag?: string; queue?: boolean } = {}): Command {
  const withQueue = params.queue ?? true;
  const local = command
    .addOption(new Option("--timeout <seconds>", "CPU seconds per input before a program times out").default(1).argParser(positiveNumber))
    .addOption(new Option("--memory <MiB>", "memory a program may use on top of the runner, in MiB").default(1024).argParser(positiveNumber))
    .addOption(new Option(`${params.workersFlag ?? "--workers"} <n>`, "sandbox worker processes").default(availableParallelism()).argParser(positiveNumber))
    .addOption(
      new Option(
        "--isolation <mode>",
        "auto: bubblewrap when available, else Landlock+seccomp, else refuse; bubblewrap: require it; landlock: Landlock+seccomp without bubblewrap; none: run even without isolation",
      )
        .choices([...ISOLATION_REQUESTS])
        .default("auto"),
    )
    .addOption(
      new Option("--executor <backend>", "process: hardened fork servers; docker: the same runner in locked-down containers")
        .choices(["process", "docker"])
        .default("process"),
    )
    .addOption(new Option("--recycle-every <n>", "docker: replace a container after this many programs").default(1000).argParser(positiveNumber));
  if (!withQueue) return local;
  const queued = local
    .addOption(new Option("--queue <redis-url>", "execute through arcforge worker processes on a Redis queue (redis://HOST:PORT)"))
    .addOption(
      new Option("--queue-wait <seconds>", "with --queue: fail when no worker serves this runtime for this long").default(60).argParser(positiveNumber),
    )
    .addOption(new Option("--queue-batch <programs>", "with --queue: programs per job").default(64).argParser(positiveNumber))
    .addOption(
      new Option("--queue-audit <fraction>", "with --queue: fraction of answers re-executed on this machine; a disagreement stops the build")
        .default(0.01)
        .argParser(fraction),
    );
  return addQueueSecurityOptions(queued);
}
