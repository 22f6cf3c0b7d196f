import { createHash } from "node:crypto";
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync, existsSync } from "node:fs";
import { join } from "node:path";
import { CacheError } from "./errors.js";
import type { UpstreamMeta } from "./stage.js";

/** JSON with sorted keys and no undefined members: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

export function cacheKey(parts: unknown): string {
  return createHash("sha256").update(canonicalJson(parts)).digest("hex");
}

/** Writes through a temporary file and a rename, so a reader never sees half a file. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** What a stage output holds besides its records: small, always loaded. */
export interface StageMeta extends UpstreamMeta {
  /** A selection stage stores the ids it kept of its first upstream's records, not copies. */
  selected?: string[];
  length: number;
}

/**
 * Stage outputs under `<cache>/stages/<stage>/<key>/`: meta.json, records.json (unless a
 * selection) and a `done` marker that is removed before a stage runs and written only after its
 * output is complete: no marker, no cache hit.
 */
export class StageStore {
  constructor(private readonly dir: string) {}

  private entry(stage: string, key: string): string {
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

  readMeta(stage: string, key: string): StageMeta | undefined {
    if (!existsSync(join(this.entry(stage, key), "done"))) return undefined;
    return this.readJson<StageMeta>(stage, key, "meta.json");
  }

  readRecords<T>(stage: string, key: string): T[] {
    return this.readJson<T[]>(stage, key, "records.json");
  }

  begin(stage: string, key: string): void {
    const dir = this.entry(stage, key);
    mkdirSync(dir, { recursive: true });
    rmSync(join(dir, "done"), { force: true });
  }

  commit(stage: string, key: string, meta: StageMeta, records?: unknown[]): void {
    const dir = this.entry(stage, key);
    if (records) writeFileAtomic(join(dir, "records.json"), JSON.stringify(records));
    writeFileAtomic(join(dir, "meta.json"), JSON.stringify(meta));
    writeFileSync(join(dir, "done"), new Date().toISOString());
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

/**
 * One build at a time per cache directory: a second one refuses with the holder's pid. A lock
 * left by a process that no longer exists (kill -9) is taken over.
 */
export function lockCache(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number(readFileSync(path, "utf8").trim());
      if (holder && isAlive(holder)) {
        throw new CacheError(`another arcforge build (pid ${holder}) is using the cache ${dir}; wait for it, or give this build its own --cache-dir`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new CacheError(`could not lock the cache ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
