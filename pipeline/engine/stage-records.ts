import type { StageMeta, StageStore } from "../store/stage-store.js";
import type { Handle } from "./stage.js";

/** An upstream that is not a stored stage: its key and meta are known, its records are read when asked for. */
export interface SourceOutput {
  key: string;
  meta: StageMeta;
  records: () => unknown[];
  /** Why what was computed from it must not be cached. */
  uncacheable?: string;
}

/**
 * A stage's records, read from the stage store only when asked for and rebuilt from what was
 * stored: a selection from its upstream stages' records, a patch over its first upstream's, or
 * the records themselves. Records a stage just produced can be handed in to skip the disk.
 */
export class StageRecords {
  private readonly loaded = new Map<string, unknown[]>();

  constructor(
    private readonly params: {
      store: StageStore;
      after: (stage: string) => string[];
      keys: Record<string, string>;
      meta: (stage: string) => StageMeta;
      sources?: Record<string, SourceOutput>;
      /** Records read from the store are kept there for the next reader (StageStore.readRecords). */
      keep?: boolean;
    },
  ) {}

  remember(stage: string, records: unknown[]): void {
    this.loaded.set(stage, records);
  }

  /** The records of a stage or source, typed by its handle. */
  of<T>(handle: Handle<T, unknown>): T[] {
    return this.get<T>(handle.name);
  }

  /**
   * A stage's or source's records; with `wanted`, only those with these ids (in the stage's
   * order): a selection reads of its upstream records only the ones it selected, down the chain.
   */
  get<T>(name: string, wanted?: ReadonlySet<string>): T[] {
    const found = this.loaded.get(name);
    if (found) return (wanted ? found.filter((r) => wanted.has((r as { id: string }).id)) : found) as T[];
    // Only whole outputs are kept: a part is read for the one selection that asked for it.
    if (wanted) return this.load(name, wanted) as T[];
    const all = this.load(name);
    this.loaded.set(name, all);
    return all as T[];
  }

  /** How many records an output holds (its twins counted): what decides whether a selection reads it whole. */
  private lengthOf(name: string): number {
    return (this.params.sources?.[name]?.meta ?? this.params.meta(name)).length;
  }

  private load(name: string, wanted?: ReadonlySet<string>): unknown[] {
    const source = this.params.sources?.[name];
    if (source) return wanted ? source.records().filter((r) => wanted.has((r as { id: string }).id)) : source.records();
    const { store, keys } = this.params;
    const m = this.params.meta(name);
    // An idle stage's output is made, not stored: its chain input's records (the same objects), or none.
    if (m.idle) return m.idle === "input" ? this.get(this.params.after(name)[0]!, wanted) : [];
    if (m.selected) {
      const selected = wanted ? m.selected.filter((id) => wanted.has(id)) : m.selected;
      const ids = new Set(selected);
      // Selected from the upstream stages' records, in declared order: the first holds them all
      // for a filter; a stage that merges inputs selects from several.
      const pool = new Map<string, unknown>();
      for (const upstream of this.params.after(name)) {
        if (pool.size === ids.size) break;
        // Most of an upstream is read whole (and kept for the next reader); a few of its records, by id.
        const dense = ids.size * 2 >= this.lengthOf(upstream);
        for (const r of this.get<{ id: string }>(upstream, dense ? undefined : ids)) if (ids.has(r.id) && !pool.has(r.id)) pool.set(r.id, r);
      }
      return selected.map((id) => pool.get(id)!);
    }
    if (m.patched) {
      const base = new Map(this.get<{ id: string }>(this.params.after(name)[0]!, wanted).map((r) => [r.id, r]));
      return store.readRecords<{ id: string }>(name, keys[name]!, wanted, this.params.keep).map((patch) => ({ ...base.get(patch.id), ...patch }));
    }
    return store.readRecords(name, keys[name]!, wanted, this.params.keep);
  }
}
