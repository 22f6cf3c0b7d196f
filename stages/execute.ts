import type { RuntimeFingerprint } from "../pipeline/executor/runtime-fingerprint.js";
import type { BuildOptions } from "../schemas/build-options.js";
import { executeForStage } from "../pipeline/store/execute-cached.js";
import { fingerprintId } from "../pipeline/executor/runtime-fingerprint.js";
import { defineStage, type StageOutput } from "../pipeline/engine/stage.js";
import { OUTCOME_STATUSES, type Outcome } from "../schemas/outcome.js";
import type { ExecutedProgram, Program } from "../schemas/program.js";
import { taskInputs } from "../schemas/task.js";
import { loadTasksStage } from "./load-tasks.js";
import type { Drop } from "../schemas/drop.js";
import { countList } from "../pipeline/common/count-list.js";

/**
 * The first input a program fails on: any train input, then any test input unless test failures
 * are kept. A program failing on a test input cannot make a complete relabelled task (that input
 * would have no output), and [] is not a grid any reader accepts.
 */
function firstFailure(outcomes: Outcome[], trainCount: number, keepTestFailures: boolean): { index: number } | null {
  const checked = keepTestFailures ? outcomes.slice(0, trainCount) : outcomes;
  const index = checked.findIndex((o) => o.status !== "ok");
  return index === -1 ? null : { index };
}

/**
 * Sandbox health for the report: outcomes by status (outcome_<status>), program time (ms, cached
 * ones included), and the inputs not run because their program had already failed.
 */
function outcomeCounts(programs: Outcome[][]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(OUTCOME_STATUSES.map((s) => [`outcome_${s}`, 0]));
  let ms = 0;
  let saved = 0;
  for (const outcomes of programs) {
    for (const o of outcomes) {
      if (o.status === "skipped") saved++;
      else counts[`outcome_${o.status}`]!++;
      ms += o.ms;
    }
  }
  return { ...counts, program_ms_total: Math.round(ms), executions_saved: saved };
}

/**
 * Runs every program on its train inputs, then its test inputs; keeps the programs that return a
 * valid grid on every input (every train input with --keep-test-failures). A dropped program's
 * reason names the first failing outcome: train_<status> or test_<status>. Inputs run in that
 * order and a failure that drops the program ends its run (`failFast`): the inputs after it could
 * not change the verdict, so they are not run (nor cached: `validate` runs them).
 */
export const executeStage = defineStage<BuildOptions, Program, ExecutedProgram, { runtime?: RuntimeFingerprint }>({
  name: "execute",
  version: 5,
  patches: true,
  runCounts: ["cache_hits", "cache_misses"],
  sides: [loadTasksStage],
  summary: ({ report }) => [
    `execution: ${report.counts.executions ?? 0} executions${report.counts.executions_saved ? ` (${report.counts.executions_saved} more not needed: their program had already failed)` : ""}, ${report.kept} programs ran cleanly (dropped: ${countList(report.dropped)})`,
  ],
  key: async (options, _upstream, context) => ({
    limits: options.limits,
    runtime: fingerprintId(await context.fingerprint()),
    keepTestFailures: options.keepTestFailures,
  }),
  async run({ options, upstream, context }): Promise<StageOutput<ExecutedProgram, { runtime?: RuntimeFingerprint }>> {
    const programs = upstream.input.records;
    const { tasks } = upstream.side(loadTasksStage).data;
    const { outcomes, hits, misses, transient } = await executeForStage({
      stage: "execute",
      namespace: "execute",
      jobs: programs.map((p) => {
        const inputs = taskInputs(tasks[p.taskKey]!);
        return { id: p.id, code: p.code, inputs, failFast: options.keepTestFailures ? tasks[p.taskKey]!.train.length : inputs.length };
      }),
      limits: options.limits,
      context,
    });
    const records: ExecutedProgram[] = [];
    const drops: Drop[] = [];
    for (const program of programs) {
      const results = outcomes.get(program.id)!;
      const trainCount = tasks[program.taskKey]!.train.length;
      const failure = firstFailure(results, trainCount, options.keepTestFailures);
      if (!failure) {
        records.push({ ...program, outcomes: results });
        continue;
      }
      const o = results[failure.index]!;
      const where = failure.index < trainCount ? `train ${failure.index}` : `test ${failure.index - trainCount}`;
      const detail = `${where}: ${"message" in o ? o.message : "reason" in o && o.reason ? o.reason : o.status}`;
      // The sandbox failing is not the program's verdict: its own reason, and the stage is not cached.
      const reason = o.status === "crash" && o.transient ? "sandbox_failure" : `${failure.index < trainCount ? "train" : "test"}_${o.status}`;
      drops.push({ id: program.id, reason, detail, taskId: program.taskId });
    }
    return {
      records,
      drops,
      // The runtime behind these verdicts, kept with them: a cached rebuild's manifest still names it.
      data: { runtime: await context.fingerprint() },
      counts: {
        executions: [...outcomes.values()].reduce((n, list) => n + list.filter((o) => o.status !== "skipped").length, 0),
        cache_hits: hits,
        cache_misses: misses,
        sandbox_failures: transient,
        ...outcomeCounts([...outcomes.values()]),
      },
      ...(transient ? { uncacheable: `the sandbox failed on ${transient} execution(s)` } : {}),
    };
  },
});
