import type { StageMeta, StageStore } from "../store/stage-store.js";
import type { AnyStage, Handle, Idle, KeyInputs, StageContext, UpstreamMeta } from "./stage.js";
import { idleAware } from "./idle-stages.js";
import { cacheKey } from "../common/canonical-json.js";
import { ArcforgeError, StageError } from "../common/errors.js";
import type { SourceOutput } from "./stage-records.js";

/** Bumped when the layout of cache entries changes, so older entries never match. */
export const STORE_FORMAT = 5;

/** Stored meta as a stage's typed view: the one place an output's data meets its handle's type. */
export function withData<D>(m: StageMeta): UpstreamMeta<D> {
  const { data, selected: _selected, patched: _patched, idle: _idle, length, ...rest } = m;
  return { ...rest, kept: length, data: data as D };
}

/** A stored output as its handle types it. */
export function viewOf<D>(_handle: Handle<unknown, D>, m: StageMeta): UpstreamMeta<D> {
  return withData<D>(m);
}

/** What a stage's key reads, each upstream's meta looked up only if the key reads it. */
export function keyInputs(params: { names: string[]; meta: (name: string) => StageMeta }): KeyInputs {
  const { names, meta } = params;
  return {
    get input() {
      return names[0] ? withData(meta(names[0])) : { drops: [], data: undefined };
    },
    side: <T, D>(handle: Handle<T, D>) => withData<D>(meta(handle.name)),
  };
}

/**
 * A stage's key parts: the store format, its name and version, the options (and input digests) its
 * key returns, and its upstream keys. Its cache key is their sha256 (`cacheKey`).
 */
export async function keyParts<O>(params: {
  stage: AnyStage<O>;
  options: O;
  inputs: KeyInputs;
  context: StageContext;
  upstream: Record<string, string>;
  scope?: string;
}): Promise<Record<string, unknown>> {
  const { stage } = params;
  return partsOf({
    stage,
    options: await inStage(stage.name, params.scope, () => stage.key(params.options, params.inputs, params.context)),
    upstream: params.upstream,
  });
}

/** Key parts from what a stage's key returned and its upstreams' keys (or digests standing for them). */
export function partsOf(params: { stage: AnyStage<never>; options: unknown; upstream: Record<string, string> }): Record<string, unknown> {
  return { store: STORE_FORMAT, stage: params.stage.name, version: params.stage.version, options: params.options, upstream: params.upstream };
}

/** Runs a stage's code, turning a failure that is not a broken contract into a StageError naming where. */
export async function inStage<T>(stage: string, scope: string | undefined, run: () => T | Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ArcforgeError) throw error;
    throw new StageError(stage, scope, error);
  }
}

/** A key that read the meta of an upstream this cache does not hold: decided only by running. */
class Undecided extends Error {}

/**
 * One stage's cache key for one scope (a task), running nothing: what a run would compute, given
 * its upstream keys in `keys` (its sources' and earlier stages'). Undefined when the key reads an
 * upstream output the cache does not hold. With it a caller decides a stage unchanged for many
 * scopes at once.
 */
export async function stageKey<O>(params: {
  stage: AnyStage<O>;
  /** Its upstream names, its chain input first (`wireStages`). */
  upstream: string[];
  keys: Record<string, string>;
  sources: Record<string, SourceOutput>;
  options: O;
  store: StageStore;
  context: StageContext;
  scope?: string;
  /** The idle stages (`idleStages`): their outputs are made, not read. */
  idle: ReadonlyMap<string, Idle>;
  /** Each stage's upstream names, its chain input first: an idle upstream's input is read for it. */
  wiring: ReadonlyMap<string, readonly string[]>;
}): Promise<string | undefined> {
  const { store, sources, keys } = params;
  const meta = idleAware({
    idle: params.idle,
    after: (name) => params.wiring.get(name) ?? [],
    read: (name) => {
      const found = sources[name]?.meta ?? store.readMeta(name, keys[name]!);
      if (!found) throw new Undecided();
      return found;
    },
  });
  try {
    const parts = await keyParts({
      stage: params.stage,
      options: params.options,
      inputs: keyInputs({ names: params.upstream, meta }),
      context: params.context,
      upstream: Object.fromEntries(params.upstream.map((name) => [name, keys[name]!])),
      scope: params.scope,
    });
    return cacheKey(parts);
  } catch (error) {
    if (error instanceof Undecided) return undefined;
    throw error;
  }
}
