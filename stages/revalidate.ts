import type { BuildOptions } from "../schemas/build-options.js";
import { executeForStage } from "../pipeline/store/execute-cached.js";
import { fingerprintId } from "../pipeline/executor/runtime-fingerprint.js";
import type { Stage, StageOutput } from "../pipeline/engine/stage.js";
import { gridsEqual } from "../schemas/grid.js";
import type { Outcome } from "../schemas/outcome.js";
import type { Row } from "../schemas/program.js";
import { taskInputs, type ArcTask } from "../schemas/task.js";
import type { TaskTable } from "./load-tasks.js";
import { type Drop } from "../schemas/drop.js";

/** Where a fresh execution disagrees with a row, or null when it agrees everywhere. */
export function revalidationMismatch(params: { row: Row; task: ArcTask; outcomes: Outcome[] }): string | null {
  const { row, task, outcomes } = params;
  const stored = [...row.predictedTrain, ...row.predictedTest];
  const expected = [...task.train.map((e) => e.output), ...task.test.map((e) => e.output)];
  const correct = [...row.correctTrain, ...row.correctTest];
  for (let i = 0; i < outcomes.length; i++) {
    const o = outcomes[i]!;
    const where = i < task.train.length ? `train ${i}` : `test ${i - task.train.length}`;
    const fresh = o.status === "ok" ? o.grid : [];
    if (!gridsEqual(fresh, stored[i])) return `${where}: output differs (${o.status})`;
    if ((o.status === "ok" && gridsEqual(o.grid, expected[i])) !== correct[i]) return `${where}: correctness flag differs`;
  }
  return null;
}

/**
 * Re-executes every relabelled row (a fresh execution, cached apart from the first ones) and
 * drops rows whose stored outputs it does not reproduce. It runs before dedup on purpose: any
 * row a later dedup, balance or split rule might keep is already verified, so changing those
 * rules never executes a program.
 */
export const revalidateStage: Stage<BuildOptions> = {
  name: "revalidate",
  version: 2,
  after: ["relabel", "load-tasks"],
  key: async (options, _upstream, context) => ({ limits: options.limits, runtime: fingerprintId(await context.fingerprint()) }),
  async run({ options, upstream, context }): Promise<StageOutput<Row>> {
    const rows = upstream.relabel!.records as Row[];
    const { tasks } = upstream["load-tasks"]!.data as { tasks: TaskTable };
    const { outcomes, transient } = await executeForStage({
      stage: "revalidate",
      namespace: "revalidate",
      jobs: rows.map((r) => ({ id: r.id, code: r.code, inputs: taskInputs(tasks[r.taskKey]!) })),
      limits: options.limits,
      context,
    });
    const records: Row[] = [];
    const drops: Drop[] = [];
    for (const row of rows) {
      const mismatch = revalidationMismatch({ row, task: tasks[row.taskKey]!, outcomes: outcomes.get(row.id)! });
      if (mismatch) drops.push({ id: row.id, reason: "revalidation_mismatch", detail: mismatch, taskId: row.taskId });
      else records.push(row);
    }
    return { records, drops, counts: { revalidated: rows.length, sandbox_failures: transient }, ...(transient ? { uncacheable: `the sandbox failed on ${transient} execution(s)` } : {}) };
  },
};
