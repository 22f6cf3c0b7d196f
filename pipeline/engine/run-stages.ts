import { type StageMeta, type StageStore } from "../store/stage-store.js";
import type { Stage, StageContext, StageOutput } from "./stage.js";
import { cacheKey } from "../common/canonical-json.js";
import { StageRecords, type SourceOutput } from "./stage-records.js";

/** Bumped when the layout of cache entries changes, so older entries never match. */
const STORE_FORMAT = 4;

export interface StageReport {
  stage: string;
  key: string;
  ran: boolean;
  /** Why it ran (which key part changed) or "cached". */
  reason: string;
  ms: number;
  kept: number;
  dropped: Record<string, number>;
  counts: Record<string, number>;
  /** Why this stage's output was not cached (it runs again next time). */
  notCached?: string;
  /** For a stage run task by task: for how many tasks it ran, of how many. */
  tasks?: { ran: number; total: number };
}

export interface StageResults {
  meta: Record<string, StageMeta>;
  keys: Record<string, string>;
  /** Each stage's key parts (what its key was made of). */
  parts: Record<string, Record<string, unknown>>;
  /** A stage's records, read from the cache only when asked for. */
  records<T>(stage: string): T[];
  reports: StageReport[];
  /** Why this run's outputs must not be reused (a stage's output, or a source's, was not cached). */
  uncacheable?: string;
}

/**
 * Runs stages in declared order (each after its upstream stages or sources). A stage's cache key
 * is the sha256 of its name, version, the options that change its output and its upstream keys,
 * so a change re-runs exactly the stages it reaches; cached stages' records are never read unless
 * a stage that runs, or the caller, needs them.
 */
export async function runStages<O>(params: {
  stages: Stage<O>[];
  options: O;
  store: StageStore;
  context: StageContext;
  sources?: Record<string, SourceOutput>;
  /**
   * For a run over one task of many: the stages' last key parts (read once for all tasks), and
   * none are written here (the caller writes one per stage, not one per task).
   */
  perTask?: { lastParts: (stage: string) => Record<string, unknown> | undefined };
}): Promise<StageResults> {
  const { store } = params;
  const sources = params.sources ?? {};
  const meta: Record<string, StageMeta> = Object.fromEntries(Object.entries(sources).map(([name, s]) => [name, s.meta]));
  const keys: Record<string, string> = Object.fromEntries(Object.entries(sources).map(([name, s]) => [name, s.key]));
  const byName = new Map(params.stages.map((s) => [s.name, s]));
  const records = new StageRecords({ store, keys, sources, after: (name) => byName.get(name)!.after, meta: (name) => meta[name]! });
  const reports: StageReport[] = [];
  const allParts: Record<string, Record<string, unknown>> = {};
  const uncached = new Map<string, string>(Object.entries(sources).flatMap(([name, s]) => (s.uncacheable ? [[name, s.uncacheable]] : [])));
  for (const stage of params.stages) {
    const started = performance.now();
    const upstreamMeta = Object.fromEntries(stage.after.map((name) => [name, meta[name]!]));
    const parts = {
      store: STORE_FORMAT,
      stage: stage.name,
      version: stage.version,
      options: await stage.key(params.options, upstreamMeta, params.context),
      upstream: Object.fromEntries(stage.after.map((name) => [name, keys[name]!])),
    };
    const key = cacheKey(parts);
    keys[stage.name] = key;
    allParts[stage.name] = parts;
    const cached = params.context.fresh ? undefined : store.readMeta(stage.name, key);
    const last = params.perTask ? params.perTask.lastParts(stage.name) : store.lastParts(stage.name);
    const reason = cached
      ? "cached"
      : whyRun({ parts, last, fresh: params.context.fresh, ranUpstream: stage.after.filter((name) => reports.some((r) => r.stage === name && r.ran)) });
    params.context.emit({ type: "stage-start", stage: stage.name, cached: Boolean(cached), reason });
    if (cached) {
      meta[stage.name] = cached;
    } else {
      const dir = store.begin(stage.name, key);
      const upstream: Record<string, StageOutput> = Object.fromEntries(stage.after.map((name) => [name, { ...meta[name]!, records: records.get(name) }]));
      const output = await stage.run({ options: params.options, upstream, context: params.context, dir });
      const m: StageMeta = {
        drops: output.drops,
        counts: output.counts,
        data: output.data,
        length: output.kept ?? output.records.length,
        ...(output.dropped ? { dropped: output.dropped } : {}),
      };
      if (stage.selects) m.selected = (output.records as { id: string }[]).map((r) => r.id);
      if (stage.patches) m.patched = true;
      // An output that is not the programs' doing taints everything computed from it: it is
      // written for this build to read back, but not marked done.
      const taint = output.uncacheable ?? stage.after.map((name) => uncached.get(name)).find(Boolean);
      if (taint) uncached.set(stage.name, taint);
      const stored = stage.selects ? undefined : stage.patches ? patchesOf(output.records, records.get(stage.after[0]!)) : output.records;
      store.commit({ stage: stage.name, key, meta: m, records: stored, done: !taint });
      meta[stage.name] = m;
      records.remember(stage.name, output.records);
    }
    if (!params.perTask) store.rememberParts(stage.name, parts);
    const m = meta[stage.name]!;
    const dropped: Record<string, number> = { ...m.dropped };
    for (const drop of m.drops) dropped[drop.reason] = (dropped[drop.reason] ?? 0) + 1;
    const ms = performance.now() - started;
    reports.push({
      stage: stage.name,
      key,
      ran: !cached,
      reason,
      ms: Math.round(ms),
      kept: m.length,
      dropped,
      counts: m.counts ?? {},
      ...(uncached.has(stage.name) ? { notCached: uncached.get(stage.name) } : {}),
    });
    params.context.emit({ type: "stage-end", stage: stage.name, kept: m.length, dropped: m.drops.length, ms });
  }
  const taint = [...uncached.values()][0];
  return { meta, keys, parts: allParts, records: (name) => records.get(name), reports, ...(taint ? { uncacheable: taint } : {}) };
}

