import { Option, type Command } from "commander";
import { addQueueSecurityOptions, addSandboxOptions, resolveSandboxLimits, type SandboxCliOptions } from "./sandbox-options.js";
import { wholeNumber } from "./number-options.js";

interface WorkerCliOptions extends SandboxCliOptions {
  queue: string;
  lockDuration: number;
  stalledInterval: number;
}

/** `arcforge worker --queue redis://HOST:PORT`: executes build and validate jobs on this machine. */
export function registerWorkerCommand(program: Command): void {
  const command = program
    .command("worker")
    .description("execute queued programs for builds on other machines (BullMQ on Redis), with this machine's sandbox")
    .requiredOption("--queue <redis-url>", "the Redis the builds use (redis://[USER:PASSWORD@]HOST:PORT, or rediss:// for TLS)");
  addQueueSecurityOptions(addSandboxOptions(command, { queue: false }))
    .addOption(
      new Option("--lock-duration <ms>", "how long a job stays claimed without a heartbeat (a killed worker's job moves on after it)")
        .default(30_000)
        .argParser(wholeNumber(1))
        .hideHelp(),
    )
    .addOption(new Option("--stalled-interval <ms>", "how often stalled jobs are looked for").default(30_000).argParser(wholeNumber(1)).hideHelp())
    .action(async (cli: WorkerCliOptions) => {
      const log = (text: string) => process.stderr.write(`arcforge worker: ${text}\n`);
      const [{ RECHECK_SEED }, { resolveQueueAuth }, { startQueueWorker }, { executorFactory }] = await Promise.all([
        import("../../stages/revalidate.js"),
        import("../executor/queue/queue-auth.js"),
        import("../executor/queue/queue-worker.js"),
        import("./sandbox-executor.js"),
      ]);
      const executorFromOptions = await executorFactory({ ...cli, queue: undefined });
      const worker = await startQueueWorker({
        redis: { url: cli.queue, caFile: cli.queueCa },
        auth: resolveQueueAuth({ secret: cli.queueSecret, insecure: cli.queueInsecure }),
        seeds: [0, RECHECK_SEED],
        defaultLimits: resolveSandboxLimits(cli),
        // Each job carries its limits: the worker's sandbox enforces those, in the same units.
        createExecutor: (limits, seed) => executorFromOptions({ limits, seed }),
        lockDurationMs: cli.lockDuration,
        stalledIntervalMs: cli.stalledInterval,
        log,
      });
      // SIGINT/SIGTERM: finish the job in hand (BullMQ's close waits for it), then leave.
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log(`${signal}: finishing the current job, then stopping`);
        void worker.close().then(() => process.exit(0));
      };
      process.on("SIGINT", () => stop("SIGINT"));
      process.on("SIGTERM", () => stop("SIGTERM"));
    });
}
