import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { PassThrough } from "node:stream";
import Dockerode from "dockerode";
import { DockerError } from "../common/errors.js";
import { buildSandboxImage, RUNNER_IN_IMAGE } from "./docker-image.js";
import { findPython, type PythonRuntime } from "./find-python.js";
import { RUNNER_HASH, pythonParts, seedsFor, type RuntimeFingerprint } from "./runtime-fingerprint.js";
import { SandboxServer, runnerArgs, type RunnerIo } from "./sandbox-server.js";
import { createServerPool } from "./server-pool.js";
import type { Executor, ExecutorOptions } from "./types.js";
import { DEFAULT_LIMITS } from "../../schemas/sandbox-limits.js";

export interface DockerExecutorOptions extends ExecutorOptions {
  /** Replace a container after this many programs (long-lived sandboxes degrade). */
  recycleEvery: number;
  docker?: Dockerode;
  /** An image holding the runner at /arcforge/runner.py; built offline from the host when absent. */
  image?: string;
  python?: string;
  /** The value of every container's arcforge.run label (default: ARCFORGE_RUN_ID, else random). */
  runId?: string;
  /** Containers of earlier runs that never started or already stopped are removed once this old. */
  staleAfterMs?: number;
}

/**
 * Removes arcforge containers left by runs that were killed between creating and starting a
 * container (AutoRemove only acts on a container that ran). Running ones are left alone: they
 * belong to live runs, or end by themselves once their attach connection is gone.
 */
export async function removeStaleContainers(docker: Dockerode, staleAfterMs: number): Promise<number> {
  const list = await docker.listContainers({ all: true, filters: { label: [RUN_LABEL] } });
  const stale = list.filter((c) => c.State !== "running" && Date.now() - c.Created * 1000 >= staleAfterMs);
  await Promise.all(
    stale.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
  return stale.length;
}

/** The label every container of arcforge carries, with the run id as value. */
export const RUN_LABEL = "arcforge.run";

/** Reachable Docker engine, or a DockerError that says how to get one. */
export async function connectDocker(docker = new Dockerode()): Promise<Dockerode> {
  try {
    await docker.ping();
    return docker;
  } catch (error) {
    throw new DockerError(
      `no Docker engine is reachable (${(error as Error).message}) at ${process.env.DOCKER_HOST ?? "/var/run/docker.sock"}: ` +
        "start one (dockerd, or 'systemctl start docker') or point DOCKER_HOST at it, or use --executor process",
    );
  }
}

/**
 * The docker backend: one long-lived sandbox container per worker, running the same runner with
 * the same protocol, with no network, a read-only root, no capabilities, uid 65534, memory and
 * pids limits and an init process. Containers are recycled, replaced when they die, and all of
 * them are removed on close, on error and on SIGINT/SIGTERM.
 */
export function createDockerExecutor(params: Partial<DockerExecutorOptions> = {}): Executor & { runId: string } {
  const options: DockerExecutorOptions = { ...DEFAULT_LIMITS, workers: availableParallelism(), healthEvery: 500, recycleEvery: 1000, seed: 0, ...params };
  const runId = options.runId ?? process.env.ARCFORGE_RUN_ID ?? randomBytes(4).toString("hex");
  const live = new Set<Dockerode.Container>();
  let generation = 0;
  // Started by the first worker, not here: a build served from cache never touches Docker.
  let setupPromise: Promise<{ docker: Dockerode; python: PythonRuntime; image: string }> | undefined;
  const setup = () =>
    (setupPromise ??= (async () => {
      const docker = await connectDocker(options.docker);
      await removeStaleContainers(docker, options.staleAfterMs ?? 60_000);
      const python = await findPython({ python: options.python });
      const image = options.image ?? (await buildSandboxImage({ docker, python }));
      return { docker, python, image };
    })());
  // The image is built from the host's interpreter and numpy, so the host's versions are the container's.
  const runtime = async () => {
    const python = await findPython({ python: options.python });
    const fingerprint: RuntimeFingerprint = {
      runner: RUNNER_HASH,
      ...pythonParts(python),
      backend: "docker",
      isolation: "docker",
      seeds: seedsFor(options.seed),
    };
    return { fingerprint, container: "docker" as const };
  };

  const removeAll = async () => {
    await Promise.all([...live].map((c) => c.remove({ force: true }).catch(() => undefined)));
    live.clear();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    void removeAll().finally(() => {
      process.off(signal, onSignal);
      process.kill(process.pid, signal);
    });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const pool = createServerPool({
    name: "docker",
    options,
    warnings: [],
    runtime,
    recycle: (_server, programs) => programs >= options.recycleEvery,
    factory: async (index) => {
      const { docker, python, image } = await setup();
      const container = await docker.createContainer({
        name: `arcforge-${runId}-w${index}-${++generation}`,
        Image: image,
        Cmd: [python.executable, "-s", "-S", RUNNER_IN_IMAGE, "--results-stdout", ...runnerArgs(options, options.seed, python.sitePaths)],
        Env: [`PYTHONHASHSEED=${options.seed}`, "PYTHONDONTWRITEBYTECODE=1", "LANG=C.UTF-8"],
        User: "65534:65534",
        WorkingDir: "/tmp",
        Labels: { [RUN_LABEL]: runId },
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        OpenStdin: true,
        // When our attach connection drops (even if this process is killed), stdin closes, the
        // runner's request loop ends, the container stops and Docker removes it.
        StdinOnce: true,
        Tty: false,
        NetworkDisabled: true,
        HostConfig: {
          NetworkMode: "none",
          ReadonlyRootfs: true,
          CapDrop: ["ALL"],
          SecurityOpt: ["no-new-privileges"],
          Memory: options.memoryBytes + 512 * 2 ** 20,
          MemorySwap: options.memoryBytes + 512 * 2 ** 20,
          PidsLimit: 64,
          Init: true,
          AutoRemove: true,
          Tmpfs: { "/tmp": "rw,noexec,nosuid,size=16m" },
        },
      });
      live.add(container);
      const io = await attach(container, () => live.delete(container));
      await container.start();
      const server = new SandboxServer({ io, label: `sandbox container ${index}` });
      await server.hello;
      return server;
    },
  });

  return {
    ...pool,
    name: "docker",
    runId,
    async close() {
      await pool.close();
      await removeAll();
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

/** stdin, demultiplexed stdout (results) and stderr of a container, as a runner transport. */
async function attach(container: Dockerode.Container, forget: () => void): Promise<RunnerIo> {
  const stream = await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true });
  const results = new PassThrough();
  const stderr = new PassThrough();
  container.modem.demuxStream(stream, results, stderr);
  const stdin = new PassThrough();
  stdin.pipe(stream as unknown as NodeJS.WritableStream);
  stdin.on("finish", () => (stream as unknown as { end(): void }).end());
  const remove = () => {
    forget();
    void container.remove({ force: true }).catch(() => undefined);
  };
  return {
    stdin,
    results,
    stderr,
    onExit: (listener) => {
      let told = false;
      const tell = (how: string) => {
        if (told) return;
        told = true;
        results.end();
        remove();
        listener(how);
      };
      container.wait().then(
        (r: { StatusCode: number }) => tell(`container exit code ${r.StatusCode}`),
        (e: Error) => tell(e.message),
      );
      stream.on("end", () => tell("container stream closed"));
    },
    kill: () => remove(),
  };
}
