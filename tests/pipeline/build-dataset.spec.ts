import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildDataset, builtRows, readFates } from "../../pipeline/orchestrator/build-dataset.js";
import type { BuildOptions } from "../../schemas/build-options.js";
import { datasetCard } from "../../pipeline/writer/write-dataset.js";
import { findBubblewrap } from "../../pipeline/executor/bubblewrap.js";
import { readBack } from "../support/python.js";
import { demoWorld, tempDir } from "../support/stage-harness.js";
import type { BuildManifest } from "../../schemas/build-manifest.js";

async function build(options: BuildOptions, cacheDir?: string): Promise<BuildManifest> {
  return buildDataset({ options, cacheDir: cacheDir ?? (await tempDir("arcforge-cache-")) });
}

describe("arcforge build on the demo logs", () => {
  let options: BuildOptions;
  let cacheDir: string;
  let manifest: BuildManifest;

  beforeAll(async () => {
    ({ options } = await demoWorld({ validation: true }));
    cacheDir = await tempDir("arcforge-cache-");
    manifest = await build(options, cacheDir);
  });

  it("accounts for every attempt exactly once: kept, or dropped with a reason", () => {
    expect(manifest.attempts.adds_up).toBe(true);
    const dropped = Object.values(manifest.attempts.dropped).reduce((a, b) => a + b, 0);
    expect(manifest.attempts.kept + dropped).toBe(manifest.attempts.total);
    expect(readFates(manifest.options.out).every((f) => f.fate.startsWith("kept:") || f.stage)).toBe(true);
    expect(manifest.attempts.dropped).toMatchObject({
      no_program: 1,
      multiturn_later_turn: 2,
      task_not_found: 1,
      transductive_long_line: 1,
      transductive_test_output: 1,
      train_error: 2,
      train_timeout: 1,
      train_invalid_output: 1,
      duplicate_code: 2,
      duplicate_behaviour: 2,
    });
    expect(
      manifest.logs
        .filter((l) => !l.kept)
        .map((l) => l.reason)
        .sort(),
    ).toEqual(["invalid_json", "summary_file", "unknown_layout"]);
  });

  it("records the sandbox's isolation and runtime fingerprint in the manifest", async () => {
    const expected = (await findBubblewrap()) ? "bubblewrap" : "landlock+seccomp";
    expect(manifest.sandbox).toMatchObject({
      isolation: expected,
      fingerprint: { backend: "process", isolation: expected, seeds: { random: 0, numpy: 0, hash: 0 } },
    });
  });

  it("puts no task in both splits", () => {
    const train = new Set(
      readFates(manifest.options.out)
        .filter((f) => f.fate === "kept:train")
        .map((f) => f.attempt_id),
    );
    const validation = new Set(
      readFates(manifest.options.out)
        .filter((f) => f.fate === "kept:validation")
        .map((f) => f.attempt_id),
    );
    expect(train.size).toBeGreaterThan(0);
    expect(validation.size).toBeGreaterThan(0);
    expect(manifest.outputs.map((o) => o.split)).toEqual(["train", "validation"]);
  });

  it("writes Parquet that pyarrow, datasets and DuckDB read back value for value", async () => {
    const meant = await builtRows({ options, cacheDir });
    for (const split of meant) {
      const back = await readBack([join(options.out, `data/${split.split}-00000-of-00001.parquet`)]);
      expect(back.pyarrow).toEqual(split.formatted);
      expect(back.datasets).toEqual(split.formatted);
      expect(back.duckdb).toEqual(split.formatted);
      expect(back.schema).toContain("train_input: list<item: list<item: list<item: int64>>>");
      expect(back.features).toContain("List(List(List(Value('int64'))))");
    }
    const tasks = new Set(meant.map((s) => new Set(s.formatted.map((r) => r.task_id))));
    const [train, validation] = [...tasks];
    for (const id of validation!) expect(train!.has(id)).toBe(false);
  });

  it("labels rows with the program's own outputs and keeps the real outputs beside them", async () => {
    const [train] = await builtRows({ options, cacheDir });
    const all = [...train!.formatted];
    const wrong = all.find((r) => (r.correct_train_input as boolean[]).includes(false))!;
    expect(wrong.predicted_train_output).not.toEqual(wrong.train_output);
  });

  it("writes the same bytes when the same build runs again from an empty cache", async () => {
    const again = await build({ ...options, out: `${options.out}-again` });
    expect(again.outputs.map((o) => o.sha256)).toEqual(manifest.outputs.map((o) => o.sha256));
    expect(await readFile(join(`${options.out}-again`, "README.md"), "utf8")).toBe(await readFile(join(options.out, "README.md"), "utf8"));
  });

  it("writes a dataset card whose YAML names the splits", async () => {
    const card = await readFile(join(options.out, "README.md"), "utf8");
    expect(card).toMatch(
      /^---\n[\s\S]*\nconfigs:\n- config_name: default\n {2}data_files:\n {2}- split: train\n {4}path: data\/train-\*\n {2}- split: validation\n {4}path: data\/validation-\*\n/,
    );
    expect(card).toMatch(/\ntask_categories:\n- text-generation\nsize_categories:\n- n<1K\n/);
    expect(card).toMatch(/\npretty_name: ".+"\n/);
    expect(card).not.toMatch(/\nlicense:/);
    expect(card).toContain("report.html");
    expect(datasetCard({ title: "t", options: { ...options, license: "cc-by-4.0" }, splits: [], summary: [], models: [] })).toMatch(
      /^---\nlicense: cc-by-4.0\n/,
    );
    expect(card).toContain("REAL train outputs");
  });
});

