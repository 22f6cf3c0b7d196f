import { cacheKey } from "../common/canonical-json.js";
import type { AnyStage } from "./stage.js";
import type { StageReport } from "../../schemas/build-manifest.js";

interface Total {
  report: StageReport;
  /** The first task (in task order) that ran the stage: its reason and key parts stand for all. */
  firstRan?: string;
  parts?: Record<string, unknown>;
  keys: [string, string][];
  runCounts: Set<string>;
  /** Its counts as a build that finds every entry cached sums them: without the runs' work. */
  cachedCounts: Record<string, number>;
  /** Decided for every task at once (a stage digest): its report is whole already. */
  decided?: true;
}

/** What a stage's entries over many tasks add up to, as a build that finds them all cached reports them. */
export interface StageSum {
  kept: number;
  dropped: Record<string, number>;
  /** Without the counts of a run's work (`runCounts`). */
  counts: Record<string, number>;
  tasks: number;
}

/** The key a stage's summed report carries: of its tasks' keys, in task order. */
export const reportKey = (keys: [string, string][]) => cacheKey([...keys].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * One report per stage from its per-task reports: drops, kept and counts summed (a stage's run
 * counts, such as cache hits, only from tasks that ran it), ran if any task ran it, the reason of
 * the first task in task order that ran it.
 */
export class StageTotals {
  private readonly totals = new Map<string, Total>();

  constructor(stages: readonly AnyStage<unknown>[]) {
    for (const s of stages) {
      const report: StageReport = {
        stage: s.name,
        key: "",
        ran: false,
        reason: "cached",
        ms: 0,
        kept: 0,
        dropped: {},
        counts: {},
        tasks: { ran: 0, total: 0 },
      };
      this.totals.set(s.name, { report, keys: [], runCounts: new Set(s.runCounts), cachedCounts: {} });
    }
  }

  add(params: { task: string; reports: StageReport[]; parts: Record<string, Record<string, unknown>> }): void {
    for (const one of params.reports) {
      const total = this.totals.get(one.stage)!;
      const sum = total.report;
      if (one.ran && (!total.firstRan || params.task < total.firstRan)) {
        Object.assign(sum, { ran: true, reason: one.reason });
        total.firstRan = params.task;
        total.parts = params.parts[one.stage];
      }
      sum.tasks!.total++;
      if (one.ran) sum.tasks!.ran++;
      sum.ms += one.ms;
      sum.kept += one.kept;
      for (const [k, v] of Object.entries(one.dropped)) sum.dropped[k] = (sum.dropped[k] ?? 0) + v;
      for (const [k, v] of Object.entries(one.counts)) {
        if (one.ran || !total.runCounts.has(k)) sum.counts[k] = (sum.counts[k] ?? 0) + v;
        if (!total.runCounts.has(k)) total.cachedCounts[k] = (total.cachedCounts[k] ?? 0) + v;
      }
      sum.notCached ??= one.notCached;
      total.keys.push([params.task, one.key]);
    }
  }

  /** A stage decided unchanged for every task at once: its report is what its entries add up to. */
  decided(params: { stage: string; key: string; sum: StageSum; ms: number }): void {
    const total = this.totals.get(params.stage)!;
    const { sum } = params;
    Object.assign(total.report, {
      key: params.key,
      ms: params.ms,
      kept: sum.kept,
      dropped: { ...sum.dropped },
      counts: { ...sum.counts },
      tasks: { ran: 0, total: sum.tasks },
    });
    total.decided = true;
  }

  /** What a stage's entries added up to, as a later build that finds them all cached reports them. */
  sumOf(stage: string): StageSum {
    const { report, cachedCounts } = this.totals.get(stage)!;
    return { kept: report.kept, dropped: report.dropped, counts: cachedCounts, tasks: report.tasks!.total };
  }

  /** The summed reports, each keyed on its tasks' keys; and per stage that ran, the key parts to remember. */
  finish(): { reports: StageReport[]; parts: [string, Record<string, unknown>][] } {
    const totals = [...this.totals.values()];
    const reports = totals.map((t) => (t.decided ? { ...t.report } : { ...t.report, key: reportKey(t.keys) }));
    return { reports, parts: totals.flatMap((t) => (t.parts ? [[t.report.stage, t.parts] as [string, Record<string, unknown>]] : [])) };
  }
}
