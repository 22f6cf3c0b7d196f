import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_BUILD_OPTIONS, type BuildOptions } from "../../schemas/build-options.js";
import { writeDemoData } from "../../pipeline/build/demo-data.js";
import type { ProgressEvent } from "../../pipeline/common/progress.js";
import type { Stage, StageContext, StageOutput } from "../../pipeline/engine/stage.js";

export async function tempDir(prefix = "arcforge-test-"): Promise<string> {
  return mkdtemp(join(process.env.ARCFORGE_TEST_TMP ?? tmpdir(), prefix));
}

/** Demo tasks and logs in a fresh folder, with build options pointing at them. */
export async function demoWorld(overrides: Partial<BuildOptions> = {}): Promise<{ dir: string; options: BuildOptions }> {
  const dir = await tempDir();
  const { tasks, logs } = await writeDemoData(join(dir, "input"));
  const limits = { timeoutSeconds: 0.5, memoryBytes: 1 << 30 };
  return { dir, options: { ...DEFAULT_BUILD_OPTIONS, limits, logs: [logs], tasks, out: join(dir, "out"), ...overrides } };
}

export function context(params: { cacheDir: string; events?: ProgressEvent[] }): StageContext {
  return {
    cacheDir: params.cacheDir,
    fresh: false,
    hub: { hubUrl: "http://127.0.0.1:1" },
    emit: (e) => params.events?.push(e),
    executor: () => Promise.reject(new Error("this stage was not expected to execute programs")),
    fingerprint: () => Promise.reject(new Error("this stage was not expected to need the sandbox's fingerprint")),
  };
}

/** Runs one stage directly on given upstream outputs. */
export function runStage(stage: Stage<BuildOptions>, options: BuildOptions, upstream: Record<string, StageOutput>, ctx: StageContext): Promise<StageOutput> {
  return stage.run({ options, upstream, context: ctx });
}
