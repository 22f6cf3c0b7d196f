import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { PythonRuntime } from "../../../pipeline/executor/find-python.js";
import { fingerprintId, pythonParts, type RuntimeFingerprint } from "../../../pipeline/executor/runtime-fingerprint.js";
import { guardLandlock, protectedPaths, sandboxMounts } from "../../../pipeline/executor/visible-paths.js";
import { tempDir } from "../../support/stage-harness.js";

async function runtime(): Promise<{ python: PythonRuntime; root: string }> {
  const root = await tempDir("arcforge-runtime-");
  const prefix = join(root, "python");
  for (const sub of ["lib/python3.11", "lib/python3.11/lib-dynload", "lib/python3.11/site-packages"]) mkdirSync(join(prefix, sub), { recursive: true });
  const python: PythonRuntime = {
    executable: join(prefix, "bin", "python3.11"),
    version: "3.11.7",
    numpy: "2.0.0",
    prefix,
    prefixes: [prefix],
    sitePaths: [join(prefix, "lib/python3.11/site-packages")],
    runtimePaths: ["lib/python3.11", "lib/python3.11/lib-dynload", "lib/python3.11/site-packages"].map((p) => join(prefix, p)),
    packages: { numpy: "2.0.0" },
    landlockAbi: 6,
    seccomp: true,
  };
  return { python, root };
}

describe("what the sandbox shows of the host", () => {
  it("binds the interpreter's prefix and runtime paths, and hides a protected folder inside them", async () => {
    const { python } = await runtime();
    const data = join(python.prefix, "lib/python3.11/site-packages/tasks");
    mkdirSync(data);
    const { binds, masks } = sandboxMounts({ python, protect: [data, "/tmp/elsewhere"] });
    expect(binds).toContain(python.prefix);
    expect(masks).toEqual([data]);
  });

  it("refuses a runtime folder that is itself protected (a venv made in the working folder)", async () => {
    const { python } = await runtime();
    expect(() => sandboxMounts({ python, protect: [python.prefix] })).toThrow(/refusing to show .*python to programs: it is the Python runtime's folder/);
  });

  it("under Landlock, which cannot hide a folder, refuses a protected folder inside a readable one", async () => {
    const { python, root } = await runtime();
    const data = join(python.prefix, "lib/python3.11/tasks");
    mkdirSync(data);
    expect(() => guardLandlock({ python, runnerDir: join(root, "runner"), protect: [data] })).toThrow(
      /refusing to run programs under Landlock: .*tasks.* lies inside .*python/,
    );
    expect(() => guardLandlock({ python, runnerDir: join(root, "runner"), protect: [root] })).not.toThrow();
  });

  it("always protects the working and home folders, and only folders that exist", () => {
    const paths = protectedPaths(["/no/such/folder"]);
    expect(paths).toContain(process.cwd());
    expect(paths).not.toContain("/no/such/folder");
  });
});

describe("the runtime fingerprint", () => {
  it("changes when the paths programs can import from change, and not with where Python is installed", async () => {
    const { python } = await runtime();
    const base = { runner: "r", backend: "process", isolation: "bubblewrap" as const, seeds: { random: 0, numpy: 0, hash: 0 } };
    const fingerprint = (p: PythonRuntime): RuntimeFingerprint => ({ ...base, ...pythonParts(p) });
    const more = { ...python, runtimePaths: [...python.runtimePaths, join(python.prefix, "src")] };
    expect(fingerprintId(fingerprint(more))).not.toBe(fingerprintId(fingerprint(python)));
    const moved = (p: string) => p.replace(python.prefix, "/opt/other-python");
    const elsewhere = { ...python, prefix: moved(python.prefix), runtimePaths: python.runtimePaths.map(moved) };
    expect(fingerprintId(fingerprint(elsewhere))).toBe(fingerprintId(fingerprint(python)));
    expect(fingerprint(python).paths).toEqual(["lib/python3.11", "lib/python3.11/lib-dynload", "lib/python3.11/site-packages"]);
  });
});
