import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDataset, readFates } from "../../pipeline/orchestrator/build-dataset.js";
import { toBuildOptions } from "../../pipeline/commands/build-cli.js";
import { pushDataset } from "../../pipeline/hub/push-dataset.js";
import { readParquetRows } from "../../pipeline/parquet/read-parquet-rows.js";
import { validateDataset } from "../../pipeline/validate/validate-dataset.js";
import { createProcessExecutor } from "../../pipeline/executor/process-pool.js";
import { rowId } from "../../schemas/program-identity.js";
import { startHubEmulator, type HubEmulator } from "../hub-emulator/hub-emulator.js";
import { tempDir } from "../support/stage-harness.js";
import { MIRROR, tinyWorld } from "../support/tiny-world.js";

const TOKEN = "hf_arcforge_table_token";
const A = "def transform(g):\n    return [row[::-1] for row in g]";
const B = "def transform(g):\n    return g";
const C = "def transform(g):\n    return [[row[-1]] * len(row) for row in g]";

async function rowsOf(path: string): Promise<Record<string, unknown>[]> {
  const rows = [];
  for await (const row of readParquetRows({ path })) rows.push(row);
  return rows;
}

describe("the verified program table (--format programs)", () => {
  let hub: HubEmulator;
  beforeAll(async () => {
    hub = await startHubEmulator({ dataDir: await tempDir("arcforge-hub-") });
  });
  afterAll(() => hub?.close());

  it("holds one row per task and cleaned code, with its first copy's provenance, its copies and models, and the derived columns", async () => {
    const { options } = await tinyWorld({
      tasks: { aaaaaaaa: MIRROR },
      programs: [
        { task: "aaaaaaaa", code: A, model: "m2", time: "20250902_000000" },
        { task: "aaaaaaaa", code: `${A}  # the same once cleaned`, model: "m1", time: "20250901_000000" },
        { task: "aaaaaaaa", code: A, model: "m1", time: "20250903_000000" },
        { task: "aaaaaaaa", code: B, model: "m1", time: "20250901_000000" },
        { task: "aaaaaaaa", code: C, model: "m3", time: "20250901_000000" },
        { task: "aaaaaaaa", code: "def transform(g):\n    raise ValueError", model: "m1", time: "20250901_000000" },
      ],
      options: { format: "programs" },
    });
    await buildDataset({ options, cacheDir: await tempDir() });
    const rows = await rowsOf(join(options.out, "data", "train-00000-of-00001.parquet"));
    expect(rows.map((r) => r.code)).toEqual([`${A}\n`, `${B}\n`, `${C}\n`]);
    const [a, b, c] = rows;
    expect(a).toMatchObject({
      row_id: rowId({ dataset: "arc-agi-1", taskId: "aaaaaaaa", code: `${A}\n` }),
      attempt_id: "logs/20250901_000000_000001_1_aaaaaaaa.json#1",
      source: "logs/20250901_000000_000001_1_aaaaaaaa.json",
      run_timestamp: "20250901_000000",
      subset: null,
      copies: 3,
      models: ["m1", "m2"],
      model: "m1",
      train_correct: 2,
      test_correct: 1,
      all_train_correct: true,
      all_test_correct: true,
      code_length: A.length + 1,
      max_predicted_height: 2,
      max_predicted_width: 2,
      identity: false,
      single_colour: false,
      fails_augment: null,
    });
    expect(b).toMatchObject({ copies: 1, models: ["m1"], train_correct: 0, all_train_correct: false, identity: true });
    expect(c).toMatchObject({ copies: 1, models: ["m3"], train_correct: 0, single_colour: true, identity: false });
    const fates = readFates(options.out);
    expect(fates.filter((f) => f.fate === "copy").map((f) => f.detail)).toEqual([`same code as ${a!.attempt_id}`, `same code as ${a!.attempt_id}`]);
    expect(fates.filter((f) => f.fate === "kept:train")).toHaveLength(3);
  });

  it("goes to the Hub, validates, and comes back through --from as the same bytes", async () => {
    const { dir, options } = await tinyWorld({
      tasks: { aaaaaaaa: MIRROR, bbbbbbbb: MIRROR },
      programs: [
        { task: "aaaaaaaa", code: A, model: "m1", time: "20250901_000000" },
        { task: "aaaaaaaa", code: A, model: "m2", time: "20250902_000000" },
        { task: "aaaaaaaa", code: C, model: "m2", time: "20250903_000000" },
        { task: "bbbbbbbb", code: B, model: "m3", time: "20250901_000000" },
      ],
      options: { format: "programs" },
    });
    await buildDataset({ options, cacheDir: await tempDir() });
    await pushDataset({ dir: options.out, repo: "arc/programs", token: TOKEN, hubUrl: hub.url, retry: { baseDelayMs: 10 } });
    const executor = createProcessExecutor({ workers: 1, timeoutSeconds: 0.5 });
    try {
      const { summary } = await validateDataset({
        target: "arc/programs",
        split: "all",
        tasksRoot: options.tasks,
        dataset: "arc-agi-1",
        hubUrl: hub.url,
        token: TOKEN,
        executor,
      });
      expect(summary.rows.ok).toBe(3);
    } finally {
      await executor.close();
    }
    const again = { ...options, logs: [], from: ["arc/programs"], out: join(dir, "round-trip") };
    await buildDataset({ options: again, cacheDir: await tempDir(), hub: { hubUrl: hub.url, token: TOKEN } });
    const file = "data/train-00000-of-00001.parquet";
    expect(readFileSync(join(again.out, file)).equals(readFileSync(join(options.out, file)))).toBe(true);
    // Merged with the original logs, copies meet: they are summed, the models united.
    const merged = { ...options, from: ["arc/programs"], out: join(dir, "merged") };
    await buildDataset({ options: merged, cacheDir: await tempDir(), hub: { hubUrl: hub.url, token: TOKEN } });
    const rows = await rowsOf(join(merged.out, file));
    expect(rows.find((r) => r.code === `${A}\n`)).toMatchObject({
      copies: 4,
      models: ["m1", "m2"],
      attempt_id: "logs/20250901_000000_000000_1_aaaaaaaa.json#1",
    });
  });

  it("is refused with --validation or --max-per-task, which cut datasets the table holds uncut", () => {
    expect(() => toBuildOptions({ logs: ["x"], model: [], format: "programs", validation: true } as never)).toThrow(
      /--format programs writes every verified program/,
    );
  });
});
