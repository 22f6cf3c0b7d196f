import type { StageMeta, StageStore } from "../store/stage-store.js";
import type { AnyStage, Handle, StageContext, StageInputs, Upstream, UpstreamMeta } from "./stage.js";
import { cacheKey, canonicalJson } from "../common/canonical-json.js";
import { CacheError, StageGraphError } from "../common/errors.js";
import { StageRecords, type SourceOutput } from "./stage-records.js";
import { inStage, keyInputs, keyParts, withData } from "./stage-keys.js";
import { wireStages } from "./wire-stages.js";
import { chainInput, idleAware, idleStages } from "./idle-stages.js";
import type { StageReport } from "../../schemas/build-manifest.js";
import type { Drop } from "../../schemas/drop.js";
import { dropWeight, totalWeight, type Twins } from "../../schemas/twins.js";

export interface StageResults {
  meta: Record<string, StageMeta>;
  keys: Record<string, string>;
  /** Each stage's key parts (what its key was made of). */
  parts: Record<string, Record<string, unknown>>;
  /** A stage's records, read from the cache only when asked for. */
  records<T>(stage: Handle<T, unknown>): T[];
  /** A stage's data, typed by its handle. */
  data<D>(stage: Handle<unknown, D>): D;
  /** A stage's output without its records, typed by its handle. */
  output<D>(stage: Handle<unknown, D>): UpstreamMeta<D>;
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
  stages: readonly AnyStage<O>[];
  /** The source the phase's first stage reads (its chain input); readers need none. */
  from?: Handle;
  /** What the stages run on, for an error's message: "task arc-agi-1/0a1d4ef5". */
  scope?: string;
  options: O;
  store: StageStore;
  context: StageContext;
  sources?: Record<string, SourceOutput>;
  /**
   * For a run over one task of many: the stages' last key parts (read once for all tasks), and
   * none are written here (the caller writes one per stage, not one per task).
   */
  perTask?: { lastParts: (stage: string) => Record<string, unknown> | undefined };
  /**
   * Keys of the first stages, decided unchanged by the caller (`stageKey` for each scope and a digest over many
   * scopes): they neither run nor report, and their entries are read only if a later stage needs them.
   */
  known?: Record<string, string>;
}): Promise<StageResults> {
  const { store } = params;
  const sources = params.sources ?? {};
  const meta: Record<string, StageMeta> = Object.fromEntries(Object.entries(sources).map(([name, s]) => [name, s.meta]));
  const keys: Record<string, string> = Object.fromEntries(Object.entries(sources).map(([name, s]) => [name, s.key]));
  const wiring = wireStages({ stages: params.stages, sources: Object.keys(sources), from: params.from?.name });
  const after = (name: string) => wiring.get(name) ?? [];
  const known = params.known ?? {};
  const idle = idleStages(params.stages, params.options);
  const metaOf = idleAware({
    idle,
    after,
    read: (name) => {
      if (!meta[name] && known[name]) meta[name] = storedMeta({ store, stage: name, key: known[name], scope: params.scope });
      const found = meta[name];
      if (!found) throw new StageGraphError(`no output of ${name} is known to this phase`);
      return found;
    },
  });
  // What a stage that runs reads from the store, a later reader (the writer) reads again: it is kept for it.
  const records = new StageRecords({ store, keys, sources, after, meta: metaOf, keep: true });
  const reports: StageReport[] = [];
  const allParts: Record<string, Record<string, unknown>> = {};
  const uncached = new Map<string, string>(Object.entries(sources).flatMap(([name, s]) => (s.uncacheable ? [[name, s.uncacheable]] : [])));
  for (const stage of params.stages) {
    const names = after(stage.name);
    if (known[stage.name]) {
      keys[stage.name] = known[stage.name];
      continue;
    }
    if (idle.has(stage.name)) {
      reports.push(idleReport({ stage: stage.name, input: chainInput(after, stage.name), keys, reports, uncached, meta: metaOf }));
      continue;
    }
    const started = performance.now();
    const parts = await keyParts({
      stage,
      options: params.options,
      inputs: keyInputs({ names, meta: metaOf }),
      context: params.context,
      upstream: Object.fromEntries(names.map((name) => [name, keys[name]!])),
      scope: params.scope,
    });
    const key = cacheKey(parts);
    keys[stage.name] = key;
    allParts[stage.name] = parts;
    const cached = params.context.fresh ? undefined : store.readMeta(stage.name, key);
    const last = params.perTask ? params.perTask.lastParts(stage.name) : store.lastParts(stage.name);
    const reason = cached
      ? "cached"
      : whyRun({ parts, last, fresh: params.context.fresh, ranUpstream: names.filter((name) => reports.some((r) => r.stage === name && r.ran)) });
    params.context.emit({ type: "stage-start", stage: stage.name, cached: Boolean(cached), reason });
    if (cached) {
      meta[stage.name] = cached;
    } else {
      const dir = store.begin({ stage: stage.name, key, folder: Boolean(stage.reader) });
      // Records are read when the stage asks for them: most side inputs are read for their data only.
      const full = <T, D>(name: string): Upstream<T, D> =>
        Object.defineProperty(withData<D>(metaOf(name)), "records", { get: () => records.get<T>(name), enumerable: true }) as Upstream<T, D>;
      const upstream: StageInputs<unknown> = {
        input: names[0] ? full(names[0]) : { drops: [], records: [], data: undefined },
        side: (handle) => full(handle.name),
      };
      const output = await inStage(stage.name, params.scope, () => stage.run({ options: params.options, upstream, context: params.context, dir }));
      const m: StageMeta = {
        drops: dropsWithTwins(output.drops, () => upstream.input.records),
        counts: output.counts,
        data: output.data,
        length: output.kept ?? totalWeight(output.records as { twins?: Twins }[]),
        ...(output.dropped ? { dropped: output.dropped } : {}),
      };
      const selects = stage.selects && !output.newRecords && allOf(output.records, () => upstream.input.records);
      if (selects) m.selected = output.records.map((r) => idOf(r, stage.name));
      if (stage.patches) m.patched = true;
      // An output that is not the programs' doing taints everything computed from it: it is
      // written for this build to read back, but not marked done.
      const taint = output.uncacheable ?? names.map((name) => uncached.get(name)).find(Boolean);
      if (taint) uncached.set(stage.name, taint);
      const stored = selects ? undefined : stage.patches ? patchesOf(output.records, records.get(names[0] ?? stage.name)) : output.records;
      store.commit({ stage: stage.name, key, meta: m, records: stored, done: !taint });
      meta[stage.name] = m;
      records.remember(stage.name, output.records);
    }
    if (!params.perTask) store.rememberParts(stage.name, parts);
    const m = metaOf(stage.name);
    const dropped: Record<string, number> = { ...m.dropped };
    for (const drop of m.drops) dropped[drop.reason] = (dropped[drop.reason] ?? 0) + dropWeight(drop);
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
    params.context.emit({ type: "stage-end", stage: stage.name, kept: m.length, dropped: Object.values(dropped).reduce((n, v) => n + v, 0), ms });
  }
  const taint = [...uncached.values()][0];
  return {
    meta,
    keys,
    parts: allParts,
    records: (handle) => records.get(handle.name),
    data: <D>(handle: Handle<unknown, D>) => withData<D>(metaOf(handle.name)).data,
    output: <D>(handle: Handle<unknown, D>) => withData<D>(metaOf(handle.name)),
    reports,
    ...(taint ? { uncacheable: taint } : {}),
  };
}

