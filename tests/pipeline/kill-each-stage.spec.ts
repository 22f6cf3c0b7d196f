import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUILD_STAGES, buildDataset } from "../../pipeline/orchestrator/build-dataset.js";
import { demoWorld, tempDir } from "../support/stage-harness.js";
import { idleStages } from "../../pipeline/engine/idle-stages.js";
import type { BuildManifest } from "../../schemas/build-manifest.js";

const CLI = join(process.cwd(), "dist", "pipeline", "commands", "cli.js");
const outputs = (dir: string) => (JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as BuildManifest).outputs.map((o) => [o.path, o.sha256]);

describe("a build killed with SIGKILL as each stage starts", () => {
  it("resumes with the same command and writes the bytes an uninterrupted build writes", async () => {
    const { options } = await demoWorld({ validation: true });
    const reference = await buildDataset({ options: { ...options, out: `${options.out}-reference` }, cacheDir: await tempDir() });
    // An idle stage never begins: nothing of it is stored, so there is no moment to kill it in.
    const idle = idleStages(BUILD_STAGES, options);
    for (const stage of BUILD_STAGES.filter((s) => !idle.has(s.name))) {
      const cacheDir = await tempDir();
      const out = `${options.out}-${stage.name}`;
      const args = [
        CLI,
        "build",
        "--logs",
        ...options.logs,
        "--tasks",
        options.tasks!,
        "--out",
        out,
        "--cache-dir",
        cacheDir,
        "--validation",
        "--timeout",
        "0.5",
        "--quiet",
      ];
      const doomed = spawn(process.execPath, args, { stdio: "ignore" });
      const exited = once(doomed, "exit");
      // A stage's folder appears when it begins (its done marker only when it ends): kill then.
      const started = join(cacheDir, "stages", stage.name);
      while (!existsSync(started) && doomed.exitCode === null) await new Promise((r) => setTimeout(r, 2));
      doomed.kill("SIGKILL");
      await exited;
      expect(doomed.signalCode, `the build was still running when ${stage.name} began`).toBe("SIGKILL");
      const resumed = spawn(process.execPath, args, { stdio: "ignore" });
      expect(((await once(resumed, "exit")) as [number])[0], `resuming after a kill in ${stage.name}`).toBe(0);
      expect(outputs(out), `after a kill in ${stage.name}`).toEqual(reference.outputs.map((o) => [o.path, o.sha256]));
    }
  }, 600_000);
});
