import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import type { Drop } from "../../schemas/drop.js";
import { CacheError } from "../common/errors.js";
import { writeFileAtomic } from "../common/write-file-atomic.js";
import { gzipPiece } from "../common/json-lines.js";
import { kvTable, storeWrite } from "./kv-store.js";
import { sharedRecordsOf } from "./shared-records.js";

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
  /** Made where it is read, never stored: an idle stage's output (its chain input's records, or none). */
  idle?: "input" | "empty";
  length: number;
}

/** An entry's meta as stored: `done` false for an output this build may read but the next must not reuse. */
interface StoredMeta {
  meta: StageMeta;
  done: boolean;
}

/** An entry's two keys: the meta (read by every run that asks whether the stage is cached) and the records. */
const META = "/m";
const RECORDS = "/r";

/** Pieces of ~1 MiB of JSON lines: a stage's output may exceed what one string holds (~512 MiB). */
const PIECE = 1 << 20;

/**
 * Records read while the task stages run that are kept for the writer, by their text's size: a
 * rebuild's first changed stage reads the records the writer reads next (4 MB over the 457 tasks
 * of ../shared/run-logs). A larger build keeps its first tasks', the ones the writer reads first.
 */
const KEPT_BYTES = 16 * 2 ** 20;

function packRecords(records: unknown[]): Buffer {
  const pieces: Buffer[] = [];
  let text = "";
  for (const record of records) {
    text += `${JSON.stringify(record)}\n`;
    if (text.length >= PIECE) {
      pieces.push(gzipPiece(text));
      text = "";
    }
  }
  if (text || pieces.length === 0) pieces.push(gzipPiece(text));
  return Buffer.concat(pieces);
}

/**
 * Stage outputs, per stage and key, in the cache's LMDB store (table `stages`): the meta and,
 * unless the stage stores none, its records (gzipped JSON lines) under two keys written in one
 * transaction, so an entry lands whole or not at all, a cached-or-not check reads the meta only,
 * and a build of many small tasks (one entry per task and stage) costs no file per entry. A stage
 * that writes files of its own (task shards) gets `<cache>/stages/<stage>/<key>.d/`, written
 * before its entry. An output that must not be reused (the sandbox failed) is stored not `done`:
 * this build reads it back, the next one runs the stage again. Writes are asynchronous; until one
 * lands this process reads it from memory, and `close` waits for all of them.
 */
export class StageStore {
  private readonly stageDirs = new Set<string>();
  private readonly table;
  /** Entries written or removed whose write has not landed yet (null: removed). */
  private readonly pending = new Map<string, { meta: StoredMeta; records?: Buffer } | null>();
  private readonly writes = new Set<Promise<void>>();
  private failure: unknown;
  private closed = false;
  /** Stage digests (table `digests`): what one stage's entries over many tasks add up to. */
  private readonly digests;
  private readonly pendingDigests = new Map<string, unknown>();
  private digestsCleared = false;
  /** Records read whole with `keep`, until a reader without it takes them (once). */
  private readonly kept = new Map<string, { records: unknown[]; bytes: number }>();
  private keptBytes = 0;
  /** Each stage's last.json as read or written by this store. */
  private readonly lastTexts = new Map<string, string>();

  constructor(private readonly dir: string) {
    // Records are gzipped already: LMDB's own compression would spend time for nothing.
    this.table = kvTable<StoredMeta | Buffer>(dir, "stages", { compressed: false, plainObjects: true });
    this.digests = kvTable<unknown>(dir, "digests");
  }

  private track(landed: Promise<unknown>, settle: () => void): void {
    const tracked: Promise<void> = storeWrite(this.dir, landed)
      .then(settle)
      .catch((error: unknown) => void (this.failure ??= error))
      .finally(() => this.writes.delete(tracked));
    this.writes.add(tracked);
  }

  // No NUL in a key: LMDB's key encoding reads a string holding one back as an array.
  private id = (stage: string, key: string) => `${stage}/${key}`;

  private write(id: string, entry: { meta: StoredMeta; records?: Buffer } | null): void {
    // A build that failed closes the store while other tasks may still finish: their entries are not kept.
    if (this.closed) return;
    this.pending.set(id, entry);
    // Records kept from the entry this replaces are not its records.
    this.takeKept(id);
    const landed = this.table.transaction(() => {
      if (entry) {
        // No records key to remove for a selection: begin() removed any earlier entry whole, and
        // an entry's two keys land or go in one transaction.
        void this.table.put(id + META, entry.meta);
        if (entry.records) void this.table.put(id + RECORDS, entry.records);
      } else {
        void this.table.remove(id + META);
        void this.table.remove(id + RECORDS);
      }
    });
    this.track(landed, () => {
      if (this.pending.get(id) === entry) this.pending.delete(id);
    });
  }

  private storedMeta(id: string): StoredMeta | undefined {
    if (this.pending.has(id)) return this.pending.get(id)?.meta;
    return this.table.get(id + META) as StoredMeta | undefined;
  }

  /** The folder a stage may write files of its own to (task shards). */
  entry(stage: string, key: string): string {
    // Joined once per stage: begin() asks for every task's entry, and join normalises the whole path each time.
    return `${this.folderOf(stage)}/${key}.d`;
  }

  private readonly folders = new Map<string, string>();
  private folderOf(stage: string): string {
    let folder = this.folders.get(stage);
    if (!folder) this.folders.set(stage, (folder = join(this.dir, "stages", stage)));
    return folder;
  }

  /** The meta of a finished entry; with `unfinished`, also of one this build stored as not done. */
  readMeta(stage: string, key: string, unfinished = false): StageMeta | undefined {
    const found = this.storedMeta(this.id(stage, key));
    return found && (found.done || unfinished) ? found.meta : undefined;
  }

