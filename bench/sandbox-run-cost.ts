import { readFileSync } from "node:fs";
import { createProcessExecutor } from "../pipeline/executor/process-pool.js";

/** The machine's busy CPU seconds so far (user, nice, system, irq, softirq), from /proc/stat. */
function busySeconds(): number {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq] = fields as [number, number, number, number, number, number, number];
  return (user + nice + system + irq + softirq) / 100;
}

const GRID = Array.from({ length: 12 }, (_, r) => Array.from({ length: 12 }, (_, c) => (r * c) % 10));

/**
 * What the sandbox costs per program, with a program that does nothing on three 12x12 inputs,
 * through one worker: machine CPU per program (every process: arcforge, the fork server, the
 * zygote, the child), once for a program the zygote without numpy runs and once for one that
 * names numpy (each measured twice, alternated: the lower kept). The machine must be otherwise
 * quiet: the CPU is read machine-wide.
 */
export async function sandboxRunCost(params: { runs: number }): Promise<{ withoutNumpy: number; withNumpy: number }> {
  const executor = createProcessExecutor({ workers: 1 });
  try {
    await executor.info();
    const perRun = async (code: string) => {
      const jobs = Array.from({ length: params.runs }, (_, k) => ({ programId: `p${k}`, code, inputs: [GRID, GRID, GRID] }));
      const before = busySeconds();
      for await (const result of executor.run(jobs))
        if (result.outcomes[0]?.status !== "ok") throw new Error(`the do-nothing program failed: ${JSON.stringify(result.outcomes[0])}`);
      return ((busySeconds() - before) / params.runs) * 1000;
    };
    const body = "def transform(grid):\n    return grid\n";
    const kinds = { withoutNumpy: body, withNumpy: `# numpy\n${body}` };
    await perRun(body); // warms both sides up; then each kind twice, alternated, its lower figure kept
    const found = { withoutNumpy: Number.POSITIVE_INFINITY, withNumpy: Number.POSITIVE_INFINITY };
    for (let round = 0; round < 2; round++)
      for (const [kind, code] of Object.entries(kinds) as [keyof typeof kinds, string][]) found[kind] = Math.min(found[kind], await perRun(code));
    return found;
  } finally {
    await executor.close();
  }
}
