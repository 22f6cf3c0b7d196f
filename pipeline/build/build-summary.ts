import type { LogFate } from "../../stages/read-logs.js";
import type { WrittenSplit } from "../../stages/write-dataset.js";
import type { StageReport } from "../engine/run-stages.js";

const list = (counts: Record<string, number>, strip = "") =>
  Object.entries(counts)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k.replace(strip, "")} ${v}`)
    .join(", ") || "none";

/** The end-of-run summary, in the shape users know from their current tool. */
export function buildSummary(params: { reports: StageReport[]; logs: LogFate[]; written: WrittenSplit[] }): string[] {
  const r = Object.fromEntries(params.reports.map((report) => [report.stage, report]));
  const logDrops: Record<string, number> = {};
  for (const log of params.logs) if (!log.kept) logDrops[log.reason!] = (logDrops[log.reason!] ?? 0) + 1;
  const attemptDrops = Object.fromEntries(Object.entries(r["read-logs"]!.dropped).filter(([k]) => !(k in logDrops)));
  const relabel = r.relabel!.counts;
  const dedup = r.dedup!.counts;
  const execute = r.execute!;
  return [
    `log files: ${params.logs.length}, kept ${params.logs.filter((l) => l.kept).length} (dropped: ${list(logDrops)})`,
    `programs: ${r["read-logs"]!.kept} (attempts dropped: ${list(attemptDrops)})`,
    ...(r["read-datasets"]!.counts.sources
      ? [
          `program datasets: ${r["read-datasets"]!.counts.sources} sources, ${r["read-datasets"]!.counts.rows} rows read, ${r["read-datasets"]!.kept} programs (dropped: ${list(r["read-datasets"]!.dropped)})`,
        ]
      : []),
    `tasks: ${r["load-tasks"]!.kept} programs matched to their task (dropped: ${list(r["load-tasks"]!.dropped)})`,
    `clean code: ${list(r["clean-code"]!.counts)}`,
    `transduction rejections: ${list(r["filter-transductive"]!.dropped, "transductive_")}`,
    `execution: ${execute.counts.executions ?? 0} executions, ${execute.kept} programs ran cleanly (dropped: ${list(execute.dropped)})`,
    ...(r["filter-augment"]!.counts.sandbox_failures !== undefined || r["filter-augment"]!.dropped.transductive_augment
      ? [`augmentation transduction: ${r["filter-augment"]!.dropped.transductive_augment ?? 0} programs invariant to no flip or colour rotation`]
      : []),
    `relabelled rows: ${relabel.rows ?? 0}; >=1 train correct ${relabel.any_train_correct ?? 0}, all train correct ${relabel.all_train_correct ?? 0}, ` +
      `test solved ${relabel.test_solved ?? 0}, all train and test ${relabel.all_train_and_test ?? 0}`,
    `logged vs re-executed test result: ${relabel.logged_vs_executed_mismatch ?? 0} differ`,
    `re-validation under another seed: ${r.revalidate!.counts.revalidated ?? 0} rows re-executed, ${r.revalidate!.dropped.nondeterministic ?? 0} nondeterministic, ${r.revalidate!.dropped.revalidation_mismatch ?? 0} other mismatches dropped`,
    ...(Object.keys(r["filter-degenerate"]!.dropped).length ? [`degenerate programs dropped: ${list(r["filter-degenerate"]!.dropped)}`] : []),
    dedup.programs !== undefined
      ? `program table: ${dedup.programs} programs (one per task and cleaned code; ${dedup.copies ?? 0} copies)`
      : dedup.dedup_disabled !== undefined
        ? `dedup: off (${dedup.dedup_disabled} rows)`
        : `dedup: kept ${dedup.kept_test_solving ?? 0} test-solving (duplicate code ${dedup.duplicate_code ?? 0}), ${dedup.kept_other ?? 0} others (duplicate behaviour ${dedup.duplicate_behaviour ?? 0})`,
    ...(r.pair?.counts.pairs !== undefined
      ? [
          `refinement pairs: ${r.pair.counts.pairs} (` +
            ["multiturn", "refined", "hindsight"].map((source) => `${source} ${r.pair!.counts[`pairs_${source}`] ?? 0}`).join(", ") +
            `; hindsight parents by bucket: ${["zero", "low", "medium", "max"].map((b) => `${b} ${r.pair!.counts[`bucket_${b}`] ?? 0}`).join(", ")}; ` +
            `not paired: ${list(
              Object.fromEntries(
                Object.entries(r.pair.counts)
                  .filter(([k]) => k.startsWith("pair_dropped_"))
                  .map(([k, v]) => [k.slice("pair_dropped_".length), v]),
              ),
            )})`,
        ]
      : []),
    ...(r.recipe ? [`recipe: ${r.recipe.kept} rows of the ${r.recipe.counts.table_rows ?? 0} in the program table (${r.recipe.reason})`] : []),
    ...(r.select!.dropped.over_task_budget
      ? [`per-task selection: ${r.select!.dropped.over_task_budget} programs over budget in ${r.select!.counts.tasks_trimmed ?? 0} tasks`]
      : []),
    r.balance!.counts.tasks_correct !== undefined
      ? `balance: tasks correct ${r.balance!.counts.tasks_correct}, incorrect ${r.balance!.counts.tasks_incorrect}, dropped ${r.balance!.counts.tasks_dropped}` +
        (r.balance!.counts.balance_skipped_empty_group ? " (skipped: one group is empty)" : "")
      : r.split!.counts.validation_target_rows === undefined
        ? "balance: off (no validation split)"
        : r.recipe
          ? "balance: off (a recipe's rows are balanced only with --balance)"
          : r.pair
            ? "balance: off (refinement pairs are split without balancing)"
            : "balance: off (--no-balance)",
    `splits: ${params.written.map((w) => `${w.split} ${w.rows} rows / ${w.tasks} tasks`).join(", ")}` +
      (r.split!.counts.validation_target_rows !== undefined
        ? ` (validation target ${r.split!.counts.validation_target_rows} rows, cap ${r.split!.counts.validation_cap_rows})`
        : ""),
  ];
}
