import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CacheError } from "../common/errors.js";

/** What arcforge keeps in a cache folder, and nothing else: `cache clear` removes exactly these. */
export const CACHE_ENTRIES = ["stages", "store.lmdb", "store.lmdb-lock", "lock", "decontamination", "recipes", "arcforge-cache.json"] as const;
const MARKER = "arcforge-cache.json";

/** Marks a new (or empty) cache folder as arcforge's, so it is recognised later. */
export function markCache(dir: string): void {
  const path = join(dir, MARKER);
  if (!existsSync(path)) writeFileSync(path, `${JSON.stringify({ arcforge: "cache", layout: CACHE_ENTRIES })}\n`);
}

/** What in the folder is not arcforge's cache: a folder with any of it is not a cache folder. */
export function foreignEntries(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !(CACHE_ENTRIES as readonly string[]).includes(name) && !/^store\.lmdb/.test(name))
    .sort();
}

/**
 * Removes arcforge's entries from a cache folder, never the folder, never anything else; a folder
 * holding anything that is not arcforge's cache is refused whole, its foreign entries named.
 */
export function clearCache(dir: string): { removed: string[] } {
  if (!existsSync(dir)) return { removed: [] };
  const foreign = foreignEntries(dir);
  if (foreign.length > 0) {
    const shown = foreign.slice(0, 5).join(", ") + (foreign.length > 5 ? `, and ${foreign.length - 5} more` : "");
    throw new CacheError(
      `refusing to clear ${dir}: it is not an arcforge cache folder, it holds ${shown}; a cache folder holds only ${CACHE_ENTRIES.join(", ")}. Nothing was deleted`,
    );
  }
  const removed = readdirSync(dir).filter((name) => name !== "lock");
  for (const name of removed) rmSync(join(dir, name), { recursive: true, force: true });
  return { removed };
}
