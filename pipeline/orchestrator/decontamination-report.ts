import type { BuildOptions } from "../../schemas/build-options.js";
import { decontaminationSplits } from "../../stages/decontaminate.js";
import { evaluationIndex } from "../decontaminate/evaluation-index.js";
import type { TaskRun } from "./run-task-stages.js";
import type { DecontaminationManifest } from "../../schemas/build-manifest.js";

/** The manifest section and the summary line (terminal and card) for a build's tasks. */
export async function decontaminationReport(params: {
  options: BuildOptions;
  cacheDir: string;
  tasks: TaskRun[];
}): Promise<{ manifest: DecontaminationManifest; lines: string[] }> {
  const against = decontaminationSplits(params.options);
  const pick = (kind: string) =>
    params.tasks
      .filter((t) => t.contamination?.kind === kind)
      .map((t) => ({ task: t.taskKey, matched: t.contamination!.matched!, shared: t.contamination!.shared!, inputs: t.contamination!.inputs! }));
  const contaminated = pick("contaminated");
  const overlap = pick("overlap");
  const evaluation = params.tasks.filter((t) => t.contamination?.kind === "evaluation_task").map((t) => t.taskKey);
  if (against.length === 0) {
    const off = !params.options.tasks
      ? "no task files (--tasks or ARC_DATA): tasks were not checked against any evaluation split"
      : params.options.decontaminate
        ? "--decontaminate none"
        : `${params.options.tasks} holds no evaluation split to check tasks against`;
    return { manifest: { against, off, contaminated, overlap, evaluation_tasks: evaluation }, lines: [`decontamination: off (${off})`] };
  }
  const index = await evaluationIndex({ root: params.options.tasks!, against, cacheDir: params.cacheDir });
  const programs = params.tasks.filter((t) => t.contamination?.kind === "contaminated").reduce((n, t) => n + t.read, 0);
  const line =
    `decontamination against ${against.join(", ")} (by grid content, up to rotation, reflection and colours): ` +
    `${contaminated.length} tasks contaminated, their ${programs} programs dropped` +
    (contaminated.length
      ? ` (${contaminated
          .slice(0, 5)
          .map((c) => `${c.task} ~ ${c.matched}`)
          .join(", ")}${contaminated.length > 5 ? ", ..." : ""})`
      : "") +
    `; ${overlap.length} tasks sharing fewer grids kept` +
    (evaluation.length ? `; this build holds ${evaluation.length} evaluation tasks themselves (kept, marked evaluation_task)` : "");
  return { manifest: { against, files: index.files, contaminated, overlap, evaluation_tasks: evaluation }, lines: [line] };
}