describe("output formats", () => {
  it("writes the 8 SOAR columns", async () => {
    const { options } = await demoWorld({ format: "soar" });
    await build(options);
    const back = await readBack([join(options.out, "data/train-00000-of-00001.parquet")]);
    expect(Object.keys(back.pyarrow[0]!)).toEqual([
      "code",
      "correct_train_input",
      "predicted_train_output",
      "correct_test_input",
      "predicted_test_output",
      "task_id",
      "model",
      "generation",
    ]);
  });

  it("writes chat messages from the relabelled task, with reasoning only for test-solving programs", async () => {
    const { options } = await demoWorld({ format: "messages", reasoning: true });
    const cacheDir = await tempDir();
    await build(options, cacheDir);
    const back = await readBack([join(options.out, "data/train-00000-of-00001.parquet")]);
    const [meant] = await builtRows({ options, cacheDir });
    expect(back.datasets).toEqual(meant!.formatted);
    const messages = back.pyarrow.map((r) => r.messages as { role: string; content: string }[]);
    expect(messages.every((m) => m.map((x) => x.role).join() === "system,user,assistant")).toBe(true);
    const withThinking = messages.filter((m) => m[2]!.content.startsWith("<think>\nEach row is mirrored.\n</think>"));
    expect(withThinking).toHaveLength(1);
    expect(messages[0]![2]!.content).toMatch(/```python\n[\s\S]*def transform[\s\S]*\n```$/);
    expect(messages[0]![1]!.content).toMatch(/## Example 1\nInput \(\d+x\d+\):\n[\d ]+/);
  });

  it("writes OpenAI chat fine-tuning JSONL", async () => {
    const { options } = await demoWorld({ format: "openai" });
    await build(options);
    const lines = (await readFile(join(options.out, "data/train-00000-of-00001.jsonl"), "utf8")).trim().split("\n");
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(Object.keys(JSON.parse(line))).toEqual(["messages"]);
  });

  it("keeps every duplicate with --no-dedup", async () => {
    const { options } = await demoWorld({ dedup: false });
    const manifest = await build(options);
    expect(manifest.attempts.dropped.duplicate_code).toBeUndefined();
    expect(manifest.outputs[0]!.rows).toBe(22);
  });
});
