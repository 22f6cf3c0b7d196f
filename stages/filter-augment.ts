import type { BuildOptions } from "../schemas/build-options.js";
import { fingerprintId } from "../pipeline/executor/runtime-fingerprint.js";
import { executeForStage } from "../pipeline/store/execute-cached.js";
import { defineStage, type StageOutput } from "../pipeline/engine/stage.js";
import type { Drop } from "../schemas/drop.js";
import { gridsEqual, type Grid } from "../schemas/grid.js";
import type { Outcome } from "../schemas/outcome.js";
import type { ExecutedProgram } from "../schemas/program.js";
import { loadTasksStage } from "./load-tasks.js";

interface Augmentation {
  name: string;
  forward: (grid: Grid) => Grid;
  backward: (grid: Grid) => Grid;
}

const flipVertical = (g: Grid) => [...g].reverse();
const flipHorizontal = (g: Grid) => g.map((row) => [...row].reverse());

/** The users' newer tooling's three: vertical flip, horizontal flip, every colour + 1 (mod 10). */
export const AUGMENTATIONS: Augmentation[] = [
  { name: "vertical flip", forward: flipVertical, backward: flipVertical },
  { name: "horizontal flip", forward: flipHorizontal, backward: flipHorizontal },
  { name: "colour rotation", forward: (g) => g.map((row) => row.map((c) => (c + 1) % 10)), backward: (g) => g.map((row) => row.map((c) => (c + 9) % 10)) },
];

/**
 * Is the program invariant to augmentation `a`: run on augmented train inputs, do its outputs,
 * un-augmented, equal its outputs on the originals (every train example)?
 */
export function invariantTo(params: { augmented: Outcome[]; original: Outcome[]; augmentation: Augmentation }): boolean {
  return params.augmented.every((o, i) => {
    const before = params.original[i]!;
    return o.status === "ok" && before.status === "ok" && gridsEqual(params.augmentation.backward(o.grid), before.grid);
  });
}

/**
 * Opt-in (--transduction augment), beside the literal-output rule: a program whose behaviour is
 * invariant to none of the augmentations computes nothing general about its task; it is
 * dropped as transductive_augment. Costs three extra runs of every train input.
 */
export const filterAugmentStage = defineStage<BuildOptions, ExecutedProgram, ExecutedProgram, undefined>({
  name: "filter-augment",
  version: 1,
  selects: true,
  sides: [loadTasksStage],
  summary: ({ report }) =>
    report.counts.sandbox_failures !== undefined || report.dropped.transductive_augment
      ? [`augmentation transduction: ${report.dropped.transductive_augment ?? 0} programs invariant to no flip or colour rotation`]
      : [],
  idle: (options) => (options.transductionAugment ? undefined : "input"),
  key: async (options, _upstream, context) =>
    options.transductionAugment ? { limits: options.limits, runtime: fingerprintId(await context.fingerprint()) } : { enabled: false },
  async run({ options, upstream, context }): Promise<StageOutput<ExecutedProgram, undefined>> {
    const programs = upstream.input.records;
    if (!options.transductionAugment) return { records: programs, drops: [] };
    const { tasks } = upstream.side(loadTasksStage).data;
    const { outcomes, transient } = await executeForStage({
      stage: "filter-augment",
      namespace: "augment",
      jobs: programs.map((p) => ({ id: p.id, code: p.code, inputs: AUGMENTATIONS.flatMap((a) => tasks[p.taskKey]!.train.map((e) => a.forward(e.input))) })),
      limits: options.limits,
      context,
    });
    const records: ExecutedProgram[] = [];
    const drops: Drop[] = [];
    for (const program of programs) {
      const trainCount = tasks[program.taskKey]!.train.length;
      const all = outcomes.get(program.id)!;
      const invariant = AUGMENTATIONS.filter((augmentation, k) =>
        invariantTo({ augmented: all.slice(k * trainCount, (k + 1) * trainCount), original: program.outcomes, augmentation }),
      );
      if (invariant.length > 0) records.push(program);
      else
        drops.push({
          id: program.id,
          reason: "transductive_augment",
          detail: `invariant to none of: ${AUGMENTATIONS.map((a) => a.name).join(", ")}`,
          taskId: program.taskId,
        });
    }
    return {
      records,
      drops,
      counts: { sandbox_failures: transient },
      ...(transient ? { uncacheable: `the sandbox failed on ${transient} execution(s)` } : {}),
    };
  },
});
