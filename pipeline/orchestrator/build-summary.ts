import { againstStage } from "../../stages/against.js";
import { balanceStage } from "../../stages/balance.js";
import { cleanCodeStage } from "../../stages/clean-code.js";
import { dedupStage } from "../../stages/dedup.js";
import { executeStage } from "../../stages/execute.js";
import { filterAugmentStage } from "../../stages/filter-augment.js";
import { filterDegenerateStage } from "../../stages/filter-degenerate.js";
import { filterTransductiveStage } from "../../stages/filter-transductive.js";
import { loadTasksStage } from "../../stages/load-tasks.js";
import { nearDedupStage } from "../../stages/near-dedup.js";
import { pairProgramsStage } from "../../stages/pair-programs.js";
import { readAgainstStage } from "../../stages/read-against.js";
import { readDatasetsStage } from "../../stages/read-datasets.js";
import { readLogsStage } from "../../stages/read-logs.js";
import { relabelStage } from "../../stages/relabel.js";
import { revalidateStage } from "../../stages/revalidate.js";
import { selectStage } from "../../stages/select.js";
import { splitStage } from "../../stages/split.js";
import { StageGraphError } from "../common/errors.js";
import type { Handle } from "../engine/stage.js";
import { RECIPE_REPORT } from "./build-run.js";
import type { LogFate, StageReport, WrittenSplit } from "../../schemas/build-manifest.js";

