import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { sign, verify, type QueueAuth } from "./queue-auth.js";
import { WORKER_KEY_PREFIX, WORKER_TTL_MS, type WorkerAnnouncement } from "./queue-protocol.js";

/** The part of an ioredis client the registry uses. */
interface RedisLike {
  set(key: string, value: string, px: "PX", ms: number): Promise<unknown>;
  del(key: string): Promise<unknown>;
  scan(cursor: string, match: "MATCH", pattern: string, count: "COUNT", n: number): Promise<[string, string[]]>;
  mget(...keys: string[]): Promise<(string | null)[]>;
}

/**
 * A worker says which fingerprints it serves under a key that expires unless renewed: a killed
 * worker disappears from the list by itself, so builds can say who is connected.
 */
export function announceWorker(params: {
  client: RedisLike;
  auth: QueueAuth;
  announcement: Omit<WorkerAnnouncement, "host" | "pid" | "started" | "name" | "mac">;
}): { name: string; stop(): Promise<void> } {
  const name = `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const key = `${WORKER_KEY_PREFIX}${name}`;
  const unsigned = { ...params.announcement, host: hostname(), pid: process.pid, started: new Date().toISOString(), name };
  const value = JSON.stringify({ ...unsigned, mac: sign(params.auth, "worker", unsigned) } satisfies WorkerAnnouncement);
  const renew = () => params.client.set(key, value, "PX", WORKER_TTL_MS).catch(() => undefined);
  void renew();
  const timer = setInterval(renew, WORKER_TTL_MS / 3);
  return {
    name,
    async stop() {
      clearInterval(timer);
      await params.client.del(key).catch(() => undefined);
    },
  };
}

/** Every worker announced now; `verified` when its announcement carries a valid MAC under `auth`. */
export async function connectedWorkers(client: RedisLike, auth: QueueAuth = {}): Promise<(WorkerAnnouncement & { verified: boolean })[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, found] = await client.scan(cursor, "MATCH", `${WORKER_KEY_PREFIX}*`, "COUNT", 200);
    cursor = next;
    keys.push(...found);
  } while (cursor !== "0");
  if (keys.length === 0) return [];
  return (await client.mget(...keys)).flatMap((v) => {
    const announced = parseAnnouncement(v);
    if (!announced) return [];
    const { mac, ...unsigned } = announced;
    return [{ ...announced, verified: verify(auth, "worker", unsigned, mac) }];
  });
}

/** Anyone can write to the registry: a value that is not an announcement is skipped, not trusted or fatal. */
function parseAnnouncement(value: string | null): WorkerAnnouncement | undefined {
  if (value === null) return undefined;
  try {
    const parsed = JSON.parse(value) as WorkerAnnouncement;
    return parsed && Array.isArray(parsed.fingerprints) && parsed.fingerprints.every((f) => typeof f === "string") ? parsed : undefined;
  } catch {
    return undefined;
  }
}
