import { availableParallelism } from "node:os";
import { findPython } from "../pipeline/executor/find-python.js";
import { connectDocker, createDockerExecutor } from "../pipeline/executor/docker-pool.js";
import { createProcessExecutor } from "../pipeline/executor/process-pool.js";
import type { ExecJob, Executor } from "../pipeline/executor/types.js";
import { freshProcessBaseline } from "./fresh-process-baseline.js";
import { realPrograms } from "./real-programs.js";

const workers = availableParallelism();
const timeoutSeconds = 1;

async function throughput(executor: Executor, jobs: ExecJob[]): Promise<{ executions: number; seconds: number }> {
  await executor.info(); // start-up is not part of the rate: a build pays it once
  const started = performance.now();
  let executions = 0;
  for await (const r of executor.run(jobs)) executions += r.outcomes.length;
  return { executions, seconds: (performance.now() - started) / 1000 };
}

const all = await realPrograms();
const mix = all.filter((_, i) => i % Math.max(1, Math.floor(all.length / 40)) === 0);
const python = await findPython();
console.log(`real programs: ${all.length} from ../shared/run-logs; baseline mix: ${mix.length} programs, ${mix.reduce((n, j) => n + j.inputs.length, 0)} executions; ${workers} workers, ${timeoutSeconds} s timeout`);

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
console.log(`(b) process backend, all ${all.length} programs: ${fullRate.toFixed(1)} exec/s  (${(fullRate / baselineRate).toFixed(1)}x the baseline), ${full.executions} executions in ${full.seconds.toFixed(1)} s`);

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
}
