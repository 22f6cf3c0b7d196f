import type { BuildOptions } from "../schemas/build-options.js";
import { executeForStage } from "../pipeline/store/execute-cached.js";
import { fingerprintId } from "../pipeline/executor/runtime-fingerprint.js";
import type { Stage, StageOutput } from "../pipeline/engine/stage.js";
import type { ExecutedProgram, Program } from "../schemas/program.js";
import { taskInputs } from "../schemas/task.js";
import type { TaskTable } from "./load-tasks.js";
import { type Drop } from "../schemas/drop.js";

/**
 * Runs every program on every train and test input; keeps the programs that return a valid grid
 * on every train input. A dropped program's reason names the first failing train outcome.
 */
export const executeStage: Stage<BuildOptions> = {
  name: "execute",
  version: 2,
  after: ["filter-transductive", "load-tasks"],
  key: async (options, _upstream, context) => ({ limits: options.limits, runtime: fingerprintId(await context.fingerprint()) }),
  async run({ options, upstream, context }): Promise<StageOutput<ExecutedProgram>> {
    const programs = upstream["filter-transductive"]!.records as Program[];
    const { tasks } = upstream["load-tasks"]!.data as { tasks: TaskTable };
    const { outcomes, hits, misses, transient } = await executeForStage({
      stage: "execute",
      namespace: "execute",
      jobs: programs.map((p) => ({ id: p.id, code: p.code, inputs: taskInputs(tasks[p.taskKey]!) })),
      limits: options.limits,
      context,
    });
    const records: ExecutedProgram[] = [];
    const drops: Drop[] = [];
    for (const program of programs) {
      const results = outcomes.get(program.id)!;
      const trainCount = tasks[program.taskKey]!.train.length;
      const failed = results.slice(0, trainCount).findIndex((o) => o.status !== "ok");
      if (failed === -1) {
        records.push({ ...program, outcomes: results });
        continue;
      }
      const o = results[failed]!;
      const detail = `train ${failed}: ${"message" in o ? o.message : "reason" in o ? o.reason : o.status}`;
      drops.push({ id: program.id, reason: `train_${o.status}`, detail, taskId: program.taskId });
    }
    return {
      records,
      drops,
      counts: { executions: programs.reduce((n, p) => n + taskInputs(tasks[p.taskKey]!).length, 0), cache_hits: hits, cache_misses: misses, sandbox_failures: transient },
      ...(transient ? { uncacheable: `the sandbox failed on ${transient} execution(s)` } : {}),
    };
  },
};
