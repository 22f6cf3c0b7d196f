import { createProcessExecutor } from "../../pipeline/executor/process-pool.js";
import type { Executor, ExecJob, ExecutorOptions } from "../../pipeline/executor/types.js";

/** The real process executor, counting the programs it is asked to run: a build's `createExecutor`. */
export function countingExecutor(counter: { programs: number }) {
  return (onEvent: ExecutorOptions["onEvent"], seed: number): Executor => {
    const inner = createProcessExecutor({ workers: 2, timeoutSeconds: 0.5, onEvent, seed });
    return {
      ...inner,
      run: (jobs) =>
        inner.run(
          (async function* () {
            for await (const job of jobs as AsyncIterable<ExecJob>) {
              counter.programs++;
              yield job;
            }
          })(),
        ),
    };
  };
}
