import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The package root, found the same way from sources (tests) and from dist/ (the CLI). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`arcforge: package.json not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

/** The sandbox runner: runner.py and the modules beside it, mounted or copied as one folder. */
export const RUNNER_DIR = join(packageRoot(), "docker", "runner");
export const RUNNER_PATH = join(RUNNER_DIR, "runner.py");
