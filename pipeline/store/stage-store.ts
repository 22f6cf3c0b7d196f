import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
 * Stage outputs under `<cache>/stages/<stage>/<key>/`: meta.json, records.jsonl.gz (unless a
 * selection) and a `done` marker that is removed before a stage runs and written only after its
 * output is complete: no marker, no cache hit. An output that must not be reused (the sandbox
 * failed) is written without the marker: this build reads it back, the next one runs it again.
 */
export class StageStore {
  constructor(private readonly dir: string) {}

  entry(stage: string, key: string): string {
    return join(this.dir, "stages", stage, key);
  }

  private readJson<T>(stage: string, key: string, file: string): T {
    const path = join(this.entry(stage, key), file);
    try {
      return JSON.parse(readFileSync(path, "utf8")) as T;
    } catch (error) {
      throw new CacheError(`cache entry ${path} is marked done but cannot be read (${(error as Error).message}); run 'arcforge cache clear' or use --fresh`);
    }
  }

  /** The meta of a finished entry; with `unfinished`, also of one this build wrote without its marker. */
  readMeta(stage: string, key: string, unfinished = false): StageMeta | undefined {
    if (!unfinished && !existsSync(join(this.entry(stage, key), "done"))) return undefined;
    return this.readJson<StageMeta>(stage, key, "meta.json");
  }

  readRecords<T>(stage: string, key: string): T[] {
    const path = join(this.entry(stage, key), "records.jsonl.gz");
    try {
      return readJsonLinesSync<T>(path);
    } catch (error) {
      throw new CacheError(`cache entry ${path} is marked done but cannot be read (${(error as Error).message}); run 'arcforge cache clear' or use --fresh`);
    }
  }

  /** Empties the entry (the marker first): whatever a killed run left there is never read. */
  begin(stage: string, key: string): string {
    const dir = this.entry(stage, key);
    rmSync(join(dir, "done"), { force: true });
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  commit(params: { stage: string; key: string; meta: StageMeta; records?: unknown[]; done: boolean }): void {
    const dir = this.entry(params.stage, params.key);
    // One record a line: a stage's output may exceed what one string can hold (~512 MiB). Neither
    // file needs a rename: the entry was emptied at begin, and the marker comes last.
    if (params.records) writeJsonLinesSync(join(dir, "records.jsonl.gz"), params.records, { atomic: false, gzip: true });
    writeFileSync(join(dir, "meta.json"), JSON.stringify(params.meta));
    if (params.done) writeFileSync(join(dir, "done"), new Date().toISOString());
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
