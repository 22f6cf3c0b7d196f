import type { BuildOptions } from "../../schemas/build-options.js";
import type { LogFate, StageReport, WrittenSplit } from "../../schemas/build-manifest.js";
import type { SummaryView } from "../engine/stage.js";
import { RECIPE_REPORT } from "./build-run.js";
import { BUILD_STAGES, TASK_STAGES } from "./build-stages.js";

/**
 * The end-of-run summary, in the shape users know from their current tool: each stage's own lines,
 * in stage order, the recipe's (not a stage) between the task stages and the global ones.
 */
export function buildSummary(params: { reports: StageReport[]; logs: LogFate[]; written: WrittenSplit[]; options: BuildOptions }): string[] {
  const byName = new Map(params.reports.map((report) => [report.stage, report]));
  const view = (report: StageReport): SummaryView<BuildOptions> => ({
    report,
    options: params.options,
    reportOf: (stage) => byName.get(stage.name),
    logs: params.logs,
    written: params.written,
  });
  const recipe = byName.get(RECIPE_REPORT);
  const lastTaskStage = TASK_STAGES[TASK_STAGES.length - 1];
  return BUILD_STAGES.flatMap((stage) => {
    const report = byName.get(stage.name);
    const lines = report && stage.summary ? stage.summary(view(report)) : [];
    if (stage === lastTaskStage && recipe)
      lines.push(`recipe: ${recipe.kept} rows of the ${recipe.counts.table_rows ?? 0} in the program table (${recipe.reason})`);
    return lines;
  });
}
