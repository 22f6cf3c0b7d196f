import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { existsSync } from "node:fs";
import { clearCache, foreignEntries } from "../store/cache-layout.js";
import { lockCache } from "../store/cache-lock.js";

interface Usage {
  entries: number;
  bytes: number;
}

async function usage(dir: string): Promise<Usage> {
  let entries = 0;
  let bytes = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])) {
    if (!entry.isFile()) continue;
    entries++;
    bytes += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return { entries, bytes };
}

/** Per stage: completed entries and size; per execution namespace: cached outcomes and size. */
export async function cacheStats(cacheDir: string) {
  // Stage entries (one per task for the task stages) and outcomes live in LMDB, loaded only here.
  const [{ execCacheStats }, { closeKvStore }, { StageStore }] = await Promise.all([
    import("../store/exec-cache.js"),
    import("../store/kv-store.js"),
    import("../store/stage-store.js"),
  ]);
  const stored = existsSync(join(cacheDir, "store.lmdb"));
  const inStore = stored ? new StageStore(cacheDir).usage() : {};
  const stages: Record<string, Usage & { completed: number }> = {};
  for (const stage of new Set([...(await readdir(join(cacheDir, "stages")).catch(() => [] as string[])), ...Object.keys(inStore)])) {
    // Its own files (task shards), and its records in the store.
    const files = await usage(join(cacheDir, "stages", stage));
    stages[stage] = { entries: files.entries, bytes: files.bytes + (inStore[stage]?.bytes ?? 0), completed: inStore[stage]?.completed ?? 0 };
  }
  const executions = stored ? execCacheStats(cacheDir) : {};
  await closeKvStore(cacheDir);
  return { cacheDir, stages, executions, total: await usage(cacheDir) };
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

export function registerCacheCommand(program: Command): void {
  const cache = program.command("cache").description("inspect or clear the stage and execution cache");
  cache
    .command("stats")
    .description("entries and size per stage, cached outcomes per runtime fingerprint")
    .option("--cache-dir <dir>", "cache folder", ".arcforge-cache")
    .option("--json", "print as JSON")
    .action(async (options: { cacheDir: string; json?: boolean }) => {
      const stats = await cacheStats(options.cacheDir);
      if (options.json) return void process.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
      process.stdout.write(`${options.cacheDir}: ${mib(stats.total.bytes)} in ${stats.total.entries} files\n`);
      for (const [stage, s] of Object.entries(stats.stages))
        process.stdout.write(`  stage ${stage.padEnd(20)} ${String(s.completed).padStart(4)} entries  ${mib(s.bytes)}\n`);
      for (const [ns, byFingerprint] of Object.entries(stats.executions)) {
        for (const [id, s] of Object.entries(byFingerprint)) process.stdout.write(`  ${`${ns} ${id}`.padEnd(52)} ${String(s.outcomes).padStart(8)} outcomes\n`);
      }
    });
  cache
    .command("clear")
    .description("delete arcforge's entries in a cache folder (never the folder, never anything else)")
    .option("--cache-dir <dir>", "cache folder", ".arcforge-cache")
    .action(async (options: { cacheDir: string }) => {
      if (!existsSync(options.cacheDir)) return void process.stdout.write(`${options.cacheDir} does not exist: nothing to clear\n`);
      // Refused before taking the lock: a folder that is not a cache gets no lock file either.
      if (foreignEntries(options.cacheDir).length > 0) clearCache(options.cacheDir);
      const before = await usage(options.cacheDir);
      const unlock = lockCache(options.cacheDir);
      try {
        clearCache(options.cacheDir);
      } finally {
        unlock();
      }
      process.stdout.write(`cleared ${options.cacheDir} (${mib(before.bytes)})\n`);
    });
}
