import { pairMode, type BuildOptions } from "../../schemas/build-options.js";
import type { Drop } from "../../schemas/drop.js";
import { dropWeight } from "../../schemas/twins.js";
import type { Contamination } from "../../stages/decontaminate.js";
import type { SelectSummary } from "../../stages/select.js";
import type { RuntimeFingerprint } from "../executor/runtime-fingerprint.js";
import { cacheKey } from "../common/canonical-json.js";
import type { UpstreamMeta } from "../engine/stage.js";
import { reportKey } from "../engine/sum-reports.js";

/** What a task's run keeps of one stage's output: a few small fields, never records. */
export interface TaskExtract {
  missing?: { count: number; first: Drop };
  trusted?: true;
  contamination?: Contamination;
  runtime?: RuntimeFingerprint;
  /** Programs the stage received (kept or dropped). */
  received?: number;
  selected?: SelectSummary;
}

/** Bumped when what is extracted changes: stored digests of an older extraction never match. */
const EXTRACTS_VERSION = 1;

type View = UpstreamMeta<Record<string, unknown> | undefined>;

/** What every kept or dropped record of a stage adds up to (inserting a stage before it changes nothing here). */
function received(view: View): number {
  let dropped = 0;
  for (const d of view.drops) dropped += dropWeight(d);
  return (view.kept ?? 0) + dropped + Object.values(view.dropped ?? {}).reduce((n, v) => n + v, 0);
}

/** Per stage, what a task's run keeps of its output; a function of the output alone, whatever the options. */
const EXTRACTS: Record<string, (view: View) => TaskExtract> = {
  "load-tasks": (view) => {
    const missing = view.drops.filter((d) => d.reason === "task_not_found");
    return {
      ...(missing[0] ? { missing: { count: missing.reduce((n, d) => n + dropWeight(d), 0), first: missing[0] } } : {}),
      ...(view.data?.trusted ? { trusted: true as const } : {}),
    };
  },
  decontaminate: (view) => (view.data?.contamination ? { contamination: view.data.contamination as Contamination } : {}),
  execute: (view) => ({ received: received(view), ...(view.data?.runtime ? { runtime: view.data.runtime as RuntimeFingerprint } : {}) }),
  revalidate: (view) => (view.data?.runtime ? { runtime: view.data.runtime as RuntimeFingerprint } : {}),
  select: (view) => ({ selected: view.data as unknown as SelectSummary }),
  pair: (view) => ({ selected: (view.data as { summary: SelectSummary }).summary }),
};

/** What a task's run keeps of a stage's output (nothing for most stages). */
export function extractOf(stage: string, view: UpstreamMeta<unknown>): TaskExtract | undefined {
  return EXTRACTS[stage]?.(view as View);
}

/** A task's run fields from its stages' extracts: selected rows from pair in a refinement build, else from select. */
export function fromExtracts(params: { extracts: (stage: string) => TaskExtract | undefined; options: BuildOptions }) {
  const { extracts } = params;
  const runtimes = ["execute", "revalidate"].flatMap((stage) => {
    const runtime = extracts(stage)?.runtime;
    return runtime ? [runtime] : [];
  });
  const loaded = extracts("load-tasks");
  const contamination = extracts("decontaminate")?.contamination;
  return {
    executed: extracts("execute")?.received ?? 0,
    selected: extracts(pairMode(params.options) ? "pair" : "select")?.selected ?? { rows: 0, solved: 0, group: null },
    ...(loaded?.missing ? { missing: loaded.missing } : {}),
    ...(loaded?.trusted ? { trusted: true as const } : {}),
    ...(runtimes.length ? { runtimes } : {}),
    ...(contamination ? { contamination } : {}),
  };
}

/**
 * What a stage's entries over every task of a build add up to, stored under a digest of the tasks'
 * keys: a build whose tasks have those keys decides the stage unchanged in one lookup.
 */
export interface StageDigest {
  kept: number;
  dropped: Record<string, number>;
  /** Summed as a build that finds every entry cached sums them (without the counts of a run's work). */
  counts: Record<string, number>;
  tasks: number;
  extracts: Record<string, TaskExtract>;
}

/** Where a stage's digest is stored: its report key, and the extraction that made it. */
export const digestOf = (keys: [string, string][]) => cacheKey({ extracts: EXTRACTS_VERSION, keys: reportKey(keys) });