  /**
   * An entry's records; with `wanted`, only those with these ids (the others are not parsed). With
   * `keep`, records read whole are also kept (within KEPT_BYTES) for the next reader without
   * `keep`, which takes them instead of reading them again: the task stages keep, the writer takes.
   */
  readRecords<T>(stage: string, key: string, wanted?: ReadonlySet<string>, keep = false): T[] {
    const id = this.id(stage, key);
    const found = keep ? undefined : (this.takeKept(id) as T[] | undefined);
    if (found) return wanted ? found.filter((r) => wanted.has((r as { id: string }).id)) : found;
    try {
      // Whether the entry is there, without decoding its meta (the caller has read it).
      if (this.pending.has(id) ? this.pending.get(id) === null : !this.table.doesExist(id + META)) throw new Error("no such entry");
      const packed = this.pending.has(id) ? this.pending.get(id)?.records : (this.table.get(id + RECORDS) as Buffer | undefined);
      if (!packed) return [];
      const text = gunzipSync(packed);
      const records = sharedRecordsOf<T>(text, wanted);
      if (keep && !wanted && this.keptBytes + text.length <= KEPT_BYTES) {
        this.kept.set(id, { records, bytes: text.length });
        this.keptBytes += text.length;
      }
      return records;
    } catch (error) {
      throw new CacheError(
        `cache entry ${stage}/${key} in ${join(this.dir, "store.lmdb")} is marked done but its records cannot be read (${(error as Error).message}); run 'arcforge cache clear' or use --fresh`,
      );
    }
  }

  /**
   * Removes the entry, and with `folder` what a killed run may have left in the entry's own folder
   * (a reader's task shards): nothing of it is read until commit. Returns the entry's folder.
   */
  begin(params: { stage: string; key: string; folder: boolean }): string {
    const { stage, key } = params;
    if (!this.stageDirs.has(stage)) {
      mkdirSync(join(this.dir, "stages", stage), { recursive: true });
      this.stageDirs.add(stage);
    }
    if (this.storedMeta(this.id(stage, key))) {
      this.write(this.id(stage, key), null);
      this.clearDigests();
    }
    const dir = this.entry(stage, key);
    if (params.folder) rmSync(dir, { recursive: true, force: true });
    return dir;
  }

  private takeKept(id: string): unknown[] | undefined {
    const kept = this.kept.get(id);
    if (!kept) return undefined;
    this.kept.delete(id);
    this.keptBytes -= kept.bytes;
    return kept.records;
  }

  /** Stores an entry begun with begin(); no records are read back as none (no key is written for them). */
  commit(params: { stage: string; key: string; meta: StageMeta; records?: unknown[]; done: boolean }): void {
    this.write(this.id(params.stage, params.key), {
      meta: { meta: params.meta, done: params.done },
      // An empty output (every task's pair entry without --pairs) costs a gzip stream and a key otherwise.
      ...(params.records?.length ? { records: packRecords(params.records) } : {}),
    });
  }

  /**
   * What a stage digest stands for (its entries over every task of a build, added up), if a
   * build stored it. A digest is stored only once each of its entries is done, and every digest
   * goes as soon as any entry is removed: one that is found stands for entries that are all there.
   */
  readDigest<T>(stage: string, digest: string): T | undefined {
    const id = this.id(stage, digest);
    if (this.pendingDigests.has(id)) return this.pendingDigests.get(id) as T;
    return this.digestsCleared ? undefined : (this.digests.get(id) as T | undefined);
  }

  writeDigest(params: { stage: string; digest: string; value: unknown }): void {
    if (this.closed) return;
    const id = this.id(params.stage, params.digest);
    this.pendingDigests.set(id, params.value);
    this.track(this.digests.put(id, params.value), () => undefined);
  }

  private clearDigests(): void {
    if (this.digestsCleared) return;
    this.digestsCleared = true;
    this.pendingDigests.clear();
    const ids = [...this.digests.getKeys({})];
    this.track(
      this.digests.transaction(() => ids.forEach((id) => void this.digests.remove(id))),
      () => undefined,
    );
  }

  /** Per stage, for `arcforge cache stats`: finished entries, and the bytes its records take (gzipped). */
  usage(): Record<string, { completed: number; bytes: number }> {
    const stages: Record<string, { completed: number; bytes: number }> = {};
    for (const { key, value } of this.table.getRange({})) {
      const stage = (stages[key.split("/")[0]!] ??= { completed: 0, bytes: 0 });
      if (key.endsWith(META) && (value as StoredMeta).done) stage.completed++;
      if (key.endsWith(RECORDS)) stage.bytes += (value as Buffer).length;
    }
    return stages;
  }

  /** The key parts of the last run of a stage, to say why it runs again. */
  lastParts(stage: string): Record<string, unknown> | undefined {
    try {
      const text = readFileSync(join(this.folderOf(stage), "last.json"), "utf8");
      this.lastTexts.set(stage, text);
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  }

  /** Written only when they differ from what lastParts read: a rebuild's readers find the same parts (read-logs': every log's digest). */
  rememberParts(stage: string, parts: Record<string, unknown>): void {
    const text = JSON.stringify(parts);
    if (this.lastTexts.get(stage) === text) return;
    mkdirSync(this.folderOf(stage), { recursive: true });
    writeFileAtomic(join(this.folderOf(stage), "last.json"), text);
    this.lastTexts.set(stage, text);
  }

  /** Resolves when every entry written so far has landed; a refused write is raised here. */
  async close(): Promise<void> {
    this.closed = true;
    this.kept.clear();
    await Promise.all([...this.writes]);
    if (this.failure) throw this.failure;
  }
}
