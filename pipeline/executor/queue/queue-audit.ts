import { createHmac, randomBytes } from "node:crypto";
import { gridsEqual } from "../../../schemas/grid.js";
import type { Outcome } from "../../../schemas/outcome.js";

/**
 * Which queue answers are re-executed here. The seed is drawn per build and never leaves this
 * process: a worker holding the secret cannot tell which of its answers will be checked, so a
 * liar is caught with probability 1 - (1 - fraction)^lies.
 */
export function createAuditSample(fraction: number, seed: Buffer = randomBytes(32)): { picks(key: string): boolean; checked: number } {
  return {
    checked: 0,
    picks(key: string): boolean {
      if (fraction <= 0) return false;
      if (fraction >= 1) return true;
      const draw = createHmac("sha256", seed).update(key).digest().readUInt32BE(0) / 2 ** 32;
      return draw < fraction;
    },
  };
}

/** Outcomes that a runtime limit decides: their status may differ by a hair at the limit, not by a lie. */
const LIMITS = new Set<Outcome["status"]>(["timeout", "memory"]);

/**
 * Why a worker's outcomes for one program disagree with this machine's, or null when they agree:
 * a grid differs, or one side ran cleanly where the other failed for a reason other than a
 * runtime limit. Messages and timings are not compared.
 */
export function auditDisagreement(params: { remote: Outcome[]; local: Outcome[] }): string | null {
  for (const [i, remote] of params.remote.entries()) {
    const local = params.local[i];
    const sandboxFailed = (o: Outcome) => o.status === "crash" && o.transient === true;
    if (!local || sandboxFailed(local) || sandboxFailed(remote)) continue;
    const describe = (o: Outcome) => (o.status === "ok" ? `grid ${JSON.stringify(o.grid).slice(0, 80)}` : o.status);
    if (remote.status === "ok" && local.status === "ok") {
      if (!gridsEqual(remote.grid, local.grid)) return `input ${i}: it says ${describe(remote)}, this machine's sandbox gives ${describe(local)}`;
      continue;
    }
    if ((remote.status === "ok") !== (local.status === "ok") && !LIMITS.has(remote.status) && !LIMITS.has(local.status)) {
      return `input ${i}: it says ${describe(remote)}, this machine's sandbox gives ${describe(local)}`;
    }
  }
  return null;
}
