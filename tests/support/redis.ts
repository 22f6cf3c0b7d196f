import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { tempDir } from "./stage-harness.js";

/** Debian's redis-server (.ci/run installs it); CI requires it, elsewhere the queue tests skip without it. */
export const REDIS_SERVER = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].find(existsSync);
if (!REDIS_SERVER && process.env.ARCFORGE_REQUIRE_REDIS === "1")
  throw new Error("ARCFORGE_REQUIRE_REDIS=1 but redis-server is not installed (apt-get install redis-server)");

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** A redis-server of the test's own, on a free loopback port, with nothing saved to disk. */
export async function startRedis(port?: number, extra: string[] = []): Promise<{ url: string; port: number; process: ChildProcess; stop(): Promise<void> }> {
  const chosen = port ?? (await freePort());
  const dir = await tempDir("arcforge-redis-");
  const child = spawn(REDIS_SERVER!, ["--port", String(chosen), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no", ...extra], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  const deadline = Date.now() + 10_000;
  while (!output.includes("Ready to accept connections")) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start: ${output.slice(-500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `redis://127.0.0.1:${chosen}`,
    port: chosen,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      await once(child, "exit");
    },
  };
}
