import { execFile } from "node:child_process";
import { existsSync, lstatSync, readlinkSync } from "node:fs";
import { promisify } from "node:util";
import type { PythonRuntime } from "./find-python.js";
import { sandboxMounts } from "./visible-paths.js";

const run = promisify(execFile);
export const RUNNER_DIR_IN_SANDBOX = "/arcforge";
export const RUNNER_IN_SANDBOX = `${RUNNER_DIR_IN_SANDBOX}/runner.py`;

/**
 * bubblewrap arguments that show the runner nothing of the host but the Python runtime and
 * shared libraries, in fresh namespaces (no network), as uid 65534 with no capabilities.
 */
export function bubblewrapArgs(params: { python: PythonRuntime; runnerDir: string; protect: string[] }): string[] {
  const args = [
    "--unshare-all",
    "--unshare-user",
    "--uid",
    "65534",
    "--gid",
    "65534",
    "--die-with-parent",
    "--new-session",
    "--cap-drop",
    "ALL",
    "--clearenv",
    "--dev",
    "/dev",
    "--proc",
    "/proc",
    "--ro-bind",
    "/usr",
    "/usr",
  ];
  for (const top of ["/lib", "/lib64", "/bin"]) {
    if (!existsSync(top)) continue;
    if (lstatSync(top).isSymbolicLink()) args.push("--symlink", readlinkSync(top), top);
    else args.push("--ro-bind", top, top);
  }
  const { binds, masks } = sandboxMounts({ python: params.python, protect: params.protect });
  for (const path of binds) args.push("--ro-bind", path, path);
  for (const path of masks) if (existsSync(path)) args.push("--tmpfs", path);
  args.push("--ro-bind", params.runnerDir, RUNNER_DIR_IN_SANDBOX);
  return args;
}

let usable: Promise<string | null> | undefined;

/** The bwrap binary when it can create namespaces here, else null (then Landlock and seccomp stand alone). */
export function findBubblewrap(): Promise<string | null> {
  usable ??= run("bwrap", ["--unshare-all", "--unshare-user", "--die-with-parent", "--ro-bind", "/", "/", "true"], { timeout: 10_000 })
    .then(() => "bwrap")
    .catch(() => null);
  return usable;
}
