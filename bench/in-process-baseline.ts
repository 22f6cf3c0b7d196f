import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { PythonRuntime } from "../pipeline/executor/find-python.js";
import type { ExecJob } from "../pipeline/executor/types.js";

/**
 * Executions per second of persistent, unisolated in-process workers (bench/in_process_worker.py):
 * the physical limit the sandbox's backends are measured against. Programs that loop forever
 * would hang it, so callers give it programs that are known to finish.
 */
export async function inProcessRate(params: { jobs: ExecJob[]; python: PythonRuntime; workers: number }): Promise<number> {
  const script = join(process.cwd(), "bench", "in_process_worker.py");
  const workers = Array.from({ length: params.workers }, () =>
    spawn(params.python.executable, ["-S", script], {
      stdio: ["pipe", "pipe", "ignore"],
      env: { PYTHONPATH: params.python.sitePaths.join(":"), OPENBLAS_NUM_THREADS: "1" },
    }),
  );
  const queue = [...params.jobs];
  let executions = 0;
  const started = performance.now();
  await Promise.all(
    workers.map(async (worker) => {
      const lines = createInterface({ input: worker.stdout! })[Symbol.asyncIterator]();
      for (let job = queue.shift(); job; job = queue.shift()) {
        worker.stdin!.write(`${JSON.stringify({ id: job.programId, code: job.code, inputs: job.inputs })}\n`);
        executions += (JSON.parse((await lines.next()).value as string) as { n: number }).n;
      }
      worker.stdin!.end();
    }),
  );
  return executions / ((performance.now() - started) / 1000);
}
