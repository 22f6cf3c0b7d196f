import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { SandboxError } from "../common/errors.js";

const run = promisify(execFile);

export interface PythonRuntime {
  /** Absolute path of the real interpreter (not a pyenv or asdf shim). */
  executable: string;
  version: string;
  numpy: string;
  /** sys.prefix: runtime paths are recorded relative to it, so a Python installed elsewhere matches. */
  prefix: string;
  prefixes: string[];
  /**
   * The runner's import path beyond the standard library: the interpreter's site-packages (from
   * sysconfig) and numpy's folder. Never PYTHONPATH's other entries, '', the working folder or a
   * .pth's folder.
   */
  sitePaths: string[];
  /** What a program may read of the runtime: the standard library, lib-dynload and sitePaths. */
  runtimePaths: string[];
  /** Versions of the packages programs import that change verdicts (absent when not installed). */
  packages: Record<string, string>;
  /** Landlock ABI the kernel offers (0: none) and whether libseccomp can be loaded: the layers the runner can apply. */
  landlockAbi: number;
  seccomp: boolean;
}

const PROBE = `
import json, sys, sysconfig
try:
    import numpy
except ImportError as e:
    print(json.dumps({"error": "numpy is not importable: %s" % e})); raise SystemExit(0)
import ctypes, os
from importlib import metadata
try:
    landlock = max(0, ctypes.CDLL(None).syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1)))
except Exception:
    landlock = 0
try:
    ctypes.CDLL("libseccomp.so.2")
    seccomp = True
except OSError:
    seccomp = False
paths = sysconfig.get_paths()
site = [paths["purelib"], paths["platlib"]]
numpy_home = os.path.dirname(os.path.dirname(os.path.realpath(numpy.__file__)))
if not any(os.path.realpath(p) == numpy_home for p in site):
    site.append(numpy_home)
site = [p for i, p in enumerate(site) if p not in site[:i] and os.path.isdir(p)]
stdlib = [paths["stdlib"], paths["platstdlib"], os.path.join(paths["platstdlib"], "lib-dynload")]
packages = {}
for name in ("numpy", "scipy"):
    try:
        packages[name] = metadata.version(name)
    except Exception:
        pass
print(json.dumps({
  "landlockAbi": landlock,
  "seccomp": seccomp,
  "executable": os.path.realpath(sys.executable),
  "version": sys.version.split()[0],
  "numpy": numpy.__version__,
  "prefix": sys.prefix,
  "prefixes": sorted({sys.prefix, sys.base_prefix, sys.exec_prefix}),
  "sitePaths": site,
  "runtimePaths": sorted({p for p in stdlib + site if os.path.isdir(p)}),
  "packages": packages,
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
