import { afterEach, describe, expect, it, vi } from "vitest";
import { buildDataset, readFates } from "../../../pipeline/orchestrator/build-dataset.js";
import { TASK_STAGES } from "../../../pipeline/orchestrator/build-stages.js";
import { idleStages } from "../../../pipeline/engine/idle-stages.js";
import { executeStage } from "../../../stages/execute.js";
import { loadTasksStage } from "../../../stages/load-tasks.js";
import { StageStore } from "../../../pipeline/store/stage-store.js";
import { closeKvStore, kvTable } from "../../../pipeline/store/kv-store.js";
import { CacheError } from "../../../pipeline/common/errors.js";
import type { BuildOptions } from "../../../schemas/build-options.js";
import type { BuildManifest } from "../../../schemas/build-manifest.js";
import { demoWorld, tempDir } from "../../support/stage-harness.js";
import { countingExecutor } from "../../support/counting-executor.js";

const TASK_STAGE_NAMES = new Set(TASK_STAGES.map((s) => s.name));

/** One digest lookup per task stage that is not idle (an idle stage is decided with its input). */
const lookupsOf = (options: BuildOptions) => TASK_STAGES.length - idleStages(TASK_STAGES, options).size;

afterEach(() => vi.restoreAllMocks());

/** A build, and the task-stage entries it read before its task stages ended (the writer reads entries after). */
async function build(params: { options: BuildOptions; cacheDir: string; fresh?: boolean }) {
  const readMeta = vi.spyOn(StageStore.prototype, "readMeta");
  const readDigest = vi.spyOn(StageStore.prototype, "readDigest");
  let taskPhase = -1;
  const counter = { programs: 0 };
  const manifest = await buildDataset({
    ...params,
    createExecutor: countingExecutor(counter),
    onEvent: (event) => {
      if (event.type === "stage-end" && event.stage === "tasks") taskPhase = readMeta.mock.calls.length;
    },
  });
  const entriesRead = readMeta.mock.calls.slice(0, taskPhase).filter(([stage]) => TASK_STAGE_NAMES.has(stage));
  const lookups = readDigest.mock.calls.length;
  vi.restoreAllMocks();
  return { manifest, entriesRead, lookups, executed: counter.programs };
}

/** What a stage's entries add up to: its key and rows, without the counts of a run's work. */
const outcome = (r: BuildManifest["stages"][number]) => ({ stage: r.stage, key: r.key, kept: r.kept, dropped: r.dropped });

/** What a report says, without its time. */
const reports = (m: BuildManifest) => m.stages.map(({ ms: _ms, ...rest }) => rest);