const list = (counts: Record<string, number>, strip = "") =>
  Object.entries(counts)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k.replace(strip, "")} ${v}`)
    .join(", ") || "none";

/** The end-of-run summary, in the shape users know from their current tool. */
export function buildSummary(params: { reports: StageReport[]; logs: LogFate[]; written: WrittenSplit[]; nearDedup?: number }): string[] {
  const byName = new Map(params.reports.map((report) => [report.stage, report]));
  const r = (stage: Handle): StageReport => {
    const report = byName.get(stage.name);
    if (!report) throw new StageGraphError(`the summary reads the report of ${stage.name}, which did not run in this build`);
    return report;
  };
  const pair = byName.get(pairProgramsStage.name);
  const recipe = byName.get(RECIPE_REPORT);
  const logDrops: Record<string, number> = {};
  for (const log of params.logs) if (!log.kept) logDrops[log.reason!] = (logDrops[log.reason!] ?? 0) + 1;
  const attemptDrops = Object.fromEntries(Object.entries(r(readLogsStage).dropped).filter(([k]) => !(k in logDrops)));
  const relabel = r(relabelStage).counts;
  const dedup = r(dedupStage).counts;
  const execute = r(executeStage);
  return [
    `log files: ${params.logs.length}, kept ${params.logs.filter((l) => l.kept).length} (dropped: ${list(logDrops)})`,
    `programs: ${r(readLogsStage).kept} (attempts dropped: ${list(attemptDrops)})`,
    ...(r(readDatasetsStage).counts.sources
      ? [
          `program datasets: ${r(readDatasetsStage).counts.sources} sources, ${r(readDatasetsStage).counts.rows} rows read, ${r(readDatasetsStage).kept} programs (dropped: ${list(r(readDatasetsStage).dropped)})`,
        ]
      : []),
    `tasks: ${r(loadTasksStage).kept} programs matched to their task (dropped: ${list(r(loadTasksStage).dropped)})`,
    `clean code: ${list(r(cleanCodeStage).counts)}`,
    `transduction rejections: ${list(r(filterTransductiveStage).dropped, "transductive_")}`,
    `execution: ${execute.counts.executions ?? 0} executions, ${execute.kept} programs ran cleanly (dropped: ${list(execute.dropped)})`,
    ...(r(filterAugmentStage).counts.sandbox_failures !== undefined || r(filterAugmentStage).dropped.transductive_augment
      ? [`augmentation transduction: ${r(filterAugmentStage).dropped.transductive_augment ?? 0} programs invariant to no flip or colour rotation`]
      : []),
    `relabelled rows: ${relabel.rows ?? 0}; >=1 train correct ${relabel.any_train_correct ?? 0}, all train correct ${relabel.all_train_correct ?? 0}, ` +
      `test solved ${relabel.test_solved ?? 0}, all train and test ${relabel.all_train_and_test ?? 0}`,
    `logged vs re-executed test result: ${relabel.logged_vs_executed_mismatch ?? 0} differ`,
    `re-validation under another seed: ${r(revalidateStage).counts.revalidated ?? 0} rows re-executed, ${r(revalidateStage).dropped.nondeterministic ?? 0} nondeterministic, ${r(revalidateStage).dropped.revalidation_mismatch ?? 0} other mismatches dropped`,
    ...(Object.keys(r(filterDegenerateStage).dropped).length ? [`degenerate programs dropped: ${list(r(filterDegenerateStage).dropped)}`] : []),
    dedup.programs !== undefined
      ? `program table: ${dedup.programs} programs (one per task and cleaned code; ${dedup.copies ?? 0} copies)`
      : dedup.dedup_disabled !== undefined
        ? `dedup: off (${dedup.dedup_disabled} rows)`
        : `dedup: kept ${dedup.kept_test_solving ?? 0} test-solving (duplicate code ${dedup.duplicate_code ?? 0}), ${dedup.kept_other ?? 0} others (duplicate behaviour ${dedup.duplicate_behaviour ?? 0})`,
    ...(r(nearDedupStage).counts.near_dedup_compared !== undefined
      ? [
          `near-duplicates (Jaccard of normalised token 5-grams >= ${params.nearDedup}): ${r(nearDedupStage).dropped.near_duplicate ?? 0} of ` +
            `${r(nearDedupStage).counts.near_dedup_compared} test-solving programs dropped (${r(nearDedupStage).counts.near_dedup_unparsable ?? 0} not parsable, kept)`,
        ]
      : []),
    ...(r(readAgainstStage).counts.sources
      ? [
          `already published (--against): ${r(readAgainstStage).counts.sources} sources, ${r(readAgainstStage).counts.rows} rows read; ` +
            `${r(againstStage).dropped.already_published ?? 0} programs dropped; ` +
            `${r(againstStage).counts.against_programs ?? 0} published programs of these tasks compared`,
        ]
      : []),
    ...(pair?.counts.pairs !== undefined
      ? [
          `refinement pairs: ${pair.counts.pairs} (` +
            ["multiturn", "refined", "hindsight"].map((source) => `${source} ${pair.counts[`pairs_${source}`] ?? 0}`).join(", ") +
            `; hindsight parents by bucket: ${["zero", "low", "medium", "max"].map((b) => `${b} ${pair.counts[`bucket_${b}`] ?? 0}`).join(", ")}; ` +
            `not paired: ${list(
              Object.fromEntries(
                Object.entries(pair.counts)
                  .filter(([k]) => k.startsWith("pair_dropped_"))
                  .map(([k, v]) => [k.slice("pair_dropped_".length), v]),
              ),
            )})`,
        ]
      : []),
    ...(recipe ? [`recipe: ${recipe.kept} rows of the ${recipe.counts.table_rows ?? 0} in the program table (${recipe.reason})`] : []),
    ...(r(selectStage).dropped.over_task_budget
      ? [`per-task selection: ${r(selectStage).dropped.over_task_budget} programs over budget in ${r(selectStage).counts.tasks_trimmed ?? 0} tasks`]
      : []),
    r(balanceStage).counts.tasks_correct !== undefined
      ? `balance: tasks correct ${r(balanceStage).counts.tasks_correct}, incorrect ${r(balanceStage).counts.tasks_incorrect}, dropped ${r(balanceStage).counts.tasks_dropped}` +
        (r(balanceStage).counts.balance_skipped_empty_group ? " (skipped: one group is empty)" : "")
      : r(splitStage).counts.validation_target_rows === undefined
        ? "balance: off (no validation split)"
        : recipe
          ? "balance: off (a recipe's rows are balanced only with --balance)"
          : pair
            ? "balance: off (refinement pairs are split without balancing)"
            : "balance: off (--no-balance)",
    `splits: ${params.written.map((w) => `${w.split} ${w.rows} rows / ${w.tasks} tasks`).join(", ")}` +
      (r(splitStage).counts.validation_target_rows !== undefined
        ? ` (validation target ${r(splitStage).counts.validation_target_rows} rows, cap ${r(splitStage).counts.validation_cap_rows})`
        : ""),
  ];
}
