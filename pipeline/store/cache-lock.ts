import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { CacheError } from "../common/errors.js";
import { markCache } from "./cache-layout.js";

/**
 * One build at a time per cache directory: a second one refuses with the holder's pid. A lock
 * left by a process that no longer exists (kill -9) is taken over.
 */
export function lockCache(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  if (readdirSync(dir).length === 0) markCache(dir);
  return lockFolder({ dir, file: "lock", what: "cache" });
}

/** The same lock on any folder (a build's --out), under a file name of its own. */
export function lockFolder(params: { dir: string; file: string; what: string }): () => void {
  const { dir } = params;
  mkdirSync(dir, { recursive: true });
  const path = join(dir, params.file);
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
        throw new CacheError(
          `another arcforge build (pid ${holder}) is using the ${params.what} ${dir}; wait for it, or give this build its own ${params.what === "cache" ? "--cache-dir" : "--out"}`,
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new CacheError(`could not lock the ${params.what} ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
