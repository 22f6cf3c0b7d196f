import type { RuntimeFingerprint } from "../pipeline/executor/runtime-fingerprint.js";
import type { BuildOptions } from "../schemas/build-options.js";
import { executeForStage } from "../pipeline/store/execute-cached.js";
import { fingerprintId } from "../pipeline/executor/runtime-fingerprint.js";
import { defineStage, type StageOutput } from "../pipeline/engine/stage.js";
import { gridsEqual } from "../schemas/grid.js";
import type { Outcome } from "../schemas/outcome.js";
import type { Row } from "../schemas/program.js";
import { taskInputs, type ArcTask } from "../schemas/task.js";
import { totalWeight } from "../schemas/twins.js";
import { loadTasksStage } from "./load-tasks.js";
import type { Drop } from "../schemas/drop.js";

/** The seed of the second run: a program whose outputs depend on its seed or on string hashing shows it here. */
export const RECHECK_SEED = 2;

/**
 * Where a fresh execution under another seed disagrees with a row, or null when it agrees everywhere.
 * Different outputs mean the program is nondeterministic; equal outputs with a different flag mean
 * the row itself is wrong.
 */
export function revalidationMismatch(params: {
  row: Row;
  task: ArcTask;
  outcomes: Outcome[];
}): { reason: "nondeterministic" | "revalidation_mismatch" | "sandbox_failure"; detail: string } | null {
  const { row, task, outcomes } = params;
  const failed = outcomes.find((o) => o.status === "crash" && o.transient);
  if (failed) return { reason: "sandbox_failure", detail: "message" in failed ? failed.message : "the sandbox failed" };
  const stored = [...row.predictedTrain, ...row.predictedTest];
  const expected = [...task.train.map((e) => e.output), ...task.test.map((e) => e.output)];
  const correct = [...row.correctTrain, ...row.correctTest];
  for (let i = 0; i < outcomes.length; i++) {
    const o = outcomes[i]!;
    const where = i < task.train.length ? `train ${i}` : `test ${i - task.train.length}`;
    const fresh = o.status === "ok" ? o.grid : [];
    if (!gridsEqual(fresh, stored[i])) return { reason: "nondeterministic", detail: `${where}: another seed gives another output (${o.status})` };
    if ((o.status === "ok" && gridsEqual(o.grid, expected[i])) !== correct[i])
      return { reason: "revalidation_mismatch", detail: `${where}: correctness flag differs` };
  }
  return null;
}

/**
 * Re-executes every relabelled row under another seed and hash seed (a fresh execution, cached
 * apart from the first ones) and drops rows whose stored outputs it does not reproduce: one run
 * is both the re-validation and the nondeterminism check, at no extra cost. It runs before dedup
 * on purpose: any row a later dedup, balance or split rule might keep is already verified, so
 * changing those rules never executes a program.
 */
export const revalidateStage = defineStage<BuildOptions, Row, Row, { runtime?: RuntimeFingerprint }>({
  name: "revalidate",
  version: 5,
  selects: true,
  sides: [loadTasksStage],
  summary: ({ report }) => [
    `re-validation under another seed: ${report.counts.revalidated ?? 0} rows re-executed, ${report.dropped.nondeterministic ?? 0} nondeterministic, ${report.dropped.revalidation_mismatch ?? 0} other mismatches dropped`,
  ],
  key: async (options, _upstream, context) => ({ limits: options.limits, runtime: fingerprintId(await context.fingerprint(RECHECK_SEED)) }),
  async run({ options, upstream, context }): Promise<StageOutput<Row, { runtime?: RuntimeFingerprint }>> {
    const rows = upstream.input.records;
    const { tasks } = upstream.side(loadTasksStage).data;
    const { outcomes, transient } = await executeForStage({
      stage: "revalidate",
      namespace: "revalidate",
      seed: RECHECK_SEED,
      jobs: rows.map((r) => ({ id: r.id, code: r.code, inputs: taskInputs(tasks[r.taskKey]!) })),
      limits: options.limits,
      context,
    });
    const records: Row[] = [];
    const drops: Drop[] = [];
    for (const row of rows) {
      const mismatch = revalidationMismatch({ row, task: tasks[row.taskKey]!, outcomes: outcomes.get(row.id)! });
      if (mismatch) drops.push({ id: row.id, reason: mismatch.reason, detail: mismatch.detail, taskId: row.taskId });
      else records.push(row);
    }
    return {
      records,
      drops,
      data: { runtime: await context.fingerprint(RECHECK_SEED) },
      counts: { revalidated: totalWeight(rows), sandbox_failures: transient },
      ...(transient ? { uncacheable: `the sandbox failed on ${transient} execution(s)` } : {}),
    };
  },
});
