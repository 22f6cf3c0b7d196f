import { availableParallelism } from "node:os";
import { findPython } from "../pipeline/executor/find-python.js";
import { connectDocker, createDockerExecutor } from "../pipeline/executor/docker-pool.js";
import { createProcessExecutor } from "../pipeline/executor/process-pool.js";
import type { ExecJob, Executor } from "../pipeline/executor/types.js";
import { freshProcessBaseline } from "./fresh-process-baseline.js";
import { inProcessRate } from "./in-process-baseline.js";
import { realPrograms } from "./real-programs.js";

const workers = availableParallelism();
const timeoutSeconds = 1;

async function throughput(executor: Executor, jobs: ExecJob[]): Promise<{ executions: number; seconds: number; finishing: Set<string> }> {
  await executor.info(); // start-up is not part of the rate: a build pays it once
  const started = performance.now();
  let executions = 0;
  const finishing = new Set<string>();
  for await (const r of executor.run(jobs)) {
    executions += r.outcomes.length;
    if (r.outcomes.every((o) => o.status !== "timeout" && o.status !== "memory" && o.status !== "crash")) finishing.add(r.programId);
  }
  return { executions, seconds: (performance.now() - started) / 1000, finishing };
}

const all = await realPrograms();
const mix = all.filter((_, i) => i % Math.max(1, Math.floor(all.length / 40)) === 0);
const python = await findPython();
console.log(
  `real programs: ${all.length} from ../shared/run-logs; baseline mix: ${mix.length} programs, ${mix.reduce((n, j) => n + j.inputs.length, 0)} executions; ${workers} workers, ${timeoutSeconds} s timeout`,
);

const baselineStart = performance.now();
const baselineExecutions = await freshProcessBaseline({ jobs: mix, python: python.executable, workers, timeoutSeconds });
const baselineRate = baselineExecutions / ((performance.now() - baselineStart) / 1000);
console.log(`(a) fresh process per execution: ${baselineRate.toFixed(1)} exec/s`);

const processExecutor = createProcessExecutor({ workers, timeoutSeconds });
const sameMix = await throughput(processExecutor, mix);
const full = await throughput(processExecutor, all);
await processExecutor.close();
const mixRate = sameMix.executions / sameMix.seconds;
const fullRate = full.executions / full.seconds;
console.log(`(b) process backend, same mix:   ${mixRate.toFixed(1)} exec/s  (${(mixRate / baselineRate).toFixed(1)}x the baseline)`);
console.log(
  `(b) process backend, all ${all.length} programs: ${fullRate.toFixed(1)} exec/s  (${(fullRate / baselineRate).toFixed(1)}x the baseline), ${full.executions} executions in ${full.seconds.toFixed(1)} s`,
);

// (d) the physical limit: persistent unisolated in-process workers. It cannot survive a program
// that loops forever, so (b) and (d) are compared on the programs that finish.
const finishing = all.filter((job) => full.finishing.has(job.programId));
const limitRate = await inProcessRate({ jobs: finishing, python, workers });
const sandboxed = createProcessExecutor({ workers, timeoutSeconds });
const onFinishing = await throughput(sandboxed, finishing);
await sandboxed.close();
const sandboxedRate = onFinishing.executions / onFinishing.seconds;
console.log(`(d) in-process, no isolation, ${finishing.length} programs that finish: ${limitRate.toFixed(1)} exec/s (the physical limit)`);
console.log(`    process backend on the same programs: ${sandboxedRate.toFixed(1)} exec/s = ${((sandboxedRate / limitRate) * 100).toFixed(0)}% of the limit`);

const docker = await connectDocker().catch((error: Error) => {
  console.log(`(c) docker backend: skipped (${error.message.split(":")[0]})`);
  return null;
});
if (docker) {
  const dockerExecutor = createDockerExecutor({ workers, timeoutSeconds, docker });
  const viaDocker = await throughput(dockerExecutor, all);
  await dockerExecutor.close();
  const dockerRate = viaDocker.executions / viaDocker.seconds;
  console.log(`(c) docker backend, all ${all.length} programs:  ${dockerRate.toFixed(1)} exec/s  (${(dockerRate / baselineRate).toFixed(1)}x the baseline)`);
  const dockerFinishing = createDockerExecutor({ workers, timeoutSeconds, docker });
  const dockerOnFinishing = await throughput(dockerFinishing, finishing);
  await dockerFinishing.close();
  console.log(
    `    docker backend on the programs that finish: ${((dockerOnFinishing.executions / dockerOnFinishing.seconds / limitRate) * 100).toFixed(0)}% of the limit`,
  );
}
