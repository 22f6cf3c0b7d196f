import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_BUILD_OPTIONS, type BuildOptions } from "../../schemas/build-options.js";
import { writeDemoData } from "../../pipeline/orchestrator/demo-data.js";
import type { ProgressEvent } from "../../pipeline/common/progress.js";
import { type AnyStage, type StageContext, type StageOutput, stageInputs } from "../../pipeline/engine/stage.js";
import { readTaskShard, type TaskShard } from "../../pipeline/engine/task-shards.js";
import type { Attempt } from "../../schemas/run-log.js";
import type { ArcTask } from "../../schemas/task.js";
import type { Drop } from "../../schemas/drop.js";
import { expandTwins } from "../../schemas/twins.js";

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

/** Runs one stage directly on its chain input and side outputs, with a fresh folder of its own. */
export async function runStage(
  stage: AnyStage<BuildOptions>,
  options: BuildOptions,
  inputs: { input?: StageOutput; sides?: Record<string, StageOutput> },
  ctx: StageContext,
): Promise<StageOutput & { dir: string }> {
  const dir = await tempDir("arcforge-stage-");
  return { ...(await stage.run({ options, upstream: stageInputs(inputs), context: ctx, dir })), dir };
}

/** What a reader wrote to its task shards: every attempt, every attempt drop, and the (first) embedded task by task key. */
export function shardsOf(output: { data?: unknown; dir: string }): { attempts: Attempt[]; drops: Drop[]; embedded: Record<string, ArcTask> } {
  const out = { attempts: [] as Attempt[], drops: [] as Drop[], embedded: {} as Record<string, ArcTask> };
  for (const shard of (output.data as { shards: TaskShard[] }).shards) {
    const content = readTaskShard({ dir: output.dir, file: shard.file });
    // Every attempt, twins too: what a reader read, not how a shard holds it.
    out.attempts.push(...expandTwins(content.attempts));
    out.drops.push(...content.drops);
    const first = Object.values(content.tasks)[0];
    if (first) out.embedded[shard.taskKey] = first;
  }
  return out;
}
