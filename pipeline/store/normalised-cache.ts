import type { Normalised } from "../cleaner/cleaner-pool.js";
import { sha256 } from "../common/sha256.js";
import { kvTable, storeWrite } from "./kv-store.js";

/**
 * Normalised tokens by the code's digest under one normaliser, in the cache's LMDB store: the
 * same code recurs across attempts, tasks and builds, and is parsed once.
 */
export class NormalisedCache {
  private readonly entries;

  constructor(private readonly params: { cacheDir: string; normaliser: string; fresh: boolean }) {
    this.entries = kvTable<Normalised>(params.cacheDir, "normalised");
  }

  private key(code: string): string {
    return `${this.params.normaliser}:${sha256(code)}`;
  }

  get(code: string): Normalised | undefined {
    return this.params.fresh ? undefined : this.entries.get(this.key(code));
  }

  /** Stores answers in one transaction; a helper's death says nothing about the code and is not stored. */
  put(answers: [string, Normalised][]): Promise<void> {
    return storeWrite(
      this.params.cacheDir,
      this.entries.transaction(() => {
        for (const [code, answer] of answers) if (!("helperDied" in answer)) void this.entries.put(this.key(code), answer);
      }),
    );
  }
}
