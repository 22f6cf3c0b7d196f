import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
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
export function announceWorker(params: { client: RedisLike; announcement: Omit<WorkerAnnouncement, "host" | "pid" | "started"> }): { stop(): Promise<void> } {
  const key = `${WORKER_KEY_PREFIX}${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const value = JSON.stringify({ ...params.announcement, host: hostname(), pid: process.pid, started: new Date().toISOString() } satisfies WorkerAnnouncement);
  const renew = () => params.client.set(key, value, "PX", WORKER_TTL_MS).catch(() => undefined);
  void renew();
  const timer = setInterval(renew, WORKER_TTL_MS / 3);
  return {
    async stop() {
      clearInterval(timer);
      await params.client.del(key).catch(() => undefined);
    },
  };
}

/** Every worker announced now. */
export async function connectedWorkers(client: RedisLike): Promise<WorkerAnnouncement[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, found] = await client.scan(cursor, "MATCH", `${WORKER_KEY_PREFIX}*`, "COUNT", 200);
    cursor = next;
    keys.push(...found);
  } while (cursor !== "0");
  if (keys.length === 0) return [];
  return (await client.mget(...keys)).filter((v): v is string => v !== null).map((v) => JSON.parse(v) as WorkerAnnouncement);
}
