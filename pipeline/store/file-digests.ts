import { statSync, type BigIntStats } from "node:fs";
import { resolve } from "node:path";
import { fileSha256 } from "../common/sha256.js";
import { kvTable, storeWrite } from "./kv-store.js";

/**
 * How long a file must have been left alone before its digest is remembered. The kernel stamps
 * change times from a coarse clock (a few ms): a file written twice within one tick, its size
 * unchanged, keeps its stamps. A file whose last change is older than this when it is hashed
 * cannot be changed again without a later stamp.
 */
const SETTLED_MS = 2_000;

/** What identifies one version of a file without reading it: rewritten, replaced or touched, one of these moves. */
function identityOf(stats: BigIntStats): string {
  return [stats.dev, stats.ino, stats.size, stats.mtimeNs, stats.ctimeNs].join(":");
}

interface Remembered {
  identity: string;
  sha256: string;
}

/**
 * The sha256 of input files (logs, local dataset shards), remembered in the cache (table
 * `file-digests`) by each file's identity: a rebuild stats the ~1,000 logs of a run instead of
 * reading all of them (~50 ms a build on 38 MB). A digest is remembered only once its file has
 * settled (`SETTLED_MS`), and used only while the file's device, inode, size, modification and
 * change times are all the same; with `fresh`, every file is read again. `now` is for tests.
 */
export class FileDigests {
  private readonly table;

  constructor(private readonly params: { cacheDir: string; fresh?: boolean; now?: () => number }) {
    this.table = kvTable<Remembered>(params.cacheDir, "file-digests");
  }

  async sha256(path: string): Promise<string> {
    const file = resolve(path);
    const before = statSync(file, { bigint: true });
    const identity = identityOf(before);
    const found = this.params.fresh ? undefined : this.table.get(file);
    if (found?.identity === identity) return found.sha256;
    const digest = await fileSha256(file);
    const after = statSync(file, { bigint: true });
    const now = BigInt((this.params.now ?? Date.now)()) * 1_000_000n;
    // Changed while read, or too recently to be told apart from a change to come: hashed again next time.
    if (identityOf(after) === identity && now - after.ctimeNs >= BigInt(SETTLED_MS) * 1_000_000n)
      // A digest that could not be remembered is only read again next time; the stage store reports a failing store.
      storeWrite(this.params.cacheDir, this.table.put(file, { identity, sha256: digest })).catch(() => undefined);
    return digest;
  }
}
