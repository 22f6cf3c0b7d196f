import type { Database } from "lmdb";
import type { Grid } from "../../schemas/grid.js";
import type { Outcome } from "../../schemas/outcome.js";
import type { SandboxLimits } from "../../schemas/sandbox-limits.js";
import { createHash } from "node:crypto";
import { canonicalJson } from "../common/canonical-json.js";

const gridText = new WeakMap<object, string>();
const limitsText = new WeakMap<object, string>();
function memo<T extends object>(table: WeakMap<object, string>, value: T, text: (value: T) => string): string {
  let found = table.get(value);
  if (found === undefined) table.set(value, (found = text(value)));
  return found;
}
import { fingerprintId, type RuntimeFingerprint } from "../executor/runtime-fingerprint.js";
import { kvTable, storeWrite } from "./kv-store.js";

export type ExecNamespace = "execute" | "revalidate" | "augment";

/**
 * Outcomes per (program code, input grid, limits) under one runtime fingerprint, in the cache's
 * LMDB store: keys are `<fingerprint id>:<digest>`, so one runtime's verdicts never answer for
 * another's, and nothing is loaded at start (a lookup is a few microseconds at 10^7 entries).
 * Each outcome is written as soon as it is known: a killed build loses at most what was in
 * flight. Transient failures (the sandbox died, not the program) are never stored.
 */
export class ExecCache {
  private readonly table: Database<Outcome, string>;
  private readonly prefix: string;
  private readonly fresh: boolean;
  private readonly cacheDir: string;
  /** Every write, each already handled (a failure is raised by close, not as an unhandled rejection). */
  private readonly writes: Promise<unknown>[] = [];
  private failure: unknown;
  /**
   * Outcomes already looked up or stored through this instance (one stage run over one task): a
   * program sampled many times over gets one outcome object, so its copies share their grids in
   * memory instead of each holding a decoded copy.
   */
  private readonly known = new Map<string, Outcome>();
  hits = 0;
  misses = 0;

  constructor(params: { cacheDir: string; namespace: ExecNamespace; fingerprint: RuntimeFingerprint; fresh: boolean }) {
    this.table = kvTable<Outcome>(params.cacheDir, `exec-${params.namespace}`);
    this.prefix = `${fingerprintId(params.fingerprint)}:`;
    this.fresh = params.fresh;
    this.cacheDir = params.cacheDir;
    const fingerprints = kvTable<RuntimeFingerprint>(params.cacheDir, "fingerprints");
    const name = `${params.namespace}:${fingerprintId(params.fingerprint)}`;
    if (!fingerprints.get(name)) this.track(fingerprints.put(name, params.fingerprint));
  }

  /**
   * cacheKey({ code, input, limits }), written out: the same text canonicalJson gives (keys in
   * order; a grid's JSON is already canonical), with each grid's and limits' text computed once.
   */
  static key(params: { code: string; input: Grid; limits: SandboxLimits }): string {
    return createHash("sha256")
      .update(
        `{"code":${JSON.stringify(params.code)},"input":${memo(gridText, params.input, JSON.stringify)},"limits":${memo(limitsText, params.limits, canonicalJson)}}`,
      )
      .digest("hex");
  }

  get(key: string): Outcome | undefined {
    let found = this.known.get(key);
    if (!found && !this.fresh) {
      found = this.table.get(this.prefix + key);
      if (found) this.known.set(key, found);
    }
    if (found) this.hits++;
    else this.misses++;
    return found;
  }

  /** Stores a program's outcomes in one transaction. */
  put(entries: [string, Outcome][]): void {
    // A sandbox failure is retried next time; a skipped input was never run.
    const lasting = entries.filter(([, o]) => !(o.status === "crash" && o.transient) && o.status !== "skipped");
    if (lasting.length === 0) return;
    for (const [k, o] of lasting) this.known.set(k, o);
    this.track(
      this.table.transaction(() => {
        for (const [k, o] of lasting) void this.table.put(this.prefix + k, o);
      }),
    );
  }

  private track(write: Promise<unknown>): void {
    this.writes.push(storeWrite(this.cacheDir, write).catch((error: unknown) => (this.failure ??= error)));
  }

  /** Resolves when every outcome put so far is on disk. */
  async close(): Promise<void> {
    await Promise.all(this.writes.splice(0));
    if (this.failure) throw this.failure;
  }
}

/** Outcomes stored per namespace and fingerprint, for `arcforge cache stats`. */
export function execCacheStats(cacheDir: string): Record<string, Record<string, { outcomes: number; fingerprint: RuntimeFingerprint | null }>> {
  const fingerprints = kvTable<RuntimeFingerprint>(cacheDir, "fingerprints");
  const stats: Record<string, Record<string, { outcomes: number; fingerprint: RuntimeFingerprint | null }>> = {};
  for (const { key, value } of fingerprints.getRange({})) {
    const [namespace, id] = key.split(":") as [ExecNamespace, string];
    const table = kvTable<Outcome>(cacheDir, `exec-${namespace}`);
    const outcomes = table.getKeysCount({ start: `${id}:`, end: `${id};` });
    (stats[namespace] ??= {})[id] = { outcomes, fingerprint: value };
  }
  return stats;
}
