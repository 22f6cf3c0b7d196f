import { closeSync, fsyncSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { open, type Database, type RootDatabase } from "lmdb";
import { CacheError } from "../common/errors.js";

/**
 * The cache's embedded key-value store: LMDB (bench:store measured point lookups at ~3.5 us against
 * ~340 us for DuckDB, at the same write speed). Memory-mapped: nothing is loaded at start, so it
 * stays fast and small at 10^7 entries. One environment per cache folder and process.
 */
const opened = new Map<string, RootDatabase>();
const tables = new Map<string, Database<unknown, string>>();

function kvStore(cacheDir: string): RootDatabase {
  let found = opened.get(cacheDir);
  if (!found) {
    mkdirSync(cacheDir, { recursive: true });
    // A map reserved large at once: grown step by step, LMDB maps the file anew at each step and the
    // old mappings stay, so its pages counted 2-3 times over in RSS (~0.9 GiB for a 0.4 GiB file
    // at 10^6 programs). Address space only: the file still grows with what is written.
    // noSync: a build commits thousands of small transactions, and a sync each made the file
    // system write ~1.7 GB for a 21 MB cache (its journal, per fdatasync). A killed process loses
    // nothing (the pages are the kernel's); closeKvStore syncs the file once at the end.
    found = open({ path: join(cacheDir, "store.lmdb"), compression: true, maxDbs: 16, mapSize: 2 ** 36, noSync: true });
    opened.set(cacheDir, found);
  }
  return found;
}

/**
 * A named part of the store (execution outcomes, cleaned code, ...); `compressed: false` for values
 * compressed already; `plainObjects` for values of many shapes read back often (stage metas).
 */
export function kvTable<V>(cacheDir: string, name: string, options: { compressed?: boolean; plainObjects?: boolean } = {}): Database<V, string> {
  // Opening a table costs ~0.3 ms; a build asks for the same few tables once per task.
  const id = `${cacheDir}\0${name}`;
  let table = tables.get(id);
  if (!table)
    tables.set(
      id,
      (table = kvStore(cacheDir).openDB<unknown, string>({
        name,
        ...(options.compressed === false ? { compression: false } : {}),
        // msgpackr's records are not shared between values here: each value carried its shapes, and
        // reading one built a reader per shape (~16 MB of a rebuild's garbage). Values written with
        // records before are still read.
        ...(options.plainObjects ? { useRecords: false } : {}),
      })),
    );
  return table as Database<V, string>;
}

/** Waits for every write to reach the disk, then closes: call when the process is done with the cache. */
export async function closeKvStore(cacheDir: string): Promise<void> {
  const found = opened.get(cacheDir);
  if (!found) return;
  opened.delete(cacheDir);
  for (const id of tables.keys()) if (id.startsWith(`${cacheDir}\0`)) tables.delete(id);
  await found.flushed;
  await found.close();
  const fd = openSync(join(cacheDir, "store.lmdb"), "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * A write to the store as a promise that never goes unhandled: LMDB's failure (a damaged store, a
 * full disk) becomes a CacheError naming the store and the remedy, raised where it is awaited.
 */
export function storeWrite(cacheDir: string, write: Promise<unknown>): Promise<void> {
  return write.then(
    () => undefined,
    async (error: Error & { commitError?: Promise<unknown> }) => {
      const cause = error.commitError
        ? await error.commitError.then(
            () => error,
            (inner: Error) => inner,
          )
        : error;
      throw new CacheError(
        `the cache's store ${join(cacheDir, "store.lmdb")} refused a write (${cause.message.trim()}); it may be damaged: run 'arcforge cache clear --cache-dir ${cacheDir}' or build with another --cache-dir`,
      );
    },
  );
}