describe("stage digests", () => {
  it("decide every task stage of an unchanged build in one lookup each, reading no task's entry, and report what reading every entry reports", async () => {
    const { options } = await demoWorld({ validation: true });
    const cacheDir = await tempDir();
    const cold = await build({ options, cacheDir });
    expect(cold.executed).toBeGreaterThan(0);
    const warm = await build({ options, cacheDir });
    expect(warm.entriesRead).toEqual([]);
    expect(warm.lookups).toBe(lookupsOf(options));
    expect(warm.manifest.outputs.map((o) => o.sha256)).toEqual(cold.manifest.outputs.map((o) => o.sha256));
    // The same cache with no digest found: every task's entries are read and added up, as before digests.
    vi.spyOn(StageStore.prototype, "readDigest").mockReturnValue(undefined);
    const entryByEntry = await buildDataset({ options, cacheDir });
    vi.restoreAllMocks();
    expect(reports(warm.manifest)).toEqual(reports(entryByEntry));
    expect(warm.manifest.stages.filter((r) => TASK_STAGE_NAMES.has(r.stage)).every((r) => !r.ran && r.reason === "cached")).toBe(true);
  });

  it("tell the fates which stages dropped records of a task, so a build decided from them writes the fates of one that ran, reading fewer entries", async () => {
    const { options } = await demoWorld({ validation: true });
    const cacheDir = await tempDir();
    await buildDataset({ options, cacheDir });
    const cold = readFates(options.out);
    expect(new Set(cold.map((f) => f.stage)).size).toBeGreaterThan(3);
    const readMeta = vi.spyOn(StageStore.prototype, "readMeta");
    const out = `${options.out}-warm`;
    await buildDataset({ options: { ...options, out }, cacheDir });
    expect(readFates(out)).toEqual(cold);
    // The writer never reads these stages' entries (their records are rebuilt from later ones), so
    // only the fates do: once per task that the stage dropped records of, not once per task.
    const tasks = new Set(readMeta.mock.calls.filter(([stage]) => stage === "load-tasks").map(([, key]) => key)).size;
    const early = new Set(["decontaminate", "clean-code", "filter-transductive", "execute"]);
    const reads = readMeta.mock.calls.filter(([stage]) => early.has(stage)).length;
    expect(reads).toBeGreaterThan(0);
    expect(reads).toBeLessThan(tasks * early.size);
  });

  it("decide a stage whose key reads only the options from its upstreams' digests, without a key per task", async () => {
    const { options } = await demoWorld({ validation: true });
    const cacheDir = await tempDir();
    await build({ options, cacheDir });
    const perTask = vi.spyOn(loadTasksStage, "key");
    const optionsOnly = vi.spyOn(executeStage, "key");
    const warm = await buildDataset({ options, cacheDir });
    const tasks = warm.stages.find((r) => r.stage === "load-tasks")!.tasks!.total;
    expect(tasks).toBeGreaterThan(3);
    // load-tasks reads each task's attempts for its key (once more to find that it does); execute's is asked once for the build.
    expect(perTask.mock.calls.length).toBe(tasks + 1);
    expect(optionsOnly.mock.calls.length).toBe(1);
    expect(warm.stages.filter((r) => TASK_STAGE_NAMES.has(r.stage)).every((r) => !r.ran)).toBe(true);
    // A changed option of such a stage is a changed digest: it and the stages after it run.
    const changed = await buildDataset({ options: { ...options, dropIdentity: !options.dropIdentity }, cacheDir });
    expect(changed.stages.filter((r) => r.ran).map((r) => r.stage)).toEqual([
      "filter-degenerate",
      "dedup",
      "near-dedup",
      "against",
      "select",
      "pair",
      "balance",
      "split",
    ]);
  });

  it("decide the stages before a changed rule in one lookup each and run the rest, to the bytes of a fresh build", async () => {
    const { options } = await demoWorld({ validation: true });
    const cacheDir = await tempDir();
    await build({ options, cacheDir });
    const rebuild = await build({ options: { ...options, dedup: false }, cacheDir });
    expect(rebuild.executed).toBe(0);
    expect(rebuild.manifest.stages.filter((s) => s.ran).map((s) => s.stage)).toEqual(["dedup", "near-dedup", "against", "select", "pair", "balance", "split"]);
    // Eight stages looked up and decided (filter-augment, idle, with its input), and dedup looked up and not found.
    expect(rebuild.lookups).toBe(9);
    const fresh = await buildDataset({ options: { ...options, dedup: false, out: `${options.out}-fresh` }, cacheDir: await tempDir() });
    expect(rebuild.manifest.outputs.map((o) => o.sha256)).toEqual(fresh.outputs.map((o) => o.sha256));
    // Decided or run, each stage adds up to what a fresh build counts.
    expect(rebuild.manifest.stages.map(outcome)).toEqual(fresh.stages.map(outcome));
  });

  it("are forgotten when an entry they stand for is removed, so the next build finds each task's entries itself", async () => {
    const { options } = await demoWorld();
    const cacheDir = await tempDir();
    const first = await build({ options, cacheDir });
    const store = new StageStore(cacheDir);
    const relabel = [...kvTable<unknown>(cacheDir, "stages").getKeys({ start: "relabel/", end: "relabel0" })][0]!;
    store.begin({ stage: "relabel", key: relabel.split("/")[1]!, folder: false });
    await store.close();
    await closeKvStore(cacheDir);
    const next = await build({ options, cacheDir });
    // The first stage's digest is looked up and not found.
    expect(next.lookups).toBe(1);
    expect(next.manifest.stages.filter((s) => s.ran).map((s) => s.stage)).toContain("relabel");
    expect(next.manifest.stages.find((s) => s.stage === "relabel")!.tasks).toEqual({
      ran: 1,
      total: first.manifest.stages.find((s) => s.stage === "relabel")!.tasks!.total,
    });
    expect(next.manifest.outputs.map((o) => o.sha256)).toEqual(first.manifest.outputs.map((o) => o.sha256));
    expect((await build({ options, cacheDir })).lookups).toBe(lookupsOf(options));
  });

  it("standing for an entry deleted behind the store's back, fail the build naming the entry and --fresh, which mends the cache", async () => {
    const { options } = await demoWorld();
    const cacheDir = await tempDir();
    const first = await build({ options, cacheDir });
    const table = kvTable<unknown>(cacheDir, "stages");
    const select = [...table.getKeys({ start: "select/", end: "select0" })].filter((k) => k.endsWith("/m"));
    for (const key of select) await table.remove(key);
    await closeKvStore(cacheDir);
    const error = await buildDataset({ options, cacheDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CacheError);
    expect((error as Error).message).toMatch(/the select output of task \S+ \(key \w+\) .* is gone or unreadable; run the build again with --fresh/);
    const fresh = await build({ options, cacheDir, fresh: true });
    expect(fresh.manifest.outputs.map((o) => o.sha256)).toEqual(first.manifest.outputs.map((o) => o.sha256));
    const after = await build({ options, cacheDir });
    expect(after.lookups).toBe(lookupsOf(options));
    expect(after.manifest.outputs.map((o) => o.sha256)).toEqual(first.manifest.outputs.map((o) => o.sha256));
  });
});
