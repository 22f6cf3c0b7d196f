import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { CacheError } from "../common/errors.js";

/**
 * One build at a time per cache directory: a second one refuses with the holder's pid. A lock
 * left by a process that no longer exists (kill -9) is taken over.
 */
export function lockCache(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number(readFileSync(path, "utf8").trim());
      if (holder && isAlive(holder)) {
        throw new CacheError(`another arcforge build (pid ${holder}) is using the cache ${dir}; wait for it, or give this build its own --cache-dir`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new CacheError(`could not lock the cache ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
