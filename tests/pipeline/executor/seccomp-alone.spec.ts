import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findPython } from "../../../pipeline/executor/find-python.js";
import { SandboxServer, runnerArgs } from "../../../pipeline/executor/sandbox-server.js";
import { RUNNER_PATH } from "../../../pipeline/common/paths.js";
import { tempDir } from "../../support/stage-harness.js";

/** Defence in depth: with Landlock off (an older kernel), seccomp and rlimits must still hold. */
describe("the runner with seccomp and rlimits alone", () => {
  let server: SandboxServer;
  let dir: string;

  beforeAll(async () => {
    dir = await tempDir();
    const python = await findPython();
    server = SandboxServer.fromProcess({
      runner: {
        command: python.executable,
        args: ["-s", "-S", RUNNER_PATH, "--no-landlock", ...runnerArgs({ timeoutSeconds: 0.5, memoryBytes: 1 << 30 }, 0, python.sitePaths)],
        env: { PYTHONHASHSEED: "0", PYTHONDONTWRITEBYTECODE: "1" },
      },
      label: "test runner",
    });
    expect((await server.hello).layers.landlock_abi).toBe(0);
  });
  afterAll(() => server.close());

  it.each([
    ["creates a file", (p: string) => `open(${JSON.stringify(p)}, "w")`],
    ["appends to a file", (p: string) => `open(${JSON.stringify(p)}, "a")`],
    ["creates a file with os.open", (p: string) => `__import__("os").open(${JSON.stringify(p)}, __import__("os").O_CREAT | __import__("os").O_RDONLY)`],
  ])("refuses a program that %s", async (_name, statement) => {
    const path = join(dir, `${_name.replace(/\W/g, "-")}.txt`);
    const outcomes = await server.execute({ code: `def transform(g):\n    ${statement(path)}\n    return g`, inputs: [[[1]]] });
    expect(outcomes.get(0)).toMatchObject({ status: "error", message: expect.stringContaining("PermissionError") });
    expect(existsSync(path)).toBe(false);
  });

  it("still lets a program read what it imports", async () => {
    const outcomes = await server.execute({ code: "import fractions\ndef transform(g):\n    return [[int(fractions.Fraction(3, 1))]]", inputs: [[[1]]] });
    expect(outcomes.get(0)).toMatchObject({ status: "ok", grid: [[3]] });
  });
});