/**
 * An idle stage's report: its key is its chain input's, and it ran when its input did (its output
 * is made anew then), so a stage after it says what changed as it would after a stage that ran.
 */
function idleReport(params: {
  stage: string;
  input: string;
  keys: Record<string, string>;
  reports: StageReport[];
  uncached: Map<string, string>;
  meta: (name: string) => StageMeta;
}): StageReport {
  const { stage, input, uncached } = params;
  const key = params.keys[input]!;
  params.keys[stage] = key;
  const taint = uncached.get(input);
  if (taint) uncached.set(stage, taint);
  const from = params.reports.find((r) => r.stage === input && r.ran);
  return {
    stage,
    key,
    ran: Boolean(from),
    reason: !from ? "cached" : WHOLE_RUN.has(from.reason) ? from.reason : `changed: input from ${input}`,
    ms: 0,
    kept: params.meta(stage).length,
    dropped: {},
    counts: {},
    ...(taint ? { notCached: taint } : {}),
  };
}

/** A stage output the caller decided unchanged: its entry must be there (a damaged cache says so, with the remedy). */
function storedMeta(params: { store: StageStore; stage: string; key: string; scope?: string }): StageMeta {
  const found = params.store.readMeta(params.stage, params.key);
  if (!found)
    throw new CacheError(
      `the cache holds no ${params.stage} output${params.scope ? ` of ${params.scope}` : ""} (key ${params.key}), though its stage digest says it does; run the build again with --fresh`,
    );
  return found;
}

