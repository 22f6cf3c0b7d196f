import { decidesFate, type Outcome } from "../../schemas/outcome.js";
import { SandboxError } from "../common/errors.js";
import { ServerDiedError, type SandboxServer, type Hello } from "./sandbox-server.js";
import { isolationInForce, type RuntimeFingerprint } from "./runtime-fingerprint.js";
import { HealthMeter } from "./health-meter.js";
import { runPool } from "./run-pool.js";
import type { ExecJob, ExecResult, Executor, ExecutorOptions, SandboxInfo } from "./types.js";

/** Starts one worker; the pool replaces it when it dies. */
export type WorkerFactory = (index: number) => Promise<SandboxServer>;

/** A pool over any worker that speaks the runner protocol (fork servers here, containers for docker). */
export function createServerPool(params: {
  name: string;
  options: ExecutorOptions;
  factory: WorkerFactory;
  warnings: string[];
  /** The fingerprint this pool promises, and what wraps its runners; every runner's hello is checked against it. */
  runtime: () => Promise<{ fingerprint: RuntimeFingerprint; container: "bubblewrap" | "docker" | null }>;
  /** Called after each program a worker finishes; true replaces the worker (recycling). */
  recycle?: (worker: SandboxServer, programs: number) => boolean;
}): Executor {
  const { options, factory } = params;
  const workers: (Promise<SandboxServer> | undefined)[] = [];
  const served = new WeakMap<SandboxServer, number>();
  const health = new HealthMeter({ every: options.healthEvery, onEvent: options.onEvent });
  let infoPromise: Promise<SandboxInfo> | undefined;

  const worker = (index: number): Promise<SandboxServer> => {
    let current = workers[index];
    if (!current) {
      current = factory(index).then(async (server) => {
        await checkHello(await server.hello).catch((error) => {
          server.kill();
          throw error;
        });
        return server;
      });
      current.catch(() => (workers[index] = undefined));
      workers[index] = current;
    }
    return current;
  };
  /** A runner that is not what the fingerprint says would put its verdicts under the wrong key. */
  const checkHello = async (hello: Hello) => {
    const { fingerprint, container } = await params.runtime();
    const isolation = isolationInForce({ layers: hello.layers, container });
    const seen = { python: hello.python, numpy: hello.numpy, isolation, seed: hello.seed ?? 0 };
    const promised = { python: fingerprint.python, numpy: fingerprint.numpy, isolation: fingerprint.isolation, seed: fingerprint.seeds.random };
    if (JSON.stringify(seen) !== JSON.stringify(promised)) {
      throw new SandboxError(
        `the sandbox runner reports ${JSON.stringify(seen)} but this run's fingerprint promises ${JSON.stringify(promised)}: refusing its verdicts`,
      );
    }
  };
  const replace = async (index: number, cause: "died" | "recycled", reason: string) => {
    const old = workers[index];
    workers[index] = undefined;
    options.onEvent?.({ type: "respawn", worker: index, cause, reason });
    if (old) (await old.catch(() => undefined))?.kill();
  };

  // run() may be called concurrently (sample executes attempts as they arrive, a build several tasks): one program at a time per worker.
  const queues: Promise<unknown>[] = [];
  const exclusive = <T>(index: number, task: () => Promise<T>): Promise<T> => {
    const next = (queues[index] ?? Promise.resolve()).then(task, task);
    queues[index] = next.catch(() => undefined);
    return next;
  };

  // Several runs share the workers (a build runs a few tasks at once): each program goes to the worker with the least queued.
  const load = Array.from({ length: Math.max(1, options.workers) }, () => 0);
  const attempt = (job: ExecJob, indices: number[]): Promise<Map<number, Outcome>> => {
    const index = load.indexOf(Math.min(...load));
    load[index]!++;
    return exclusive(index, () => attemptNow(index, job, indices)).finally(() => load[index]!--);
  };
  const attemptNow = async (index: number, job: ExecJob, indices: number[]): Promise<Map<number, Outcome>> => {
    // The runner bounds every input itself; the server's heartbeat watch replaces one that hangs.
    const server = await worker(index);
    try {
      const failFast = indices.filter((i) => i < (job.failFast ?? 0)).length;
      const outcomes = await server.execute({ code: job.code, inputs: indices.map((i) => job.inputs[i]!), failFast });
      const count = (served.get(server) ?? 0) + 1;
      served.set(server, count);
      if (params.recycle?.(server, count)) await replace(index, "recycled", `recycled after ${count} programs`);
      return new Map([...outcomes].map(([position, outcome]) => [indices[position]!, outcome]));
    } catch (error) {
      if (!(error instanceof ServerDiedError)) throw error;
      await replace(index, "died", error.message);
      throw new ServerDiedError(error.message, new Map([...error.outcomes].map(([position, outcome]) => [indices[position]!, outcome])));
    }
  };

  /** A server that dies mid-program gets one retry in a fresh server for the inputs left. */
  const execute = async (_loop: number, job: ExecJob): Promise<ExecResult> => {
    const outcomes = new Map<number, Outcome>();
    let left = job.inputs.map((_, i) => i);
    const failFast = job.failFast ?? 0;
    const decided = () => [...outcomes].some(([i, o]) => decidesFate(o, i, failFast));
    for (let tries = 0; left.length > 0; tries++) {
      // A retry after the program already failed where it counts has nothing left to decide.
      if (decided()) {
        for (const i of left) outcomes.set(i, { status: "skipped", ms: 0 });
        break;
      }
      try {
        for (const [i, outcome] of await attempt(job, left)) outcomes.set(i, outcome);
      } catch (error) {
        if (!(error instanceof ServerDiedError)) throw error;
        for (const [i, outcome] of error.outcomes) outcomes.set(i, outcome);
        if (tries >= 1) {
          for (const i of left.filter((i) => !outcomes.has(i)))
            outcomes.set(i, { status: "crash", message: `sandbox server died twice: ${error.message}`, ms: 0, transient: true });
        }
      }
      left = left.filter((i) => !outcomes.has(i));
    }
    const result = { programId: job.programId, outcomes: job.inputs.map((_, i) => outcomes.get(i)!) };
    // The runner's own time for the program, the figure the report shows too (a pool's wait aside).
    health.record(
      result,
      result.outcomes.reduce((n, o) => n + o.ms, 0),
    );
    return result;
  };

  return {
    name: params.name,
    limits: { timeoutSeconds: options.timeoutSeconds, memoryBytes: options.memoryBytes },
    run: (jobs) => runPool({ jobs, workers: options.workers, execute }),
    info() {
      infoPromise ??= worker(0).then(async (server): Promise<SandboxInfo> => {
        const hello = await server.hello;
        const { fingerprint } = await params.runtime();
        return {
          backend: params.name,
          isolation: fingerprint.isolation,
          fingerprint,
          runnerVersion: hello.runner,
          python: hello.python,
          numpy: hello.numpy,
          layers: hello.layers,
          warnings: params.warnings,
        };
      });
      return infoPromise;
    },
    async fingerprint() {
      return (await params.runtime()).fingerprint;
    },
    async close() {
      const all = workers.splice(0);
      await Promise.all(all.map(async (w) => (await w?.catch(() => undefined))?.close()));
    },
  };
}
