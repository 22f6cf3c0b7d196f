import { availableParallelism } from "node:os";
import type { Outcome } from "../../schemas/outcome.js";
import { SandboxError } from "../errors.js";
import { RUNNER_PATH } from "../paths.js";
import { bubblewrapArgs, findBubblewrap, RUNNER_IN_SANDBOX } from "./bubblewrap.js";
import { findPython } from "./find-python.js";
import { ForkServer, ServerDiedError, type RunnerCommand } from "./fork-server.js";
import { HealthMeter } from "./health-meter.js";
import { runPool } from "./run-pool.js";
import { DEFAULT_LIMITS, type ExecJob, type ExecResult, type Executor, type ExecutorOptions, type SandboxInfo } from "./types.js";

export interface ProcessExecutorOptions extends ExecutorOptions {
  /** "auto" uses bubblewrap when it works here; "none" relies on Landlock, seccomp and rlimits alone. */
  isolation: "auto" | "bubblewrap" | "none";
  python?: string;
}

/** Starts one worker; the pool replaces it when it dies. */
export type WorkerFactory = (index: number) => Promise<ForkServer>;

/**
 * The default backend: a pool of hardened Python fork servers, one per core. Each program
 * runs in a fresh fork (nothing leaks between programs) carrying all of its inputs.
 */
export function createProcessExecutor(params: Partial<ProcessExecutorOptions> = {}): Executor {
  const options: ProcessExecutorOptions = {
    ...DEFAULT_LIMITS,
    workers: availableParallelism(),
    healthEvery: 500,
    isolation: "auto",
    ...params,
  };
  const warnings: string[] = [];
  const command = resolveCommand(options, warnings);
  const factory: WorkerFactory = async (index) => {
    const server = ForkServer.fromProcess({ runner: await command, limits: options, label: `sandbox worker ${index}` });
    await server.hello;
    return server;
  };
  return createServerPool({ name: "process", options, factory, warnings });
}

async function resolveCommand(options: ProcessExecutorOptions, warnings: string[]): Promise<RunnerCommand> {
  const python = await findPython({ python: options.python });
  const env = {
    PYTHONPATH: python.sitePaths.join(":"),
    PYTHONHASHSEED: "0",
    PYTHONDONTWRITEBYTECODE: "1",
    LANG: "C.UTF-8",
  };
  const bwrap = options.isolation === "none" ? null : await findBubblewrap();
  if (options.isolation === "bubblewrap" && !bwrap) {
    throw new SandboxError("isolation 'bubblewrap' was asked for, but bwrap is missing or cannot create namespaces here (apt-get install bubblewrap)");
  }
  if (!bwrap) {
    if (options.isolation === "auto") warnings.push("bubblewrap is not available: programs run under Landlock, seccomp and rlimits only, as the current user");
    return { command: python.executable, args: ["-S", RUNNER_PATH], env };
  }
  const args = bubblewrapArgs({ python, runnerPath: RUNNER_PATH });
  for (const [key, value] of Object.entries(env)) args.push("--setenv", key, value);
  return { command: bwrap, args: [...args, "--", python.executable, "-S", RUNNER_IN_SANDBOX], env: {} };
}

/** A pool over any worker that speaks the runner protocol (fork servers here, containers for docker). */
export function createServerPool(params: {
  name: string;
  options: ExecutorOptions;
  factory: WorkerFactory;
  warnings: string[];
  /** Called after each program a worker finishes; true replaces the worker (recycling). */
  recycle?: (worker: ForkServer, programs: number) => boolean;
}): Executor {
  const { options, factory } = params;
  const workers: (Promise<ForkServer> | undefined)[] = [];
  const served = new Map<ForkServer, number>();
  const health = new HealthMeter({ every: options.healthEvery, onEvent: options.onEvent });
  let infoPromise: Promise<SandboxInfo> | undefined;

  const worker = (index: number): Promise<ForkServer> => {
    let current = workers[index];
    if (!current) {
      current = factory(index);
      current.catch(() => (workers[index] = undefined));
      workers[index] = current;
    }
    return current;
  };
  const replace = async (index: number, reason: string) => {
    const old = workers[index];
    workers[index] = undefined;
    options.onEvent?.({ type: "respawn", worker: index, reason });
    if (old) (await old.catch(() => undefined))?.kill();
  };

  // run() may be called concurrently (sample executes attempts as they arrive): one program at a time per worker.
  const queues: Promise<unknown>[] = [];
  const exclusive = <T>(index: number, task: () => Promise<T>): Promise<T> => {
    const next = (queues[index] ?? Promise.resolve()).then(task, task);
    queues[index] = next.catch(() => undefined);
    return next;
  };

  const attempt = (index: number, job: ExecJob, indices: number[]): Promise<Map<number, Outcome>> => exclusive(index, () => attemptNow(index, job, indices));
  const attemptNow = async (index: number, job: ExecJob, indices: number[]): Promise<Map<number, Outcome>> => {
    const server = await worker(index);
    // The runner bounds every input itself; a worker silent for far longer has hung: replace it.
    const watchdogMs = indices.length * (options.timeoutSeconds * 2 + 0.5) * 1000 + 15_000;
    const watchdog = setTimeout(() => server.kill(), watchdogMs);
    try {
      const outcomes = await server.execute({ code: job.code, inputs: indices.map((i) => job.inputs[i]!) });
      const count = (served.get(server) ?? 0) + 1;
      served.set(server, count);
      if (params.recycle?.(server, count)) await replace(index, `recycled after ${count} programs`);
      return new Map([...outcomes].map(([position, outcome]) => [indices[position]!, outcome]));
    } catch (error) {
      if (!(error instanceof ServerDiedError)) throw error;
      await replace(index, error.message);
      throw new ServerDiedError(error.message, new Map([...error.outcomes].map(([position, outcome]) => [indices[position]!, outcome])));
    } finally {
      clearTimeout(watchdog);
    }
  };

  /** A server that dies mid-program gets one retry in a fresh server for the inputs left. */
  const execute = async (index: number, job: ExecJob): Promise<ExecResult> => {
    const started = performance.now();
    const outcomes = new Map<number, Outcome>();
    let left = job.inputs.map((_, i) => i);
    for (let tries = 0; left.length > 0; tries++) {
      try {
        for (const [i, outcome] of await attempt(index, job, left)) outcomes.set(i, outcome);
      } catch (error) {
        if (!(error instanceof ServerDiedError)) throw error;
        for (const [i, outcome] of error.outcomes) outcomes.set(i, outcome);
        if (tries >= 1) {
          for (const i of left.filter((i) => !outcomes.has(i))) outcomes.set(i, { status: "crash", message: `sandbox server died twice: ${error.message}`, ms: 0 });
        }
      }
      left = left.filter((i) => !outcomes.has(i));
    }
    const result = { programId: job.programId, outcomes: job.inputs.map((_, i) => outcomes.get(i)!) };
    health.record(result, performance.now() - started);
    return result;
  };

  return {
    name: params.name,
    run: (jobs) => runPool({ jobs, workers: options.workers, execute }),
    info() {
      infoPromise ??= worker(0).then(async (server) => {
        const hello = await server.hello;
        return { backend: params.name, runnerVersion: hello.runner, python: hello.python, numpy: hello.numpy, layers: hello.layers, warnings: params.warnings };
      });
      return infoPromise;
    },
    async close() {
      const all = workers.splice(0);
      await Promise.all(all.map(async (w) => (await w?.catch(() => undefined))?.close()));
    },
  };
}
