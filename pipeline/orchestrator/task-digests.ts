import { pairMode, type BuildOptions } from "../../schemas/build-options.js";
import type { Drop } from "../../schemas/drop.js";
import { dropWeight } from "../../schemas/twins.js";
import { decontaminateStage, type Contamination } from "../../stages/decontaminate.js";
import { executeStage } from "../../stages/execute.js";
import { loadTasksStage } from "../../stages/load-tasks.js";
import { pairProgramsStage } from "../../stages/pair-programs.js";
import { revalidateStage } from "../../stages/revalidate.js";
import { selectStage, type SelectSummary } from "../../stages/select.js";
import type { RuntimeFingerprint } from "../executor/runtime-fingerprint.js";
import { cacheKey } from "../common/canonical-json.js";
import type { Handle, UpstreamMeta } from "../engine/stage.js";
import type { StageSum } from "../engine/sum-reports.js";
import { TASK_STAGES } from "./build-stages.js";

/** What a task's run keeps of one stage's output: a few small fields, never records. */
export interface TaskExtract {
  missing?: { count: number; first: Drop };
  trusted?: true;
  contamination?: Contamination;
  runtime?: RuntimeFingerprint;
  /** Programs the stage received (kept or dropped). */
  received?: number;
  selected?: SelectSummary;
  /** It dropped some of the task's records: only such entries are read for the fates (most stages drop nothing of most tasks). */
  drops?: true;
}

/** Bumped when what is extracted changes: stored digests of an older extraction never match. */
const EXTRACTS_VERSION = 2;

/** What every kept or dropped record of a stage adds up to (inserting a stage before it changes nothing here). */
function received(view: UpstreamMeta<unknown>): number {
  let dropped = 0;
  for (const d of view.drops) dropped += dropWeight(d);
  return (view.kept ?? 0) + dropped + Object.values(view.dropped ?? {}).reduce((n, v) => n + v, 0);
}

/** A stage's extraction, its output typed by the stage's handle. */
const by = <D>(stage: Handle<unknown, D>, extract: (view: UpstreamMeta<D>) => TaskExtract): [string, (view: UpstreamMeta<unknown>) => TaskExtract] => [
  stage.name,
  (view) => extract(view as UpstreamMeta<D>),
];

/** Per stage, what a task's run keeps of its output; a function of the output alone, whatever the options. */
const EXTRACTS = new Map([
  by(loadTasksStage, (view) => {
    const missing = view.drops.filter((d) => d.reason === "task_not_found");
    return {
      ...(missing[0] ? { missing: { count: missing.reduce((n, d) => n + dropWeight(d), 0), first: missing[0] } } : {}),
      ...(view.data.trusted ? { trusted: true as const } : {}),
    };
  }),
  by(decontaminateStage, (view) => (view.data.contamination ? { contamination: view.data.contamination } : {})),
  by(executeStage, (view) => ({ received: received(view), ...(view.data.runtime ? { runtime: view.data.runtime } : {}) })),
  by(revalidateStage, (view) => (view.data.runtime ? { runtime: view.data.runtime } : {})),
  by(selectStage, (view) => ({ selected: view.data })),
  by(pairProgramsStage, (view) => ({ selected: view.data.summary })),
]);

/** What a task's run keeps of a stage's output (nothing for most stages). */
export function extractOf(stage: string, view: UpstreamMeta<unknown>): TaskExtract | undefined {
  const extract = EXTRACTS.get(stage)?.(view);
  return view.drops.length > 0 ? { ...extract, drops: true } : extract;
}

/** A task's run fields from its stages' extracts: selected rows from pair in a refinement build, else from select. */
export function fromExtracts(params: { extracts: (stage: string) => TaskExtract | undefined; options: BuildOptions }) {
  const { extracts } = params;
  const runtimes = [executeStage, revalidateStage].flatMap((stage) => {
    const runtime = extracts(stage.name)?.runtime;
    return runtime ? [runtime] : [];
  });
  const loaded = extracts(loadTasksStage.name);
  const contamination = extracts(decontaminateStage.name)?.contamination;
  return {
    dropsIn: TASK_STAGES.flatMap((stage) => (extracts(stage.name)?.drops ? [stage.name] : [])),
    executed: extracts(executeStage.name)?.received ?? 0,
    selected: extracts((pairMode(params.options) ? pairProgramsStage : selectStage).name)?.selected ?? { rows: 0, solved: 0, group: null },
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
export interface StageDigest extends StageSum {
  extracts: Record<string, TaskExtract>;
  /** Each task's key for the stage: what a chained digest (`stageDigestId`) stands for. */
  keys: Record<string, string>;
}

/** Where a stage's digest is stored: of its report key (`reportKey` of its tasks' keys) and the extraction that made it. */
export const digestOf = (summed: string) => cacheKey({ extracts: EXTRACTS_VERSION, keys: summed });
