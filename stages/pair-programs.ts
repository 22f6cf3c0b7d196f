import type { Pair } from "../pipeline/pairs/draw-pairs.js";
import { better, BUCKETS, hindsightPairs, multiturnPairs } from "../pipeline/pairs/draw-pairs.js";
import { refinedLinks } from "../pipeline/pairs/refined-links.js";
import { cleanPrograms } from "../pipeline/cleaner/cleaner-pool.js";
import { fingerprintId } from "../pipeline/executor/runtime-fingerprint.js";
import { defineStage, type StageContext, type StageOutput } from "../pipeline/engine/stage.js";
import { executeForStage } from "../pipeline/store/execute-cached.js";
import { pairMode, PAIR_SOURCES, type BuildOptions, type PairSource } from "../schemas/build-options.js";
import type { Drop } from "../schemas/drop.js";
import { gridsEqual } from "../schemas/grid.js";
import type { Row } from "../schemas/program.js";
import { taskInputs, type ArcTask } from "../schemas/task.js";
import { degenerateVerdict } from "./filter-degenerate.js";
import { transductionVerdict } from "./filter-transductive.js";
import { loadTasksStage } from "./load-tasks.js";
import { relabel } from "./relabel.js";
import { RECHECK_SEED } from "./revalidate.js";
import type { SelectSummary } from "./select.js";
import { countList } from "../pipeline/common/count-list.js";

/** What the pair stage tells the build: the task's rows (pairs) for splitting, and who took part. */
export interface PairData {
  summary: SelectSummary;
  /** Programs in a written pair, as parent or child: their fate is kept. */
  participants: string[];
  sources: Record<string, number>;
  buckets: Record<string, number>;
  dropped: Record<string, number>;
}

export const pairSources = (options: Pick<BuildOptions, "pairs">): PairSource[] => options.pairs ?? [...PAIR_SOURCES];
export const PAIRS_PER_TASK = 50;

/**
 * Refinement pairs (a refinement format): a parent program and a better child of the same task,
 * both verified. Sources in order, capped together at --pairs-per-task: multiturn (a
 * conversation's turns), refined (refined_from_id links; a parent known only by its code is
 * executed and verified here), hindsight (SOAR's bucketed draw). Pairs are deduplicated by the
 * parent's train outputs and the child's code.
 */
/** A task's pair data when it has no pairs. */
const noPairs = (): PairData => ({ summary: { rows: 0, solved: 0, group: null }, participants: [], sources: {}, buckets: {}, dropped: {} });

export const pairProgramsStage = defineStage<BuildOptions, Row, Row, PairData>({
  name: "pair",
  version: 1,
  sides: [loadTasksStage],
  summary: ({ report: { counts } }) =>
    counts.pairs === undefined
      ? []
      : [
          `refinement pairs: ${counts.pairs} (` +
            ["multiturn", "refined", "hindsight"].map((source) => `${source} ${counts[`pairs_${source}`] ?? 0}`).join(", ") +
            `; hindsight parents by bucket: ${["zero", "low", "medium", "max"].map((b) => `${b} ${counts[`bucket_${b}`] ?? 0}`).join(", ")}; ` +
            `not paired: ${countList(
              Object.fromEntries(
                Object.entries(counts)
                  .filter(([k]) => k.startsWith("pair_dropped_"))
                  .map(([k, v]) => [k.slice("pair_dropped_".length), v]),
              ),
            )})`,
        ],
  idle: (options) => (pairMode(options) ? undefined : { data: noPairs() }),
  async key(options, upstream, context) {
    if (!pairMode(options)) return { pairs: null };
    const sources = pairSources(options);
    const checks = {
      clean: options.cleanCode,
      transduction: options.transductionFilter,
      degenerate: [options.dropIdentity, options.dropSingleColour],
      limits: options.limits,
    };
    const refined = sources.includes("refined")
      ? { ...checks, runtime: fingerprintId(await context.fingerprint()), foreign: upstream.side(loadTasksStage).data.foreignParents ?? {} }
      : {};
    return { sources, perTask: options.pairsPerTask ?? PAIRS_PER_TASK, seed: options.seed, ...refined };
  },
  async run({ options, upstream, context }): Promise<StageOutput<Row, PairData>> {
    const rows = upstream.input.records;
    const empty = noPairs();
    if (!pairMode(options)) return { records: [], drops: [], data: empty };
    const loaded = upstream.side(loadTasksStage).data;
    const task = Object.values(loaded.tasks)[0];
    if (!task || rows.length === 0) return { records: [], drops: [], data: empty };
    const sources = pairSources(options);
    const limit = options.pairsPerTask ?? PAIRS_PER_TASK;
    const dropped: Record<string, number> = {};
    const count = (reason: string) => (dropped[reason] = (dropped[reason] ?? 0) + 1);
    // concat, not push(...): a task's candidates are unbounded.
    let candidates: Pair[] = [];
    if (sources.includes("multiturn")) candidates = candidates.concat(multiturnPairs(rows));
    if (sources.includes("refined")) {
      const links = refinedLinks({ rows, foreign: loaded.foreignParents ?? {} });
      for (const d of links.drops) count(d.reason);
      candidates = candidates.concat(links.pairs);
      const parents = await verifyOriginals({ children: links.withOriginal, task, options, context });
      for (const child of links.withOriginal) {
        const parent = parents.get(child.id)!;
        if (typeof parent === "string") count("parent_unverified");
        else candidates.push({ parent, child, source: "refined" });
      }
    }
    if (sources.includes("hindsight")) candidates = candidates.concat(hindsightPairs({ rows, seed: options.seed, limit }));
    const kept: Pair[] = [];
    const seen = new Set<string>();
    for (const pair of candidates) {
      const key = JSON.stringify([pair.parent.predictedTrain, pair.child.code]);
      if (pair.parent.code === pair.child.code) count("same_code");
      else if (!better(pair)) count("not_better");
      else if (seen.has(key)) count("duplicate_pair");
      else if (kept.length >= limit) count("over_pairs_budget");
      else {
        seen.add(key);
        kept.push(pair);
      }
    }
    const participants = new Set(kept.flatMap((p) => [p.parent.id.replace(/~parent$/, ""), p.child.id]));
    const drops: Drop[] = rows
      .filter((r) => !participants.has(r.id))
      .map((r) => ({ id: r.id, reason: "unpaired", detail: "in no pair written", taskId: r.taskId }));
    const records = kept.map((p) => ({ ...p.child, pair: { parent: p.parent, source: p.source, ...(p.bucket ? { bucket: p.bucket } : {}) } }));
    const tally = (values: string[]) => values.reduce<Record<string, number>>((t, v) => ((t[v] = (t[v] ?? 0) + 1), t), {});
    const data: PairData = {
      summary: {
        rows: kept.length,
        solved: kept.filter((p) => p.child.solvesTest).length,
        group: kept.length === 0 ? null : kept.some((p) => p.child.correctTrain.some(Boolean)) ? "correct" : "incorrect",
      },
      participants: [...participants].sort(),
      sources: tally(kept.map((p) => p.source)),
      buckets: tally(kept.flatMap((p) => (p.bucket ? [p.bucket] : []))),
      dropped,
    };
    const counts: Record<string, number> = {
      pairs: kept.length,
      ...Object.fromEntries(Object.entries(data.sources).map(([s, n]) => [`pairs_${s}`, n])),
      ...Object.fromEntries(BUCKETS.map((b) => [`bucket_${b}`, data.buckets[b] ?? 0])),
      ...Object.fromEntries(Object.entries(dropped).map(([r, n]) => [`pair_dropped_${r}`, n])),
    };
    return { records, drops, data, counts };
  },
});

