import { openAsBlob, readFileSync, writeFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createRepo, uploadFiles } from "@huggingface/hub";
import { ParquetFile } from "parquet-wasm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDataset, builtRows } from "../../pipeline/orchestrator/build-dataset.js";
import { DEMO_TASKS, writeDemoData } from "../../pipeline/orchestrator/demo-data.js";
import { createProcessExecutor } from "../../pipeline/executor/process-pool.js";
import type { Executor } from "../../pipeline/executor/types.js";
import { guardEndpoint } from "../../pipeline/hub/endpoint-guard.js";
import { pushDataset } from "../../pipeline/hub/push-dataset.js";
import type { TransferMeter } from "../../pipeline/hub/range-blob.js";
import { writeParquet } from "../../pipeline/parquet/parquet-writer.js";
import { validateDataset } from "../../pipeline/validate/validate-dataset.js";
import { arrowSchema, COLUMNS } from "../../schemas/arrow.js";
import type { BuildOptions } from "../../schemas/build-options.js";
import type { Grid } from "../../schemas/grid.js";
import { startHubEmulator, type HubEmulator } from "../hub-emulator/hub-emulator.js";
import { demoWorld, tempDir } from "../support/stage-harness.js";

const TOKEN = "hf_arcforge_datasets_token";
const ROWS = 50_000;
const SHARDS = 4;
const ROW_GROUP = 1000;

/** Programs on demo tasks, each with the same rule in TypeScript to compute what it outputs. */
const PROGRAMS: { task: string; code: string; rule: (g: Grid) => Grid }[] = [
  { task: "a1b2c3d4", code: "def transform(g):\n    return [row[::-1] for row in g]", rule: (g) => g.map((r) => [...r].reverse()) },
  { task: "a1b2c3d4", code: "def transform(g):\n    return [[c for c in row] for row in g][::-1]", rule: (g) => [...g].reverse() },
  {
    task: "b2c3d4e5",
    code: "def transform(g):\n    return [[2 if c == 1 else c for c in row] for row in g]",
    rule: (g) => g.map((r) => r.map((c) => (c === 1 ? 2 : c))),
  },
  { task: "c3d4e5f6", code: "def transform(g):\n    return [list(r) for r in zip(*g)]", rule: (g) => g[0]!.map((_, c) => g.map((r) => r[c]!)) },
  { task: "c3d4e5f6", code: "def transform(g):\n    return [row[::-1] for row in g]", rule: (g) => g.map((r) => [...r].reverse()) },
  { task: "9a8b7c6d", code: "def transform(g):\n    return g + g", rule: (g) => [...g, ...g] },
];
const equal = (a: Grid, b: Grid | undefined) => JSON.stringify(a) === JSON.stringify(b);

function soarRow(k: number): Record<string, unknown> {
  const p = PROGRAMS[k % PROGRAMS.length]!;
  const task = DEMO_TASKS[p.task]!.task;
  const train = task.train.map((e) => p.rule(e.input));
  const test = task.test.map((e) => p.rule(e.input));
  return {
    code: p.code,
    correct_train_input: train.map((g, i) => equal(g, task.train[i]!.output)),
    predicted_train_output: train,
    correct_test_input: test.map((g, i) => equal(g, task.test[i]!.output)),
    predicted_test_output: test,
    task_id: p.task,
    model: "m",
    generation: 0,
  };
}

let hub: HubEmulator;
let shardDir: string;
let tasksRoot: string;
let executor: Executor;