/** A record's twins go with its drop (unless the stage said what became of them): each is an attempt with a fate. */
function dropsWithTwins(drops: Drop[], read: () => unknown[]): Drop[] {
  // Most outputs of a task drop nothing: their inputs are not looked through, nor read if the stage did not.
  if (drops.length === 0) return drops;
  const twins = new Map<string, Twins>();
  for (const r of read() as { id?: string; twins?: Twins }[]) if (r.twins && typeof r.id === "string") twins.set(r.id, r.twins);
  if (twins.size === 0) return drops;
  return drops.map((d) => (d.twins || !twins.has(d.id) ? d : { ...d, twins: twins.get(d.id)! }));
}

/**
 * Whether a selecting stage's records are all its input's very records: only then do its ids read
 * back as what it handed on. A record it changed (dedup strips a kept record's twins) would come
 * back as its input had it, so such an output is stored whole.
 */
function allOf(records: unknown[], input: () => unknown[]): boolean {
  if (records.length === 0) return true;
  const inputs = new Set(input());
  return records.every((r) => inputs.has(r));
}

/** A selecting stage stores its records' ids: each record must have one. */
function idOf(record: unknown, stage: string): string {
  if (record && typeof record === "object" && "id" in record && typeof record.id === "string") return record.id;
  throw new StageGraphError(`stage ${stage} selects records, and one of its records has no string id: give every record an id`);
}

/** Per record, its id and the fields that are not the very values of the upstream record with that id. */
function patchesOf(outputs: unknown[], upstream: unknown[]): unknown[] {
  const base = new Map((upstream as Record<string, unknown>[]).map((r) => [r.id, r]));
  return (outputs as Record<string, unknown>[]).map((record) => {
    const before = base.get(record.id) ?? {};
    return Object.fromEntries(Object.entries(record).filter(([field, value]) => field === "id" || before[field] !== value));
  });
}

/** Reasons that a whole run gives every stage, not one stage's change. */
const FRESH = "--fresh";
const FIRST_RUN = "no finished earlier run in this cache";
const WHOLE_RUN = new Set([FRESH, FIRST_RUN]);

function whyRun(params: { parts: Record<string, unknown>; last: Record<string, unknown> | undefined; fresh: boolean; ranUpstream: string[] }): string {
  const { parts, last } = params;
  if (params.fresh) return FRESH;
  if (!last) return FIRST_RUN;
  if (last.version !== parts.version) return `stage version ${String(last.version)} -> ${String(parts.version)}`;
  const changed: string[] = [];
  const options = (parts.options ?? {}) as Record<string, unknown>;
  const lastOptions = (last.options ?? {}) as Record<string, unknown>;
  for (const name of new Set([...Object.keys(options), ...Object.keys(lastOptions)])) {
    // Equal canonical texts are equal keys: the hash would only cost time (this runs per task and stage).
    if (canonicalJson(options[name] ?? null) !== canonicalJson(lastOptions[name] ?? null)) changed.push(`option ${name}`);
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
