import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { SandboxError } from "../common/errors.js";

const run = promisify(execFile);

export interface PythonRuntime {
  /** Absolute path of the real interpreter (not a pyenv or asdf shim). */
  executable: string;
  version: string;
  numpy: string;
  prefixes: string[];
  /** Directories that must be importable: numpy's site-packages and the rest of sys.path. */
  sitePaths: string[];
  /** Landlock ABI the kernel offers (0: none) and whether libseccomp can be loaded: the layers the runner can apply. */
  landlockAbi: number;
  seccomp: boolean;
}

const PROBE = `
import json, sys
try:
    import numpy
except ImportError as e:
    print(json.dumps({"error": "numpy is not importable: %s" % e})); raise SystemExit(0)
import ctypes, os
try:
    landlock = max(0, ctypes.CDLL(None).syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1)))
except Exception:
    landlock = 0
try:
    ctypes.CDLL("libseccomp.so.2")
    seccomp = True
except OSError:
    seccomp = False
print(json.dumps({
  "landlockAbi": landlock,
  "seccomp": seccomp,
  "executable": os.path.realpath(sys.executable),
  "version": sys.version.split()[0],
  "numpy": numpy.__version__,
  "prefixes": sorted({sys.prefix, sys.base_prefix, sys.exec_prefix}),
  "sitePaths": [p for p in sys.path if p and os.path.isdir(p)],
}))`;

const cache = new Map<string, Promise<PythonRuntime>>();

/**
 * Finds the interpreter behind `python3` once per process: on these machines `python3` on
 * PATH is a shell shim costing ~1.2 s a start, so the sandbox always runs the real one.
 */
export function findPython(params: { python?: string } = {}): Promise<PythonRuntime> {
  const requested = params.python ?? process.env.ARCFORGE_PYTHON ?? "python3";
  let found = cache.get(requested);
  if (!found) {
    found = probe(requested);
    cache.set(requested, found);
    found.catch(() => cache.delete(requested));
  }
  return found;
}

async function probe(python: string): Promise<PythonRuntime> {
  let stdout: string;
  try {
    ({ stdout } = await run(python, ["-c", PROBE], { timeout: 60_000 }));
  } catch (cause) {
    throw new SandboxError(
      `the sandbox needs Python 3 with numpy, but '${python}' could not be run (${(cause as Error).message.split("\n")[0]}); ` +
        "install python3 and numpy, or point ARCFORGE_PYTHON at an interpreter that has numpy",
      { cause },
    );
  }
  const answer = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as PythonRuntime & { error?: string };
  if (answer.error) {
    throw new SandboxError(`the sandbox needs numpy in '${python}': ${answer.error}; install it (pip install numpy) or set ARCFORGE_PYTHON`);
  }
  return answer;
}
