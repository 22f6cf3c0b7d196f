import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Grid } from "../../schemas/grid.js";
import type { Outcome } from "../../schemas/outcome.js";
import type { SandboxLimits } from "../../schemas/sandbox-limits.js";
import { cacheKey } from "../common/canonical-json.js";
import { fingerprintId, type RuntimeFingerprint } from "../executor/runtime-fingerprint.js";

export type ExecNamespace = "execute" | "revalidate" | "augment";

/**
 * Outcomes per (program code, input grid, limits) under one runtime fingerprint: each
 * fingerprint has its own folder, so one runtime's verdicts never answer for another's. Each
 * process appends to its own segment file, one line per outcome, written as soon as it is known:
 * a killed build loses at most the program in flight. Transient failures (the sandbox died, not
 * the program) are never stored, so the next run tries again.
 */
export class ExecCache {
  private readonly known = new Map<string, Outcome>();
  private fd: number | undefined;
  private readonly dir: string;
  hits = 0;
  misses = 0;

  constructor(params: { cacheDir: string; namespace: ExecNamespace; fingerprint: RuntimeFingerprint; fresh: boolean }) {
    this.dir = join(params.cacheDir, "exec", params.namespace, fingerprintId(params.fingerprint));
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, "fingerprint.json"), JSON.stringify(params.fingerprint, null, 2) + "\n");
    if (params.fresh) return;
    for (const name of readdirSync(this.dir).filter((n) => n.endsWith(".jsonl")).sort()) {
      for (const line of readFileSync(join(this.dir, name), "utf8").split("\n")) {
        if (!line) continue;
        try {
          const { k, o } = JSON.parse(line) as { k: string; o: Outcome };
          this.known.set(k, o);
        } catch {
          // the torn last line of a segment whose writer was killed: that outcome is simply redone
        }
      }
    }
  }

  static key(params: { code: string; input: Grid; limits: SandboxLimits }): string {
    return cacheKey({ code: params.code, input: params.input, limits: params.limits });
  }

  get(key: string): Outcome | undefined {
    const found = this.known.get(key);
    if (found) this.hits++;
    else this.misses++;
    return found;
  }

  /** Persists a program's outcomes in one write. */
  put(entries: [string, Outcome][]): void {
    const lasting = entries.filter(([, o]) => !(o.status === "crash" && o.transient));
    if (lasting.length === 0) return;
    this.fd ??= openSync(join(this.dir, `${Date.now()}-${process.pid}.jsonl`), "a");
    writeSync(this.fd, lasting.map(([k, o]) => JSON.stringify({ k, o }) + "\n").join(""));
    for (const [k, o] of lasting) this.known.set(k, o);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
