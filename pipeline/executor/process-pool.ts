import { availableParallelism } from "node:os";
import { RUNNER_DIR, RUNNER_PATH } from "../common/paths.js";
import { bubblewrapArgs, findBubblewrap, RUNNER_IN_SANDBOX } from "./bubblewrap.js";
import { findPython } from "./find-python.js";
import { ForkServer, type RunnerCommand } from "./fork-server.js";
import { planIsolation, RUNNER_HASH, seedsFor, type RuntimeFingerprint } from "./runtime-fingerprint.js";
import { createServerPool, type WorkerFactory } from "./server-pool.js";
import { type Executor, type ExecutorOptions } from "./types.js";
import { DEFAULT_LIMITS } from "../../schemas/sandbox-limits.js";

export interface ProcessExecutorOptions extends ExecutorOptions {
  /**
   * "auto": bubblewrap when it works here, else Landlock and seccomp, else refuse.
   * "bubblewrap": bubblewrap or refuse. "none": no bubblewrap, and run even without any isolation.
   */
  isolation: "auto" | "bubblewrap" | "none";
  python?: string;
}

interface Resolved {
  command: RunnerCommand;
  fingerprint: RuntimeFingerprint;
  container: "bubblewrap" | null;
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
    seed: 0,
    ...params,
  };
  const warnings: string[] = [];
  let resolved: Promise<Resolved> | undefined;
  const resolve = () => (resolved ??= resolveCommand(options, warnings));
  const factory: WorkerFactory = async (index) => {
    const server = ForkServer.fromProcess({ runner: (await resolve()).command, limits: options, seed: options.seed, label: `sandbox worker ${index}` });
    await server.hello;
    return server;
  };
  return createServerPool({ name: "process", options, factory, warnings, runtime: resolve });
}

async function resolveCommand(options: ProcessExecutorOptions, warnings: string[]): Promise<Resolved> {
  const python = await findPython({ python: options.python });
  const env = {
    PYTHONPATH: python.sitePaths.join(":"),
    PYTHONHASHSEED: String(options.seed),
    PYTHONDONTWRITEBYTECODE: "1",
    LANG: "C.UTF-8",
  };
  const bwrap = options.isolation === "none" ? null : await findBubblewrap();
  const { isolation, warnings: said } = planIsolation({ requested: options.isolation, bubblewrap: bwrap !== null, landlockAbi: python.landlockAbi, seccomp: python.seccomp });
  warnings.push(...said);
  const fingerprint: RuntimeFingerprint = { runner: RUNNER_HASH, python: python.version, numpy: python.numpy, backend: "process", isolation, seeds: seedsFor(options.seed) };
  if (!bwrap) return { command: { command: python.executable, args: ["-S", RUNNER_PATH], env }, fingerprint, container: null };
  const args = bubblewrapArgs({ python, runnerDir: RUNNER_DIR });
  for (const [key, value] of Object.entries(env)) args.push("--setenv", key, value);
  return { command: { command: bwrap, args: [...args, "--", python.executable, "-S", RUNNER_IN_SANDBOX], env: {} }, fingerprint, container: "bubblewrap" };
}
