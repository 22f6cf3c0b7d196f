import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Field, Schema, Utf8 } from "apache-arrow";
import { describe, expect, it } from "vitest";
import { buildDataset, readFates } from "../../pipeline/orchestrator/build-dataset.js";
import { writeParquet } from "../../pipeline/parquet/parquet-writer.js";
import { readParquetRows } from "../../pipeline/parquet/read-parquet-rows.js";
import { arrowSchema, COLUMNS } from "../../schemas/arrow.js";
import { rowId } from "../../schemas/program-identity.js";
import type { ArcTask } from "../../schemas/task.js";
import { tempDir } from "../support/stage-harness.js";
import { tinyWorld } from "../support/tiny-world.js";

const MIRROR: ArcTask = {
  train: [
    { input: [[1, 2]], output: [[2, 1]] },
    { input: [[3, 4, 5]], output: [[5, 4, 3]] },
  ],
  test: [{ input: [[6, 7]], output: [[7, 6]] }],
};
const NOTHING = "def transform(g):\n    return g\n";
const HALF = "def transform(g):\n    return [row[::-1] if len(row) == 2 else row for row in g]\n";
const ALL = "def transform(g):\n    return [row[::-1] for row in g]\n";
const FAILS = "def transform(g):\n    return g[5]\n";

async function rows(path: string) {
  const found: Record<string, unknown>[] = [];
  for await (const row of readParquetRows({ path })) found.push(row);
  return found;
}

describe("a refinement build", () => {
  it("pairs a conversation's improving turns, refined_from_id links (executing code_original; none to a parent failing verification), and hindsight, deduplicated", async () => {
    const { dir, options } = await tinyWorld({ tasks: { aaaaaaaa: MIRROR, bbbbbbbb: MIRROR }, programs: [] });
    const logs = join(dir, "logs");
    mkdirSync(logs, { recursive: true });
    const turns = [NOTHING, "def transform(g):\n    raise ValueError('no')\n", HALF, ALL].map((program) => ({ program, program_extracted: true }));
    writeFileSync(
      join(logs, "20250901_000000_conversation_aaaaaaaa.json"),
      JSON.stringify({ task_id: "aaaaaaaa", model: "m", api_type: "multiturn", multiturn_data: { turn_details: turns } }),
    );
    const schema = new Schema([
      ...arrowSchema("flat").fields,
      new Field("row_id", new Utf8(), true),
      new Field("refined_from_id", new Utf8(), true),
      new Field("code_original", new Utf8(), true),
    ]);
    const flat = (code: string, id: string, from: string, original: string | null) => ({
      reasoning: "",
      code,
      correct_train_input: [false, false],
      train_input: MIRROR.train.map((e) => e.input),
      train_output: MIRROR.train.map((e) => e.output),
      predicted_train_output: [[[0]], [[0]]],
      correct_test_input: [false],
      test_input: [[[6, 7]]],
      test_output: [[[7, 6]]],
      predicted_test_output: [[[0]]],
      task_id: "bbbbbbbb",
      model: "m",
      generation: 0,
      dataset: "arc-agi-1",
      row_id: id,
      refined_from_id: from,
      code_original: original,
    });
    const table = join(dir, "train.parquet");
    await writeParquet({
      path: table,
      schema,
      kinds: [...COLUMNS.flat.map(([, k]) => k), "string?", "string?", "string?"],
      rows: [
        flat(ALL, "U1", "U0", NOTHING),
        flat(HALF, "U2", "U2", null),
        // A parent present in the table that fails verification: its child gets no pair.
        flat(FAILS, "U3", "", null),
        flat(`${ALL}# refined\n`, "U4", "U3", null),
      ],
    });
    const out = join(dir, "pairs");
    const manifest = await buildDataset({
      options: { ...options, logs: [logs], from: [table], out, format: "refinement", pairs: ["multiturn", "refined", "hindsight"] },
      cacheDir: await tempDir(),
    });
    const written = await rows(join(out, "data", "train-00000-of-00001.parquet"));
    const pairs = written.map(
      (r) => `${r.task_id} ${r.pair_source}: ${String(r.code_original).split("\n")[1]!.trim()} > ${String(r.code).split("\n")[1]!.trim()}`,
    );
    expect(pairs).toEqual([
      "aaaaaaaa multiturn: return g > return [row[::-1] if len(row) == 2 else row for row in g]",
      "aaaaaaaa multiturn: return [row[::-1] if len(row) == 2 else row for row in g] > return [row[::-1] for row in g]",
      "aaaaaaaa hindsight: return g > return [row[::-1] for row in g]",
      "bbbbbbbb refined: return g > return [row[::-1] for row in g]",
      "bbbbbbbb hindsight: return [row[::-1] if len(row) == 2 else row for row in g] > return [row[::-1] for row in g]",
    ]);
    expect(written[0]).toMatchObject({
      refined_from_id: rowId({ dataset: "arc-agi-1", taskId: "aaaaaaaa", code: NOTHING }),
      correct_train_input_original: [false, false],
      predicted_train_output_original: [[[1, 2]], [[3, 4, 5]]],
      correct_train_input: [true, false],
    });
    const pair = manifest.stages.find((s) => s.stage === "pair")!;
    expect(pair.counts).toMatchObject({
      pairs: 5,
      pairs_multiturn: 2,
      pairs_hindsight: 2,
      pairs_refined: 1,
      pair_dropped_duplicate_pair: 1,
      pair_dropped_self_link: 1,
      pair_dropped_parent_missing: 1,
    });
    const fates = new Map(readFates(out).map((f) => [f.attempt_id, f.fate]));
    expect(fates.get("logs/20250901_000000_conversation_aaaaaaaa.json#2")).toBe("train_error");
    expect(fates.get("logs/20250901_000000_conversation_aaaaaaaa.json#4")).toBe("kept:train");
    expect(fates.get(`${table}:train:1`)).toBe("kept:train");
    expect(fates.get(`${table}:train:2`)).toBe("train_error");
  });

  it("reads later turns of multi-turn logs only for pairs: a default build still drops them", async () => {
    const { dir, options } = await tinyWorld({ tasks: { aaaaaaaa: MIRROR }, programs: [] });
    const logs = join(dir, "logs");
    mkdirSync(logs, { recursive: true });
    writeFileSync(
      join(logs, "20250901_000000_c_aaaaaaaa.json"),
      JSON.stringify({ task_id: "aaaaaaaa", model: "m", api_type: "multiturn", multiturn_data: { turn_details: [{ program: HALF }, { program: ALL }] } }),
    );
    await buildDataset({ options: { ...options, logs: [logs] }, cacheDir: await tempDir() });
    expect(
      readFates(options.out)
        .map((f) => f.fate)
        .sort(),
    ).toEqual(["kept:train", "multiturn_later_turn"]);
  });
});
