import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { PythonRuntime } from "./find-python.js";
import { cacheKey } from "../common/canonical-json.js";
import { RUNNER_DIR } from "../common/paths.js";
import { SandboxError } from "../common/errors.js";

/** What a user may ask for: landlock is Landlock and seccomp without bubblewrap, even where bubblewrap exists. */
export type IsolationRequest = "auto" | "bubblewrap" | "landlock" | "none";
export const ISOLATION_REQUESTS: readonly IsolationRequest[] = ["auto", "bubblewrap", "landlock", "none"];

/** What stands between a program and the machine, as actually in force. */
export type Isolation = "bubblewrap" | "docker" | "landlock+seccomp" | "none";

/**
 * Everything that can change a verdict besides the program, its input and the limits: two
 * runtimes with the same fingerprint give the same outcomes, and the execution cache never lets
 * one runtime's verdicts answer for another's.
 */
export interface RuntimeFingerprint {
  /** sha256 of the runner's files. */
  runner: string;
  python: string;
  numpy: string;
  /** What programs can import, relative to sys.prefix (workers with Python installed elsewhere still match). */
  paths: string[];
  /** Versions of packages programs import (numpy, scipy when installed). */
  packages: Record<string, string>;
  backend: string;
  isolation: Isolation;
  /** random and numpy.random seeds, and PYTHONHASHSEED. */
  seeds: { random: number; numpy: number; hash: number };
}

/** The runner's files by content, so editing any of them invalidates every cached outcome. */
export const RUNNER_HASH = cacheKey(
  readdirSync(RUNNER_DIR)
    .filter((name) => name.endsWith(".py"))
    .sort()
    .map((name) => [name, readFileSync(join(RUNNER_DIR, name), "utf8")]),
).slice(0, 16);

/** The parts of a fingerprint the interpreter decides. */
export const pythonParts = (python: PythonRuntime) => ({
  python: python.version,
  numpy: python.numpy,
  paths: python.runtimePaths.map((p) => relative(python.prefix, p) || "."),
  packages: python.packages,
});

export const seedsFor = (seed: number): RuntimeFingerprint["seeds"] => ({ random: seed, numpy: seed, hash: seed });

/** Ids by the fingerprint's JSON text: a build names the same few runtimes once per task and stage. */
const idsByText = new Map<string, string>();
const IDS_HELD = 64;

/** A short, readable name for a fingerprint: its backend, isolation and a digest. */
export function fingerprintId(fingerprint: RuntimeFingerprint): string {
  const text = JSON.stringify(fingerprint);
  let id = idsByText.get(text);
  if (id === undefined) {
    id = `${fingerprint.backend}-${fingerprint.isolation.replace("+", "-")}-${cacheKey(fingerprint).slice(0, 12)}`;
    if (idsByText.size >= IDS_HELD) idsByText.clear();
    idsByText.set(text, id);
  }
  return id;
}

/** The isolation a runner's hello shows, given how it was started. */
export function isolationInForce(params: { layers: Record<string, unknown>; container: "bubblewrap" | "docker" | null }): Isolation {
  const { layers, container } = params;
  const landlockAndSeccomp = Number(layers.landlock_abi) > 0 && layers.seccomp === true;
  if (container === "docker") return "docker";
  if (container === "bubblewrap" && layers.uid === 65534) return "bubblewrap";
  return landlockAndSeccomp ? "landlock+seccomp" : "none";
}

/**
 * The isolation a process backend will have, from what this machine offers. Fails closed: weak
 * isolation is refused unless the user asked for it by name (--isolation none).
 */
export function planIsolation(params: { requested: IsolationRequest; bubblewrap: boolean; landlockAbi: number; seccomp: boolean }): {
  isolation: Isolation;
  warnings: string[];
} {
  const { requested, bubblewrap } = params;
  if (requested === "bubblewrap" && !bubblewrap) {
    throw new SandboxError("isolation 'bubblewrap' was asked for, but bwrap is missing or cannot create namespaces here (apt-get install bubblewrap)");
  }
  const layered = params.landlockAbi > 0 && params.seccomp;
  if (requested === "landlock" && !layered) {
    throw new SandboxError(
      `isolation 'landlock' was asked for, but ${params.landlockAbi > 0 ? "libseccomp.so.2 cannot be loaded (apt-get install libseccomp2)" : "the kernel offers no Landlock"}`,
    );
  }
  const isolation: Isolation = bubblewrap && requested !== "none" && requested !== "landlock" ? "bubblewrap" : layered ? "landlock+seccomp" : "none";
  const missing = [
    requested === "none" ? "bubblewrap was switched off (--isolation none)" : "bubblewrap is missing or cannot create namespaces here",
    ...(params.landlockAbi > 0 ? [] : ["the kernel offers no Landlock"]),
    ...(params.seccomp ? [] : ["libseccomp.so.2 cannot be loaded"]),
  ];
  if (isolation === "none" && requested !== "none") {
    throw new SandboxError(
      `refusing to run untrusted programs without isolation: ${missing.join("; ")}. ` +
        "Install bubblewrap (apt-get install bubblewrap), or run on a kernel with Landlock and libseccomp2, or use --executor docker; " +
        "--isolation none runs them anyway, as your own user",
    );
  }
  const warnings: string[] = [];
  if (isolation === "landlock+seccomp" && requested === "auto")
    warnings.push("bubblewrap is not available: programs run under Landlock, seccomp and rlimits only, as the current user");
  if (isolation === "none") warnings.push(`programs run WITHOUT isolation, as the current user (${missing.join("; ")})`);
  return { isolation, warnings };
}
