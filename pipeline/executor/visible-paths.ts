import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { resolve } from "node:path";
import { SandboxError } from "../common/errors.js";
import type { PythonRuntime } from "./find-python.js";

/** `inner` is `outer` or lies below it. */
export const within = (inner: string, outer: string) => inner === outer || inner.startsWith(outer.endsWith("/") ? outer : `${outer}/`);

/**
 * The host folders the sandbox shows: the interpreter's prefixes and runtime paths (never /usr's
 * subfolders, shown whole). A protected folder (the working folder, the home folder, --tasks,
 * --logs, --cache-dir, --out) inside one of them is hidden under an empty tmpfs; a shown folder
 * that is itself protected cannot be hidden without hiding the runtime, and is refused.
 */
export function sandboxMounts(params: { python: PythonRuntime; protect: string[] }): { binds: string[]; masks: string[] } {
  const binds = [...new Set([...params.python.prefixes, ...params.python.runtimePaths])].filter((p) => !p.startsWith("/usr/") && existsSync(p)).sort();
  const shown = ["/usr", "/lib", "/lib64", "/bin", ...binds];
  const masks = new Set<string>();
  for (const guarded of new Set(params.protect)) {
    for (const bind of shown) {
      if (guarded === bind)
        throw new SandboxError(
          `refusing to show ${bind} to programs: it is the Python runtime's folder and also ${describe(guarded)}; move the data, or use a Python installed elsewhere (ARCFORGE_PYTHON)`,
        );
      if (within(guarded, bind)) masks.add(guarded);
    }
  }
  return { binds, masks: [...masks].sort() };
}

const describe = (path: string) => `a folder arcforge protects (${path}: the working folder, home, --tasks, --logs, --cache-dir or --out)`;

/** The folders the runner lets programs read under Landlock (runner.py runtime_paths, seen from here). */
export function landlockReadable(params: { python: PythonRuntime; runnerDir: string }): string[] {
  return [
    ...new Set([...params.python.prefixes, ...params.python.runtimePaths, params.runnerDir, "/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib"]),
  ]
    .filter(existsSync)
    .sort();
}

/**
 * Landlock grants whole folders and cannot hide one inside them: a protected folder inside a
 * folder programs may read is refused, naming both.
 */
export function guardLandlock(params: { python: PythonRuntime; runnerDir: string; protect: string[] }): void {
  for (const readable of landlockReadable(params)) {
    for (const guarded of new Set(params.protect)) {
      if (within(guarded, readable)) {
        throw new SandboxError(
          `refusing to run programs under Landlock: ${describe(guarded)} lies inside ${readable}, which programs may read; move it, or use bubblewrap, which hides it`,
        );
      }
    }
  }
}

/** What is always protected, with what a command adds: the working folder and the home folder. */
export const protectedPaths = (extra: (string | undefined)[] = []) =>
  [process.cwd(), homedir(), ...extra.filter((p): p is string => Boolean(p))].map((p) => resolve(p)).filter((p) => existsSync(p));