beforeAll(async () => {
  hub = await startHubEmulator({ dataDir: await tempDir("arcforge-hub-") });
  shardDir = await tempDir("arcforge-soar-");
  await mkdir(join(shardDir, "data"));
  const perShard = ROWS / SHARDS;
  for (let s = 0; s < SHARDS; s++) {
    const rows = Array.from({ length: perShard }, (_, i) => soarRow(s * perShard + i));
    await writeParquet({
      path: join(shardDir, "data", `train-0000${s}-of-0000${SHARDS}.parquet`),
      schema: arrowSchema("soar"),
      kinds: COLUMNS.soar.map(([, kind]) => kind),
      rows,
      rowGroupRows: ROW_GROUP,
    });
  }
  const credentials = { accessToken: TOKEN, hubUrl: hub.url };
  await createRepo({ repo: { type: "dataset", name: "arc/soar-50k" }, ...credentials });
  const files = await Promise.all(
    Array.from({ length: SHARDS }, async (_, s) => ({
      path: `data/train-0000${s}-of-0000${SHARDS}.parquet`,
      content: await openAsBlob(join(shardDir, "data", `train-0000${s}-of-0000${SHARDS}.parquet`)),
    })),
  );
  await uploadFiles({ repo: { type: "dataset", name: "arc/soar-50k" }, files, ...credentials });
  ({ tasks: tasksRoot } = await writeDemoData(join(await tempDir(), "demo")));
  executor = createProcessExecutor({ workers: 2, timeoutSeconds: 1 });
}, 300_000);
afterAll(async () => {
  await executor?.close();
  await hub?.close();
});

describe("validating a large Hub dataset by streaming", () => {
  it("reads only the first shard's footer (metadata and page index) and the row group that holds the first 1000 rows", async () => {
    hub.served.clear();
    const meter: TransferMeter = { bytes: 0, requests: 0 };
    const { summary } = await validateDataset({
      target: "arc/soar-50k",
      split: "all",
      limit: 1000,
      tasksRoot,
      dataset: "arc-agi-1",
      hubUrl: hub.url,
      token: TOKEN,
      executor,
      meter,
    });
    expect(summary.rowsProcessed).toBe(1000);
    expect(summary.rows.ok).toBe(1000);
    const first = join(shardDir, "data", "train-00000-of-00004.parquet");
    const bytes = readFileSync(first);
    const file = await ParquetFile.fromFile(await openAsBlob(first));
    const groups = file.metadata().rowGroups();
    // Everything after the last row group's data: the page index, the file metadata and its length.
    const footer = bytes.length - 4 - groups.reduce((n, g) => n + g.compressedSize(), 0);
    expect(groups[0]!.numRows()).toBe(ROW_GROUP);
    const needed = footer + groups[0]!.compressedSize();
    file.free();
    expect([...hub.served.keys()]).toEqual(["data/train-00000-of-00004.parquet"]);
    const ranges = hub.requests.filter((r) => r.path.includes("train-00000") && r.headers.range).map((r) => r.headers.range);
    expect(
      hub.served.get("data/train-00000-of-00004.parquet"),
      `ranges ${ranges.join(" ")}; footer ${footer}, group 0 ${groups[0]!.compressedSize()}, group 1 ${groups[1]!.compressedSize()}, file ${bytes.length}`,
    ).toBeLessThanOrEqual(needed);
    expect(meter.bytes).toBe(hub.served.get("data/train-00000-of-00004.parquet"));
  }, 300_000);
});

