import type { RuntimeFingerprint } from "../pipeline/executor/runtime-fingerprint.js";
import type { BuildOptions } from "../schemas/build-options.js";
import { executeForStage } from "../pipeline/store/execute-cached.js";
import { fingerprintId } from "../pipeline/executor/runtime-fingerprint.js";
import { defineStage, type StageOutput } from "../pipeline/engine/stage.js";
import { decidesFate, OUTCOME_STATUSES, type Outcome } from "../schemas/outcome.js";
import type { ExecutedProgram, Program } from "../schemas/program.js";
import { type ArcTask, taskInputs } from "../schemas/task.js";
import { weightOf } from "../schemas/twins.js";
import { loadTasksStage } from "./load-tasks.js";
import type { Drop } from "../schemas/drop.js";
import { countList } from "../pipeline/common/count-list.js";

/**
 * How many of a task's inputs (train first) decide a program: every one, or the train inputs
 * when test failures are kept. A program failing on a test input cannot make a complete
 * relabelled task (that input would have no output), and [] is not a grid any reader accepts.
 */
const decisiveInputs = (task: ArcTask, keepTestFailures: boolean) => (keepTestFailures ? task.train.length : task.train.length + task.test.length);

/**
 * Sandbox health for the report: executions (cached ones included), outcomes by status
 * (outcome_<status>), program time (ms), and the inputs not run because their program had
 * already failed; counted per attempt (a program standing for its twins counts once for each).
 */
function outcomeCounts(programs: { outcomes: Outcome[]; weight: number }[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(OUTCOME_STATUSES.map((s) => [`outcome_${s}`, 0]));
  let ms = 0;
  let saved = 0;
  for (const { outcomes, weight } of programs) {
    for (const o of outcomes) {
      if (o.status === "skipped") saved += weight;
      else counts[`outcome_${o.status}`]! += weight;
      ms += o.ms * weight;
    }
  }
  const executions = Object.values(counts).reduce((n, c) => n + c, 0);
  return { executions, ...counts, program_ms_total: Math.round(ms), executions_saved: saved };
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
      jobs: programs.map((p) => ({
        id: p.id,
        code: p.code,
        inputs: taskInputs(tasks[p.taskKey]!),
        failFast: decisiveInputs(tasks[p.taskKey]!, options.keepTestFailures),
      })),
      limits: options.limits,
      context,
    });
    const health = outcomeCounts(programs.map((p) => ({ outcomes: outcomes.get(p.id)!, weight: weightOf(p) })));
    const records: ExecutedProgram[] = [];
    const drops: Drop[] = [];
    for (const program of programs) {
      const results = outcomes.get(program.id)!;
      const task = tasks[program.taskKey]!;
      const trainCount = task.train.length;
      const failFast = decisiveInputs(task, options.keepTestFailures);
      const index = results.findIndex((o, i) => decidesFate(o, i, failFast));
      if (index === -1) {
        records.push({ ...program, outcomes: results });
        continue;
      }
      const o = results[index]!;
      const where = index < trainCount ? `train ${index}` : `test ${index - trainCount}`;
      const detail = `${where}: ${"message" in o ? o.message : "reason" in o && o.reason ? o.reason : o.status}`;
      // The sandbox failing is not the program's verdict: its own reason, and the stage is not cached.
      const reason = o.status === "crash" && o.transient ? "sandbox_failure" : `${index < trainCount ? "train" : "test"}_${o.status}`;
      drops.push({ id: program.id, reason, detail, taskId: program.taskId });
    }
    return {
      records,
      drops,
      // The runtime behind these verdicts, kept with them: a cached rebuild's manifest still names it.
      data: { runtime: await context.fingerprint() },
      counts: { executions: health.executions!, cache_hits: hits, cache_misses: misses, sandbox_failures: transient, ...health },
      ...(transient ? { uncacheable: `the sandbox failed on ${transient} execution(s)` } : {}),
    };
  },
});
