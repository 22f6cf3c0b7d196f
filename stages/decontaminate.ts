import type { BuildOptions } from "../schemas/build-options.js";
import { canonicalGrid } from "../schemas/canonical-grid.js";
import type { Drop } from "../schemas/drop.js";
import type { Program } from "../schemas/program.js";
import { taskInputs, type ArcTask } from "../schemas/task.js";
import { evaluationIndex, evaluationSplits, type EvaluationIndex } from "../pipeline/decontaminate/evaluation-index.js";
import { defineStage, type StageOutput } from "../pipeline/engine/stage.js";
import { loadTasksStage } from "./load-tasks.js";

/** How a task's inputs meet one evaluation task: the one it shares most input grids with. */
export interface Contamination {
  /** `contaminated`: 2 x shared >= its inputs, its programs dropped; `overlap`: fewer, kept; `evaluation_task`: it is one. */
  kind: "contaminated" | "overlap" | "evaluation_task";
  /** The evaluation task (`dataset/id`) it shares most with. */
  matched?: string;
  /** Its input grids (train and test, with repeats) whose canonical form is among that task's inputs. */
  shared?: number;
  inputs?: number;
}

/** Found once per build's options: the stage's key asks for each task (a folder listing each time). */
const splitsByOptions = new WeakMap<object, string[]>();

/** The decontamination splits a build uses: none without task files, `--decontaminate none` or an empty list. */
export function decontaminationSplits(options: Pick<BuildOptions, "tasks" | "decontaminate">): string[] {
  if (!options.tasks) return [];
  if (options.decontaminate) return options.decontaminate;
  let found = splitsByOptions.get(options);
  if (!found) splitsByOptions.set(options, (found = evaluationSplits(options.tasks)));
  return found;
}

const indexFor = async (options: BuildOptions, cacheDir: string): Promise<EvaluationIndex | null> => {
  const against = decontaminationSplits(options);
  return against.length ? evaluationIndex({ root: options.tasks!, against, cacheDir }) : null;
};

/** Where a task stands against the index; null when it shares no input grid with any evaluation task. */
export function contaminationOf(params: { task: ArcTask; taskKey: string; index: EvaluationIndex }): Contamination | null {
  const inputs = taskInputs(params.task);
  const shared = new Map<string, number>();
  for (const grid of inputs) {
    for (const match of params.index.byGrid.get(canonicalGrid(grid)) ?? []) {
      if (match !== params.taskKey) shared.set(match, (shared.get(match) ?? 0) + 1);
    }
  }
  if (shared.size === 0) return null;
  const [matched, count] = [...shared].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))[0]!;
  return { kind: 2 * count >= inputs.length ? "contaminated" : "overlap", matched, shared: count, inputs: inputs.length };
}

/**
 * Evaluation tasks hide under other ids, rotated and recoloured: a task whose input grids are, for
 * half of them or more, those of one evaluation task (by canonical form) is contaminated, and its
 * programs are dropped before anything runs for them. A task of a decontamination split itself is
 * kept and marked.
 */
export const decontaminateStage = defineStage<BuildOptions, Program, Program, { contamination?: Contamination }>({
  name: "decontaminate",
  version: 1,
  selects: true,
  sides: [loadTasksStage],
  async key(options, _upstream, context) {
    const index = await indexFor(options, context.cacheDir);
    return index ? { against: index.against, index: index.digest } : { against: [] };
  },
  async run({ options, upstream, context }): Promise<StageOutput<Program, { contamination?: Contamination }>> {
    const programs = upstream.input.records;
    const loaded = upstream.side(loadTasksStage).data;
    const [taskKey, task] = Object.entries(loaded.tasks)[0] ?? [];
    const index = await indexFor(options, context.cacheDir);
    if (!index || !task || !taskKey) return { records: programs, drops: [], data: {} };
    if (loaded.split && index.against.includes(`${taskKey.split("/")[0]}/${loaded.split}`))
      return { records: programs, drops: [], data: { contamination: { kind: "evaluation_task" } } };
    const found = contaminationOf({ task, taskKey, index });
    if (!found) return { records: programs, drops: [], data: {} };
    if (found.kind === "overlap") return { records: programs, drops: [], data: { contamination: found } };
    const detail = `its inputs are those of evaluation task ${found.matched} (${found.shared} of ${found.inputs}, up to rotation, reflection and colours)`;
    const drops: Drop[] = programs.map((p) => ({ id: p.id, reason: "contaminated", detail, taskId: p.taskId }));
    return { records: [], drops, data: { contamination: found } };
  },
});