describe("building from program datasets", () => {
  it("gives the same rows from a Hub SOAR dataset as from the equivalent run logs", async () => {
    const { dir, options } = await demoWorld();
    const logs = join(dir, "equivalent-logs");
    await mkdir(logs);
    for (const [t, task] of [...new Set(PROGRAMS.map((p) => p.task))].entries()) {
      const attempts = PROGRAMS.filter((p) => p.task === task).map((p) => ({
        attempt_number: PROGRAMS.indexOf(p) + 1,
        program_extracted: true,
        program: p.code,
      }));
      await writeFile(
        join(logs, `20250101_00000${t}_1_1_${task}.json`),
        JSON.stringify({
          task_id: task,
          model: "m",
          api_type: "chat_completions_independent_attempts",
          independent_attempts_data: { attempt_details: attempts },
        }),
      );
    }
    const base: BuildOptions = { ...options, logs: [logs] };
    const fromLogs = { ...base, out: join(dir, "from-logs") };
    const fromHub: BuildOptions = { ...base, logs: [], from: ["arc/soar-50k"], fromLimit: PROGRAMS.length, out: join(dir, "from-hub") };
    const cacheA = await tempDir();
    const cacheB = await tempDir();
    await buildDataset({ options: fromLogs, cacheDir: cacheA });
    hub.served.clear();
    const manifest = await buildDataset({ options: fromHub, cacheDir: cacheB, hub: { hubUrl: hub.url, token: TOKEN } });
    const [a] = await builtRows({ options: fromLogs, cacheDir: cacheA });
    const [b] = await builtRows({ options: fromHub, cacheDir: cacheB, hub: { hubUrl: hub.url, token: TOKEN } });
    // The same rows; each names the attempt it came from: a log's, or the Hub row's.
    const withoutAttempt = (rows: Record<string, unknown>[]) => rows.map(({ attempt_id: _attempt, ...row }) => row);
    expect(withoutAttempt(b!.formatted)).toEqual(withoutAttempt(a!.formatted));
    expect(a!.formatted.every((r) => /^equivalent-logs\/.+\.json#\d+$/.test(String(r.attempt_id)))).toBe(true);
    expect(b!.formatted.every((r) => /^arc\/soar-50k:train:\d+$/.test(String(r.attempt_id)))).toBe(true);
    expect(manifest.datasets).toEqual([
      { source: "arc/soar-50k", revision: expect.stringMatching(/^[0-9a-f]{40}$/), schema: "soar", shards: 4, rows: PROGRAMS.length },
    ]);
    expect([...hub.served.keys()]).toEqual(["data/train-00000-of-00004.parquet"]);
    const fates = readFileSync(join(fromHub.out, "fates.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { attempt_id: string; provenance?: { source: string; split: string; row: number } });
    expect(fates).toHaveLength(PROGRAMS.length);
    expect(fates.find((f) => f.attempt_id === "arc/soar-50k:train:0")!.provenance).toMatchObject({ source: "arc/soar-50k", split: "train", row: 0 });
    expect(JSON.parse(readFileSync(join(fromHub.out, "manifest.json"), "utf8"))).not.toHaveProperty("fates");
  }, 300_000);

  it("merges an earlier arcforge output (generation 1) with new logs (generation 0), deduplicating across them", async () => {
    const { dir, options } = await demoWorld();
    const gen1 = { ...options, generation: 1, out: join(dir, "gen1") };
    const cache1 = await tempDir();
    await buildDataset({ options: gen1, cacheDir: cache1 });
    const [earlier] = await builtRows({ options: gen1, cacheDir: cache1 });
    const solver = earlier!.formatted.find((r) => (r.correct_test_input as boolean[]).every(Boolean))!;
    // New logs: one program the earlier output already has (same task, same code), one new.
    const logs = join(dir, "new-logs");
    await mkdir(logs);
    const fresh = "def transform(g):\n    return [[9 for _ in row] for row in g]";
    const attempts = [solver.code, fresh].map((program, k) => ({ attempt_number: k + 1, program_extracted: true, program }));
    await writeFile(
      join(logs, `20260101_000000_1_1_${String(solver.task_id)}.json`),
      JSON.stringify({
        task_id: solver.task_id,
        model: "m",
        api_type: "chat_completions_independent_attempts",
        independent_attempts_data: { attempt_details: attempts },
      }),
    );
    const merged: BuildOptions = { ...options, logs: [logs], from: [gen1.out], out: join(dir, "merged") };
    const cacheDir = await tempDir();
    const manifest = await buildDataset({ options: merged, cacheDir });
    const [train] = await builtRows({ options: merged, cacheDir });
    const rows = train!.formatted;
    const copies = rows.filter((r) => r.task_id === solver.task_id && r.code === solver.code);
    expect(copies).toHaveLength(1);
    expect(copies[0]!.generation).toBe(0);
    expect(rows.filter((r) => String(r.code).trim() === fresh)).toMatchObject([{ generation: 0 }]);
    expect(rows.filter((r) => r.generation === 1)).toHaveLength(earlier!.formatted.length - 1);
    expect(manifest.attempts.dropped.duplicate_code).toBeGreaterThanOrEqual(1);
    expect(manifest.datasets[0]).toMatchObject({ source: gen1.out, schema: "flat", rows: earlier!.formatted.length });
  }, 300_000);

  it("names the missing columns of a Parquet that is not a program dataset", async () => {
    const dir = await tempDir();
    await writeParquet({
      path: join(dir, "x.parquet"),
      schema: arrowSchema("messages"),
      kinds: ["messages"],
      rows: [{ messages: [{ role: "user", content: "hi" }] }],
    });
    const { options } = await demoWorld();
    await expect(buildDataset({ options: { ...options, logs: [], from: [join(dir, "x.parquet")] }, cacheDir: await tempDir() })).rejects.toThrow(
      /not a program dataset: it has no column code or task_id \(it has: messages\)/,
    );
  });
});

describe("pushing safely", () => {
  it("commits exactly once when the answer to an applied commit is lost", async () => {
    const { options } = await demoWorld();
    await buildDataset({ options, cacheDir: await tempDir() });
    await pushDataset({ dir: options.out, repo: "arc/lost-answer", token: TOKEN, hubUrl: hub.url, retry: { baseDelayMs: 10 } });
    const repo = hub.store.get("dataset", "arc/lost-answer")!;
    const before = repo.commits.length;
    writeFileSync(join(options.out, "README.md"), `${readFileSync(join(options.out, "README.md"), "utf8")}\nA second version of the card.\n`);
    hub.faults.push({ method: "POST", path: /\/commit\//, status: "drop-after", times: 1 });
    const result = await pushDataset({ dir: options.out, repo: "arc/lost-answer", token: TOKEN, hubUrl: hub.url, retry: { baseDelayMs: 10 } });
    expect(hub.store.get("dataset", "arc/lost-answer")!.commits.length).toBe(before + 1);
    expect(result.commit).toBe(hub.store.head(hub.store.get("dataset", "arc/lost-answer")!).oid);
  });

  it("refuses a folder whose split files are not what its manifest says the build wrote", async () => {
    const { options } = await demoWorld();
    await buildDataset({ options, cacheDir: await tempDir() });
    const split = join(options.out, "data", "train-00000-of-00001.parquet");
    writeFileSync(split, Buffer.concat([readFileSync(split), Buffer.from("tampered")]));
    await expect(pushDataset({ dir: options.out, repo: "arc/tampered", token: TOKEN, hubUrl: hub.url })).rejects.toThrow(
      /train-00000-of-00001\.parquet differs from the file the build wrote/,
    );
    expect(hub.store.get("dataset", "arc/tampered")).toBeUndefined();
  });

  it("never sends the token over plain http to another machine unless --allow-http", async () => {
    const requests: string[] = [];
    const spy: typeof fetch = async (input) => {
      requests.push(String(input));
      return new Response("{}", { status: 500 });
    };
    expect(() => guardEndpoint({ url: "http://hub.example.org", token: TOKEN })).toThrow(
      /refusing to send your token to http:\/\/hub\.example\.org over plain http/,
    );
    expect(() => guardEndpoint({ url: "http://127.0.0.1:8765", token: TOKEN })).not.toThrow();
    expect(() => guardEndpoint({ url: "http://hub.example.org", token: TOKEN, allowHttp: true })).not.toThrow();
    expect(() => guardEndpoint({ url: "https://hub.example.org", token: TOKEN })).not.toThrow();
    await expect(
      validateDataset({ target: "arc/anything", split: "all", dataset: "arc-agi-1", hubUrl: "http://hub.example.org", token: TOKEN, fetch: spy, executor }),
    ).rejects.toThrow(/plain http/);
    expect(requests).toEqual([]);
  });
});
