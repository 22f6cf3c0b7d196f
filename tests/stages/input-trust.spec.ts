import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildDataset, builtRows, readFates } from "../../pipeline/orchestrator/build-dataset.js";
import { writeParquet } from "../../pipeline/parquet/parquet-writer.js";
import { arrowSchema, COLUMNS } from "../../schemas/arrow.js";
import type { BuildOptions } from "../../schemas/build-options.js";
import type { ArcTask } from "../../schemas/task.js";
import { tempDir } from "../support/stage-harness.js";
import { MIRROR, MIRROR_CODE, tinyWorld } from "../support/tiny-world.js";

/** A forged copy whose outputs are the inputs tiled twice: a wrong program would look right. */
const tile = (g: number[][]) => g.map((r) => [...r, ...r]);
const FORGED: ArcTask = { train: MIRROR.train.map((e) => ({ input: e.input, output: tile(e.input) })), test: [{ input: [[7, 8]], output: tile([[7, 8]]) }] };
const TILE_CODE = "def transform(g):\n    return [list(r) + list(r) for r in g]";

/** An all_attempts log that embeds `task` as its task_data. */
async function embeddingLog(params: { dir: string; name: string; task: ArcTask; codes: string[]; taskId?: string; dataset?: string }) {
  await mkdir(params.dir, { recursive: true });
  const log = {
    task_id: params.taskId ?? "aaaaaaaa",
    model: "third-party",
    api_type: "all_attempts",
    ...(params.dataset !== undefined ? { dataset: params.dataset } : {}),
    task_data: params.task,
    attempt_details: params.codes.map((program, k) => ({ attempt_number: k + 1, program_extracted: true, program })),
  };
  await writeFile(join(params.dir, params.name), JSON.stringify(log));
}

async function build(options: BuildOptions) {
  const cacheDir = await tempDir("arcforge-cache-");
  const manifest = await buildDataset({ options, cacheDir });
  const fates = new Map(readFates(options.out).map((f) => [f.attempt_id, f]));
  return { manifest, fates, rows: async () => (await builtRows({ options, cacheDir }))[0]!.formatted };
}