/** Per record, its id and the fields that are not the very values of the upstream record with that id. */
function patchesOf(outputs: unknown[], upstream: unknown[]): unknown[] {
  const base = new Map((upstream as Record<string, unknown>[]).map((r) => [r.id, r]));
  return (outputs as Record<string, unknown>[]).map((record) => {
    const before = base.get(record.id) ?? {};
    return Object.fromEntries(Object.entries(record).filter(([field, value]) => field === "id" || before[field] !== value));
  });
}

function whyRun(params: { parts: Record<string, unknown>; last: Record<string, unknown> | undefined; fresh: boolean; ranUpstream: string[] }): string {
  const { parts, last } = params;
  if (params.fresh) return "--fresh";
  if (!last) return "no finished earlier run in this cache";
  if (last.version !== parts.version) return `stage version ${String(last.version)} -> ${String(parts.version)}`;
  const changed: string[] = [];
  const options = (parts.options ?? {}) as Record<string, unknown>;
  const lastOptions = (last.options ?? {}) as Record<string, unknown>;
  for (const name of new Set([...Object.keys(options), ...Object.keys(lastOptions)])) {
    if (cacheKey(options[name] ?? null) !== cacheKey(lastOptions[name] ?? null)) changed.push(`option ${name}`);
  }
  if (last.upstream) {
    const upstream = (parts.upstream ?? {}) as Record<string, string>;
    const lastUpstream = last.upstream as Record<string, string>;
    for (const name of Object.keys(upstream)) if (upstream[name] !== lastUpstream[name]) changed.push(`input from ${name}`);
  } else {
    // Parts remembered for a stage run per task hold no upstream keys: an upstream that ran says what changed.
    changed.push(...params.ranUpstream.map((name) => `input from ${name}`));
    if (changed.length === 0) return "changed: this task's attempts, or its entry was missing";
  }
  return changed.length ? `changed: ${changed.join(", ")}` : "its cache entry is missing or was not completed";
}
