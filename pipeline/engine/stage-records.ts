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
    },
  ) {}

  remember(stage: string, records: unknown[]): void {
    this.loaded.set(stage, records);
  }

  /** The records of a stage or source, typed by its handle. */
  of<T>(handle: Handle<T, unknown>): T[] {
    return this.get<T>(handle.name);
  }

  get<T>(name: string): T[] {
    let found = this.loaded.get(name);
    if (!found) {
      found = this.load(name);
      this.loaded.set(name, found);
    }
    return found as T[];
  }

  private load(name: string): unknown[] {
    const source = this.params.sources?.[name];
    if (source) return source.records();
    const { store, keys } = this.params;
    const m = this.params.meta(name);
    if (m.selected) {
      // Selected from the upstream stages' records, in declared order: the first holds them all
      // for a filter; a stage that merges inputs selects from several.
      const pool = new Map<string, unknown>();
      for (const upstream of this.params.after(name)) {
        if (m.selected.every((id) => pool.has(id))) break;
        for (const r of this.get<{ id: string }>(upstream)) if (!pool.has(r.id)) pool.set(r.id, r);
      }
      return m.selected.map((id) => pool.get(id)!);
    }
    if (m.patched) {
      const base = new Map(this.get<{ id: string }>(this.params.after(name)[0]!).map((r) => [r.id, r]));
      return store.readRecords<{ id: string }>(name, keys[name]!).map((patch) => ({ ...base.get(patch.id), ...patch }));
    }
    return store.readRecords(name, keys[name]!);
  }
}
