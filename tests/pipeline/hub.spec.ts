import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDataset, builtRows } from "../../pipeline/orchestrator/build-dataset.js";
import type { BuildOptions } from "../../schemas/build-options.js";
import { defaultRepoName } from "../../pipeline/commands/push-cli.js";
import { createProcessExecutor } from "../../pipeline/executor/process-pool.js";
import type { Executor } from "../../pipeline/executor/types.js";
import { pushDataset, type PushEvent } from "../../pipeline/hub/push-dataset.js";
import { validateDataset } from "../../pipeline/validate/validate-dataset.js";
import { startHubEmulator, type HubEmulator } from "../hub-emulator/hub-emulator.js";
import { requireTestPython } from "../support/python.js";
import { demoWorld, tempDir } from "../support/stage-harness.js";
import type { BuildManifest } from "../../schemas/build-manifest.js";

const run = promisify(execFile);
const TOKEN = "hf_arcforge_test_token_7c1e";

let hub: HubEmulator;
let options: BuildOptions;
let cacheDir: string;
let manifest: BuildManifest;
let executor: Executor;

async function python(args: string[]): Promise<string> {
  const env = {
    ...process.env,
    HF_ENDPOINT: hub.url,
    HF_TOKEN: TOKEN,
    HF_HUB_DISABLE_XET: "1",
    HF_HOME: join(await tempDir(), "hf-home"),
    HF_HUB_DISABLE_PROGRESS_BARS: "1",
  };
  const { stdout } = await run(requireTestPython(), [join(process.cwd(), "tests", "support", "hub_client.py"), ...args], { env, maxBuffer: 1 << 28 });
  return stdout;
}

const push = (repo: string, extra: Partial<Parameters<typeof pushDataset>[0]> = {}) =>
  pushDataset({ dir: options.out, repo, token: TOKEN, hubUrl: hub.url, retry: { baseDelayMs: 10 }, ...extra });

beforeAll(async () => {
  hub = await startHubEmulator({ dataDir: await tempDir("arcforge-hub-") });
  ({ options } = await demoWorld({ validation: true }));
  cacheDir = await tempDir();
  manifest = await buildDataset({ options, cacheDir });
  executor = createProcessExecutor({ workers: 2 });
});
afterAll(async () => {
  await executor.close();
  await hub.close();
});

describe("pushing to the Hub", () => {
  it("pushes a built dataset that Python datasets loads with every value intact", async () => {
    const result = await push("arc/demo-push");
    expect(result.url).toBe(`${hub.url}/datasets/arc/demo-push`);
    const loaded = JSON.parse(await python(["load", "arc/demo-push"])) as Record<string, unknown[]>;
    const meant = await builtRows({ options, cacheDir });
    expect(Object.keys(loaded).sort()).toEqual(["train", "validation"]);
    for (const split of meant) expect(loaded[split.split]).toEqual(split.formatted);
  });

  it("puts the card and every split in one commit", async () => {
    await push("arc/one-commit");
    const repo = hub.store.get("dataset", "arc/one-commit")!;
    expect(repo.commits).toHaveLength(2);
    expect(Object.keys(hub.store.head(repo).files).sort()).toEqual([
      ".gitattributes",
      "README.md",
      "data/train-00000-of-00001.parquet",
      "data/validation-00000-of-00001.parquet",
      "fates.jsonl",
      "manifest.json",
      "report.html",
      "tasks.jsonl",
    ]);
  });

  it.each([429, 500, "drop"] as const)("retries a push that meets %s and succeeds", async (status) => {
    hub.faults.push({ method: "POST", path: /\/commit\/main$/, status, times: 2 });
    const events: PushEvent[] = [];
    await push(`arc/retry-${status}`, { onEvent: (e) => events.push(e) });
    expect(events.filter((e) => e.type === "retry")).toHaveLength(2);
    expect(hub.store.get("dataset", `arc/retry-${status}`)!.commits).toHaveLength(2);
  });

  it("leaves the repo at its previous revision when a push keeps failing, and never shows the token", async () => {
    // An earlier build is on the Hub: this push has something to commit.
    await push("arc/keeps-failing", { dir: join(await rebuildWithoutValidation(), "out") });
    const before = hub.store.head(hub.store.get("dataset", "arc/keeps-failing")!).oid;
    hub.faults.push({ method: "POST", path: /\/commit\/main$/, status: 500, times: 100 });
    const failure = await push("arc/keeps-failing", { retry: { attempts: 3, baseDelayMs: 5 } }).catch((e: Error) => e);
    hub.faults.length = 0;
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/committing to arc\/keeps-failing failed \(HTTP 500\)/);
    expect(String((failure as Error).stack)).not.toContain(TOKEN);
    expect(hub.store.head(hub.store.get("dataset", "arc/keeps-failing")!).oid).toBe(before);
  });

  it("retries a commit conflict on the new head", async () => {
    await push("arc/conflict", { dir: join(await rebuildWithoutValidation(), "out") });
    hub.faults.push({ method: "POST", path: /\/commit\/main$/, status: 412, times: 1 });
    const events: PushEvent[] = [];
    await push("arc/conflict", { onEvent: (e) => events.push(e) });
    expect(events.some((e) => e.type === "conflict")).toBe(true);
    expect(hub.store.get("dataset", "arc/conflict")!.commits).toHaveLength(3);
  });

  it("creates private repos that others cannot see", async () => {
    await push("arc/private", { private: true });
    const anonymous = await fetch(`${hub.url}/api/datasets/arc/private`);
    expect(anonymous.status).toBe(404);
    expect(anonymous.headers.get("x-error-code")).toBe("RepoNotFound");
  });

  it("names the default repo synth_<dataset>_<subset>_<YYYYMMDD_HHMMSS> after what the logs hold", () => {
    const now = new Date("2026-11-25T20:34:13Z");
    expect(manifest.source).toEqual({ datasets: ["arc-agi-1", "arc-agi-2"], subsets: ["demo", "unknown"] });
    expect(defaultRepoName({ org: "me", manifest, now })).toBe("me/synth_mixed_mixed_20261125_203413");
    expect(defaultRepoName({ org: "me", manifest: { ...manifest, options: { ...manifest.options, dataset: "arc-agi-2", subset: "demo" } }, now })).toBe(
      "me/synth_arc-agi-2_demo_20261125_203413",
    );
    expect(defaultRepoName({ org: "me", manifest: { ...manifest, source: { datasets: ["arc-agi-1"], subsets: ["middle_training_10"] } }, now })).toBe(
      "me/synth_arc-agi-1_middle_training_10_20261125_203413",
    );
  });

  it("keeps the token out of everything the CLI prints, even on failure", async () => {
    const cli = join(process.cwd(), "dist", "pipeline", "commands", "cli.js");
    const ok = await run(process.execPath, [cli, "push", options.out, "--repo", "arc/cli-push", "--hub-url", hub.url], {
      env: { ...process.env, HF_TOKEN: TOKEN },
    });
    expect(ok.stdout).toContain(`pushed ${options.out} to ${hub.url}/datasets/arc/cli-push`);
    const bad = await run(process.execPath, [cli, "push", options.out, "--repo", "arc/cli-push", "--hub-url", "http://127.0.0.1:9", "--token", TOKEN]).catch(
      (e: { stdout: string; stderr: string; code: number }) => e,
    );
    expect((bad as { code: number }).code).toBe(1);
    for (const text of [ok.stdout, ok.stderr, (bad as { stdout: string }).stdout, (bad as { stderr: string }).stderr]) expect(text).not.toContain(TOKEN);
    expect(JSON.stringify(manifest)).not.toContain(TOKEN);
  });
});

