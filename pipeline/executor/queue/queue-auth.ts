import { createHmac, timingSafeEqual } from "node:crypto";
import { canonicalJson } from "../../common/canonical-json.js";
import { QueueError } from "../../common/errors.js";

/**
 * What proves a queue message came from someone holding the shared secret. Without a secret
 * (`--queue-insecure`) nothing is signed and nothing is checked: anyone who reaches Redis can
 * answer jobs, which the build then says.
 */
export interface QueueAuth {
  secret?: string;
}

/** What a MAC is over: the purpose is part of it, so a job's MAC never passes for an answer's. */
type Purpose = "job" | "answer" | "worker";

export function sign(auth: QueueAuth, purpose: Purpose, value: unknown): string | undefined {
  if (!auth.secret) return undefined;
  return createHmac("sha256", auth.secret)
    .update(`arcforge-queue/${purpose}\n${canonicalJson(value)}`)
    .digest("hex");
}

/** True when `mac` is the MAC of `value` under the secret (always true without a secret). */
export function verify(auth: QueueAuth, purpose: Purpose, value: unknown, mac: unknown): boolean {
  const expected = sign(auth, purpose, value);
  if (expected === undefined) return true;
  if (typeof mac !== "string" || mac.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(mac), Buffer.from(expected));
}

/**
 * The secret from `--queue-secret` or ARCFORGE_QUEUE_SECRET. `--queue` without one is refused
 * unless `--queue-insecure` says the network is trusted.
 */
export function resolveQueueAuth(params: { secret?: string; insecure?: boolean; env?: NodeJS.ProcessEnv }): QueueAuth {
  // An empty variable is an unset one (`ARCFORGE_QUEUE_SECRET= arcforge ...`).
  const secret = params.secret ?? ((params.env ?? process.env).ARCFORGE_QUEUE_SECRET || undefined);
  if (secret !== undefined && secret.length < 16)
    throw new QueueError("the queue secret (--queue-secret or ARCFORGE_QUEUE_SECRET) must be at least 16 characters: generate one with 'openssl rand -hex 32'");
  if (secret) return { secret };
  if (params.insecure) return {};
  throw new QueueError(
    "--queue needs a shared secret so that only your workers' answers are used: set ARCFORGE_QUEUE_SECRET (or --queue-secret) to the same value for the build and every worker, or pass --queue-insecure on a network you trust",
  );
}