describe("the task file is the authority over tasks embedded in the inputs", () => {
  it("drops a log's attempts as task_mismatch when its task_data differs, and labels every other attempt by the file", async () => {
    const { dir, options } = await tinyWorld({ tasks: { aaaaaaaa: MIRROR }, programs: [{ task: "aaaaaaaa", code: MIRROR_CODE }] });
    await embeddingLog({ dir: join(dir, "third-party"), name: "20250902_000000_forged.json", task: FORGED, codes: [TILE_CODE, `${MIRROR_CODE}\n`] });
    const { manifest, fates, rows } = await build({ ...options, logs: [...options.logs, join(dir, "third-party")] });
    const forged = [...fates.values()].filter((f) => f.attempt_id.includes("forged"));
    expect(forged.map((f) => f.fate)).toEqual(["task_mismatch", "task_mismatch"]);
    expect(forged[0]!.detail).toMatch(/the task in third-party\/20250902_000000_forged\.json does not match .*aaaaaaaa\.json: train output 0 differs/);
    const [row] = await rows();
    expect(row).toMatchObject({
      code: `${MIRROR_CODE}\n`,
      correct_train_input: [true, true],
      correct_test_input: [true],
      train_output: MIRROR.train.map((e) => e.output),
      test_output: [[[8, 7]]],
    });
    expect(manifest.tasks_taken_on_trust).toEqual([]);
  });

  it("drops a flat Parquet row whose stored task differs from the file, and keeps one that agrees", async () => {
    const { dir, options } = await tinyWorld({ tasks: { aaaaaaaa: MIRROR }, programs: [] });
    const row = (task: ArcTask, code: string) => ({
      reasoning: "",
      code,
      correct_train_input: [true, true],
      train_input: task.train.map((e) => e.input),
      train_output: task.train.map((e) => e.output),
      predicted_train_output: task.train.map((e) => e.output),
      correct_test_input: [true],
      test_input: [[[7, 8]]],
      test_output: [task.test[0]!.output!],
      predicted_test_output: [task.test[0]!.output!],
      task_id: "aaaaaaaa",
      model: "m",
      generation: 0,
      dataset: "arc-agi-1",
    });
    const path = join(dir, "train.parquet");
    await writeParquet({
      path,
      schema: arrowSchema("flat"),
      kinds: COLUMNS.flat.map(([, kind]) => kind),
      rows: [row(FORGED, TILE_CODE), row(MIRROR, MIRROR_CODE)],
    });
    const { fates, rows } = await build({ ...options, logs: [], from: [path] });
    expect(fates.get(`${path}:train:0`)).toMatchObject({ fate: "task_mismatch" });
    expect(fates.get(`${path}:train:1`)).toMatchObject({ fate: "kept:train" });
    expect((await rows()).map((r) => r.code)).toEqual([`${MIRROR_CODE}\n`]);
  });

  it("without a task file, takes one embedded task on trust and says so, and drops both sides of a conflict", async () => {
    const dir = await tempDir("arcforge-trust-");
    await embeddingLog({ dir: join(dir, "logs"), name: "20250901_000000_a.json", task: MIRROR, codes: [MIRROR_CODE] });
    await embeddingLog({ dir: join(dir, "logs"), name: "20250901_000001_b.json", task: MIRROR, codes: [MIRROR_CODE], taskId: "bbbbbbbb" });
    await embeddingLog({ dir: join(dir, "logs"), name: "20250901_000002_c.json", task: FORGED, codes: [TILE_CODE], taskId: "bbbbbbbb" });
    const { tinyOptions } = { tinyOptions: (await tinyWorld({ tasks: {}, programs: [] })).options };
    const options = { ...tinyOptions, tasks: undefined, logs: [join(dir, "logs")], out: join(dir, "out") };
    const { manifest, fates } = await build(options);
    expect(manifest.tasks_taken_on_trust).toEqual(["arc-agi-1/aaaaaaaa"]);
    expect(fates.get("logs/20250901_000000_a.json#1")!.fate).toBe("kept:train");
    expect(fates.get("logs/20250901_000001_b.json#1")).toMatchObject({
      fate: "task_conflict",
      detail: expect.stringMatching(/2 different versions of arc-agi-1\/bbbbbbbb/),
    });
    expect(fates.get("logs/20250901_000002_c.json#1")!.fate).toBe("task_conflict");
    const card = readFileSync(join(options.out, "README.md"), "utf8");
    expect(card).toMatch(/tasks taken on trust: 1 had no task file, so the task their inputs embedded was used: arc-agi-1\/aaaaaaaa/);
    expect(card).toContain("decontamination: off (no task files (--tasks or ARC_DATA): tasks were not checked against any evaluation split)");
  });
});

describe("names in inputs are names, never paths", () => {
  it("records a log whose dataset is a path as malformed, and never reads outside --tasks", async () => {
    const { dir, options } = await tinyWorld({ tasks: { aaaaaaaa: MIRROR }, programs: [{ task: "aaaaaaaa", code: MIRROR_CODE }] });
    // A task file outside the task folder that an identity program would solve.
    const outside = join(dir, "elsewhere", "training");
    await mkdir(outside, { recursive: true });
    await writeFile(join(outside, "aaaaaaaa.json"), JSON.stringify({ train: [{ input: [[1]], output: [[1]] }], test: [{ input: [[2]], output: [[2]] }] }));
    const logs = join(dir, "hostile");
    await mkdir(logs);
    const log = {
      task_id: "aaaaaaaa",
      model: "m",
      api_type: "chat_completions_independent_attempts",
      dataset: "../elsewhere",
      independent_attempts_data: { attempt_details: [{ program: "def transform(g):\n    return g" }] },
    };
    await writeFile(join(logs, "20250901_000000_hostile.json"), JSON.stringify(log));
    const { manifest } = await build({ ...options, logs: [...options.logs, logs] });
    const fate = manifest.logs.find((l) => l.file.includes("hostile"))!;
    expect(fate).toMatchObject({ kept: false, reason: "malformed_log", detail: expect.stringMatching(/dataset "\.\.\/elsewhere" is not a name/) });
  });

  it("refuses --dataset that is not a name", async () => {
    const { options } = await tinyWorld({ tasks: { aaaaaaaa: MIRROR }, programs: [] });
    const { toBuildOptions } = await import("../../pipeline/commands/build-cli.js");
    expect(() => toBuildOptions({ logs: ["logs"], out: options.out, format: "flat", dataset: "../x" } as never)).toThrow(/--dataset "\.\.\/x" is not a name/);
  });
});