/**
 * A parent known only by the code a child carries (code_original) is verified as every program
 * is: cleaned, not transductive, `ok` on every train and test input in this sandbox, the same
 * outputs under another seed, not degenerate. Returns the parent's row, or why it is not one.
 */
async function verifyOriginals(params: { children: Row[]; task: ArcTask; options: BuildOptions; context: StageContext }): Promise<Map<string, Row | string>> {
  const { task, options, context } = params;
  const verdicts = new Map<string, Row | string>();
  if (params.children.length === 0) return verdicts;
  const asked = params.children.map((c) => ({ id: c.id, code: c.refined!.codeOriginal! }));
  const cleaned = options.cleanCode ? await (context.cleaner ? context.cleaner.clean({ programs: asked }) : cleanPrograms({ programs: asked })) : undefined;
  const parents = new Map<string, { child: Row; code: string }>();
  for (const child of params.children) {
    const answer = cleaned?.get(child.id);
    const code = answer && answer.status !== "failed" ? answer.code : child.refined!.codeOriginal!;
    const verdict = options.transductionFilter ? transductionVerdict({ code, task }) : "keep";
    if (verdict !== "keep") verdicts.set(child.id, `the parent's code is ${verdict.drop}`);
    else parents.set(child.id, { child, code });
  }
  const jobs = [...parents].map(([id, p]) => ({ id, code: p.code, inputs: taskInputs(task) }));
  const first = await executeForStage({ stage: "pairs", namespace: "execute", jobs, limits: options.limits, context });
  const again = await executeForStage({ stage: "pairs", namespace: "revalidate", seed: RECHECK_SEED, jobs, limits: options.limits, context });
  for (const [id, { child, code }] of parents) {
    const outcomes = first.outcomes.get(id)!;
    const failed = outcomes.find((o) => o.status !== "ok");
    if (failed) {
      verdicts.set(id, `the parent's code gives ${failed.status} on an input`);
      continue;
    }
    const repeat = again.outcomes.get(id)!;
    if (repeat.some((o, i) => o.status !== "ok" || !gridsEqual(o.grid, (outcomes[i] as { grid: number[][] }).grid))) {
      verdicts.set(id, "the parent's code is nondeterministic");
      continue;
    }
    const { provenance: _p, refined: _r, turn: _t, pair: _pair, ...own } = child;
    const parent = relabel({ program: { ...own, subset: child.subset ?? null, id: `${child.id}~parent`, code, outcomes }, task, generation: child.generation });
    const degenerate = degenerateVerdict({ row: parent, task, dropIdentity: options.dropIdentity, dropSingleColour: options.dropSingleColour });
    verdicts.set(id, degenerate === "keep" ? parent : `the parent's code is ${degenerate.drop}`);
  }
  return verdicts;
}
