import type { Cleaned, CleanStatus } from "../cleaner/cleaner-pool.js";
import { kvTable, storeWrite } from "./kv-store.js";
import { sha256 } from "../common/sha256.js";

/** What is stored per raw code: the status, and the digest of the cleaned text when it differs from the raw code. */
interface Entry {
  s: CleanStatus;
  e?: string;
  t?: string;
}

/**
 * Cleaned code by the raw code's digest, in the cache's LMDB store. The cleaned text is stored once
 * by its own digest: programs that differ only in comments or blank lines (common in sampled
 * attempts) share it, and an entry is ~150 bytes, so the store stays small at 10^7 programs.
 */
export class CleanedCache {
  private readonly entries;
  private readonly texts;

  constructor(private readonly params: { cacheDir: string; cleaner: string; fresh: boolean }) {
    this.entries = kvTable<Entry>(params.cacheDir, "cleaned");
    this.texts = kvTable<string>(params.cacheDir, "cleaned-text");
  }

  /** The key of a raw code under this cleaner. */
  key(code: string): string {
    return `${this.params.cleaner}:${sha256(code)}`;
  }

  get(code: string): Cleaned | undefined {
    if (this.params.fresh) return undefined;
    const entry = this.entries.get(this.key(code));
    if (!entry) return undefined;
    const text = entry.t ? this.texts.get(entry.t) : code;
    if (text === undefined) return undefined;
    return { code: text, status: entry.s, ...(entry.e ? { error: entry.e } : {}) };
  }

  /** Stores answers (raw code, its cleaning) in one transaction. */
  put(answers: [string, Cleaned][]): Promise<void> {
    return storeWrite(
      this.params.cacheDir,
      this.entries.transaction(() => {
        for (const [raw, answer] of answers) {
          const entry: Entry = { s: answer.status, ...(answer.error ? { e: answer.error } : {}) };
          if (answer.code !== raw) {
            entry.t = sha256(answer.code);
            void this.texts.put(entry.t, answer.code);
          }
          void this.entries.put(this.key(raw), entry);
        }
      }),
    );
  }
}
