import { availableParallelism } from "node:os";
import { RUNNER_DIR, RUNNER_PATH } from "../common/paths.js";
import { bubblewrapArgs, findBubblewrap, RUNNER_IN_SANDBOX } from "./bubblewrap.js";
import { findPython } from "./find-python.js";
import { SandboxServer, runnerArgs, type RunnerCommand } from "./sandbox-server.js";
import { planIsolation, pythonParts, RUNNER_HASH, seedsFor, type IsolationRequest, type RuntimeFingerprint } from "./runtime-fingerprint.js";
import { guardLandlock, protectedPaths } from "./visible-paths.js";
import { createServerPool, type WorkerFactory } from "./server-pool.js";
import type { Executor, ExecutorOptions } from "./types.js";
import { DEFAULT_LIMITS } from "../../schemas/sandbox-limits.js";

export interface ProcessExecutorOptions extends ExecutorOptions {
  /**
   * "auto": bubblewrap when it works here, else Landlock and seccomp, else refuse.
   * "bubblewrap": bubblewrap or refuse. "landlock": Landlock and seccomp without bubblewrap, or
   * refuse. "none": no bubblewrap, and run even without any isolation.
   */
  isolation: IsolationRequest;
  python?: string;
  /** Folders programs must never see (the working and home folders are always added). */
  protect?: string[];
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
    const server = SandboxServer.fromProcess({ runner: (await resolve()).command, label: `sandbox worker ${index}` });
    await server.hello;
    return server;
  };
  return createServerPool({ name: "process", options, factory, warnings, runtime: resolve });
}

async function resolveCommand(options: ProcessExecutorOptions, warnings: string[]): Promise<Resolved> {
  const python = await findPython({ python: options.python });
  // Only these variables: the runner refuses any other PYTHON* one, and fixes its import path from its arguments.
  const env = { PYTHONHASHSEED: String(options.seed), PYTHONDONTWRITEBYTECODE: "1", LANG: "C.UTF-8" };
  const bwrap = options.isolation === "none" || options.isolation === "landlock" ? null : await findBubblewrap();
  const { isolation, warnings: said } = planIsolation({
    requested: options.isolation,
    bubblewrap: bwrap !== null,
    landlockAbi: python.landlockAbi,
    seccomp: python.seccomp,
  });
  warnings.push(...said);
  const fingerprint: RuntimeFingerprint = { runner: RUNNER_HASH, ...pythonParts(python), backend: "process", isolation, seeds: seedsFor(options.seed) };
  const protect = protectedPaths(options.protect);
  const args = runnerArgs(options, options.seed, python.sitePaths);
  if (!bwrap) {
    if (isolation !== "none") guardLandlock({ python, runnerDir: RUNNER_DIR, protect });
    return { command: { command: python.executable, args: ["-s", "-S", RUNNER_PATH, ...args], env }, fingerprint, container: null };
  }
  const wrap = bubblewrapArgs({ python, runnerDir: RUNNER_DIR, protect });
  for (const [key, value] of Object.entries(env)) wrap.push("--setenv", key, value);
  return {
    command: { command: bwrap, args: [...wrap, "--", python.executable, "-s", "-S", RUNNER_IN_SANDBOX, ...args], env: {} },
    fingerprint,
    container: "bubblewrap",
  };
}
