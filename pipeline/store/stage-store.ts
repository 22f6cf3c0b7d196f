import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Drop } from "../../schemas/drop.js";
import { CacheError } from "../common/errors.js";
import { writeFileAtomic } from "../common/write-file-atomic.js";
import { readJsonLinesSync, writeJsonLinesSync } from "../common/json-lines.js";

/** What a stage output holds besides its records: small, always loaded. */
export interface StageMeta {
  drops: Drop[];
  counts?: Record<string, number>;
  data?: unknown;
  /** Drops recorded elsewhere (task shards), by reason. */
  dropped?: Record<string, number>;
  /** A selection stage stores the ids it kept of its first upstream's records, not copies. */
  selected?: string[];
  /** A patching stage stores, per record, only the fields that differ from its first upstream's record. */
  patched?: boolean;
  length: number;
}

/**
 * Stage outputs under `<cache>/stages/<stage>/`, per key: `<key>.json` (the meta) and, unless the
 * stage stores none, `<key>.jsonl.gz` (its records); a stage that writes files of its own gets
 * `<key>.d/`. The meta file is the completion marker: removed before a stage runs, written last,
 * and a meta file that does not parse (a run killed while writing it) is no entry. An output that
 * must not be reused (the sandbox failed) is written as `<key>.partial.json`: this build reads it
 * back, the next one runs the stage again. A task stage writes one entry per task, so an entry
 * costs few file operations.
 */
export class StageStore {
  private readonly stageDirs = new Set<string>();

  constructor(private readonly dir: string) {}

  private path(stage: string, key: string, suffix: string): string {
    return join(this.dir, "stages", stage, `${key}${suffix}`);
  }

  /** The folder a stage may write files of its own to (task shards). */
  entry(stage: string, key: string): string {
    return this.path(stage, key, ".d");
  }

  /** The meta of a finished entry; with `unfinished`, also of one this build wrote as partial. */
  readMeta(stage: string, key: string, unfinished = false): StageMeta | undefined {
    const read = (suffix: string) => {
      try {
        return JSON.parse(readFileSync(this.path(stage, key, suffix), "utf8")) as StageMeta;
      } catch {
        return undefined;
      }
    };
    return read(".json") ?? (unfinished ? read(".partial.json") : undefined);
  }

  readRecords<T>(stage: string, key: string): T[] {
    const path = this.path(stage, key, ".jsonl.gz");
    try {
      return readJsonLinesSync<T>(path);
    } catch (error) {
      throw new CacheError(`cache entry ${path} is marked done but cannot be read (${(error as Error).message}); run 'arcforge cache clear' or use --fresh`);
    }
  }

  /** Removes the entry's marker (and what a killed run may have left): nothing of it is read until commit. Returns the entry's own folder. */
  begin(stage: string, key: string): string {
    if (!this.stageDirs.has(stage)) {
      mkdirSync(join(this.dir, "stages", stage), { recursive: true });
      this.stageDirs.add(stage);
    }
    for (const suffix of [".json", ".partial.json"]) rmSync(this.path(stage, key, suffix), { force: true });
    const dir = this.entry(stage, key);
    rmSync(dir, { recursive: true, force: true });
    return dir;
  }

  commit(params: { stage: string; key: string; meta: StageMeta; records?: unknown[]; done: boolean }): void {
    // One record a line: a stage's output may exceed what one string can hold (~512 MiB). The
    // records come first, the meta (the marker) last.
    if (params.records) writeJsonLinesSync(this.path(params.stage, params.key, ".jsonl.gz"), params.records, { atomic: false, gzip: true });
    writeFileSync(this.path(params.stage, params.key, params.done ? ".json" : ".partial.json"), JSON.stringify(params.meta));
  }

  /** The key parts of the last run of a stage, to say why it runs again. */
  lastParts(stage: string): Record<string, unknown> | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir, "stages", stage, "last.json"), "utf8"));
    } catch {
      return undefined;
    }
  }

  rememberParts(stage: string, parts: Record<string, unknown>): void {
    mkdirSync(join(this.dir, "stages", stage), { recursive: true });
    writeFileAtomic(join(this.dir, "stages", stage, "last.json"), JSON.stringify(parts));
  }
}