describe("hostile sizes are recorded, not fatal", () => {
  it("records a log over --max-log-bytes as malformed without reading it, and builds the rest", async () => {
    const { dir, options } = await tinyWorld({ tasks: { aaaaaaaa: MIRROR }, programs: [{ task: "aaaaaaaa", code: MIRROR_CODE }] });
    const big = join(dir, "big");
    await mkdir(big);
    // Not even JSON: a file over the limit must not be read at all.
    await writeFile(join(big, "20250901_000000_big.json"), "x".repeat(3 * 2 ** 20));
    const { manifest } = await build({ ...options, logs: [...options.logs, big], maxLogBytes: 2 ** 20 });
    expect(manifest.logs.find((l) => l.file.includes("big"))).toMatchObject({
      kept: false,
      reason: "malformed_log",
      detail: `${3 * 2 ** 20} bytes, over --max-log-bytes ${2 ** 20}: not read`,
    });
    expect(manifest.outputs[0]!.rows).toBe(1);
  });

  it("drops a code cell over 1 MiB as malformed_attempt", async () => {
    const huge = `${MIRROR_CODE}\n${"# padding\n".repeat(110_000)}`;
    const { options } = await tinyWorld({
      tasks: { aaaaaaaa: MIRROR },
      programs: [
        { task: "aaaaaaaa", code: MIRROR_CODE },
        { task: "aaaaaaaa", code: huge },
      ],
    });
    const { fates } = await build(options);
    expect([...fates.values()].map((f) => f.fate).sort()).toEqual(["kept:train", "malformed_attempt"]);
    expect([...fates.values()].find((f) => f.fate === "malformed_attempt")!.detail).toMatch(/a program of \d+ bytes, over the 1048576-byte cap/);
  });
});

describe("--tasks checked before anything runs", () => {
  it("says which level to give when the folder is one level too deep or too shallow", async () => {
    const { dir, options } = await tinyWorld({ tasks: { aaaaaaaa: MIRROR }, programs: [{ task: "aaaaaaaa", code: MIRROR_CODE }] });
    const cacheDir = await tempDir();
    await expect(buildDataset({ options: { ...options, tasks: join(dir, "tasks", "arc-agi-1") }, cacheDir })).rejects.toThrow(
      new RegExp(`one level too deep: .*give its parent, ${join(dir, "tasks")}`),
    );
    await expect(buildDataset({ options: { ...options, tasks: dir }, cacheDir })).rejects.toThrow(
      new RegExp(`one level too shallow: the datasets are in ${join(dir, "tasks")}`),
    );
    await expect(buildDataset({ options: { ...options, tasks: join(dir, "nowhere") }, cacheDir })).rejects.toThrow(/does not exist/);
  });

  it("never replays a missing task's reason, with the folder it named, from the cache", async () => {
    const { dir, options } = await tinyWorld({
      tasks: { aaaaaaaa: MIRROR },
      programs: [
        { task: "aaaaaaaa", code: MIRROR_CODE },
        { task: "bbbbbbbb", code: MIRROR_CODE },
      ],
    });
    const cacheDir = await tempDir();
    await buildDataset({ options, cacheDir });
    const other = join(dir, "other-tasks");
    (await import("node:fs")).cpSync(join(dir, "tasks"), other, { recursive: true });
    await buildDataset({ options: { ...options, tasks: other, out: join(dir, "out2") }, cacheDir });
    const missing = readFates(join(dir, "out2")).find((f) => f.fate === "task_not_found")!;
    expect(missing.detail).toContain(other);
  });
});