describe("validating a Hub dataset written by other tools", () => {
  it("downloads a pyarrow dataset pushed by huggingface_hub and reports a tampered row by row and example", async () => {
    const [train] = await builtRows({ options: { ...options, validation: false }, cacheDir: await rebuildWithoutValidation() });
    const rows = structuredClone(train!.formatted) as Record<string, unknown>[];
    const tampered = 3;
    (rows[tampered]!.predicted_train_output as number[][][])[1] = [
      [9, 9],
      [9, 9],
    ];
    const file = join(await tempDir(), "rows.json");
    await writeFile(file, JSON.stringify(rows));
    await python(["upload", "tools/pyarrow-set", file, await tempDir()]);

    const { summary, reports } = await validateDataset({
      target: "tools/pyarrow-set",
      split: "all",
      dataset: "arc-agi-1",
      hubUrl: hub.url,
      token: TOKEN,
      executor,
    });
    expect(summary.rowsProcessed).toBe(rows.length);
    expect(summary.rows.mismatch).toBe(1);
    expect(summary.rows.ok).toBe(rows.length - 1);
    expect(reports[tampered]).toMatchObject({ row: tampered, status: "mismatch", problems: ["train 1: stored output differs from the fresh one"] });
    expect(summary.examplesCorrect).toBe(summary.examplesTested - 1);
  });

  it("validates SOAR rows with inputs taken from --tasks, across shards", async () => {
    const { options: soar } = await demoWorld({ format: "soar" });
    await buildDataset({ options: soar, cacheDir: await tempDir() });
    const { summary, reports } = await validateDataset({
      target: soar.out,
      split: "train",
      dataset: "arc-agi-1",
      tasksRoot: soar.tasks,
      hubUrl: hub.url,
      executor,
    });
    // Rows of tasks found only in logs (embedded task_data) or in arc-agi-2 have no inputs in --tasks.
    expect(summary.rows.mismatch + summary.rows.error + summary.rows.timeout).toBe(0);
    expect(summary.rows.ok).toBeGreaterThan(0);
    const missing = reports.find((r) => r.status === "schema" && r.taskId === "e5f6a7b8")!;
    expect(missing.problems).toEqual([
      `no train inputs: the row has no train_input column, and task e5f6a7b8 is not in ${soar.tasks}/arc-agi-1/{training,evaluation}`,
    ]);
  });
});

async function rebuildWithoutValidation(): Promise<string> {
  const dir = await tempDir();
  await buildDataset({ options: { ...options, validation: false, out: join(dir, "out") }, cacheDir: dir });
  return dir;
}
