import { availableParallelism } from "node:os";
import { SandboxError } from "../common/errors.js";
import { RUNNER_PATH } from "../common/paths.js";
import { bubblewrapArgs, findBubblewrap, RUNNER_IN_SANDBOX } from "./bubblewrap.js";
import { findPython } from "./find-python.js";
import { ForkServer, type RunnerCommand } from "./fork-server.js";
import { createServerPool, type WorkerFactory } from "./server-pool.js";
import { type Executor, type ExecutorOptions } from "./types.js";
import { DEFAULT_LIMITS } from "../../schemas/sandbox-limits.js";

export interface ProcessExecutorOptions extends ExecutorOptions {
  /** "auto" uses bubblewrap when it works here; "none" relies on Landlock, seccomp and rlimits alone. */
  isolation: "auto" | "bubblewrap" | "none";
  python?: string;
}

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
