import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildDataset, readFates } from "../../pipeline/orchestrator/build-dataset.js";
import { readJsonLinesSync } from "../../pipeline/common/json-lines.js";
import type { Grid } from "../../schemas/grid.js";
import type { ArcTask } from "../../schemas/task.js";
import { tempDir } from "../support/stage-harness.js";
import { tinyWorld } from "../support/tiny-world.js";
import type { TaskLine } from "../../schemas/build-manifest.js";

/** A distinct grid per seed: its width (3 + seed) tells it from every other, rotated or not. */
const grid = (seed: number): Grid => Array.from({ length: 2 + (seed % 3) }, (_, r) => Array.from({ length: 3 + seed }, (_, c) => (r * 3 + c * 5 + r * c) % 4));
/** The evaluation task: four distinct input grids, outputs the inputs mirrored. */
const mirror = (g: Grid) => g.map((row) => [...row].reverse());
const EVAL: ArcTask = { train: [1, 2, 3].map((k) => ({ input: grid(k), output: mirror(grid(k)) })), test: [{ input: grid(4), output: mirror(grid(4)) }] };
const rotate = (g: Grid): Grid => g[0]!.map((_, c) => g.map((row) => row[c]!).reverse());
const recolour = (g: Grid): Grid => g.map((row) => row.map((c) => (c === 0 ? 0 : ((c + 2) % 9) + 1)));
const mapTask = (t: ArcTask, f: (g: Grid) => Grid): ArcTask => ({
  train: t.train.map((e) => ({ input: f(e.input), output: f(e.output) })),
  test: t.test.map((e) => ({ input: f(e.input), output: e.output && f(e.output) })),
});

const TRAINING: Record<string, ArcTask> = {
  "10000001": EVAL, // renamed
  "10000002": mapTask(EVAL, rotate),
  "10000003": mapTask(EVAL, recolour),
  "10000004": { train: EVAL.train.slice(1), test: EVAL.test }, // one train pair removed
  "10000005": {
    train: [
      { input: grid(1), output: [[1]] },
      { input: grid(9), output: [[1]] },
      { input: grid(10), output: [[1]] },
    ],
    test: [{ input: grid(11), output: [[1]] }],
  }, // one grid of four
  "10000006": { train: [{ input: grid(12), output: [[1]] }], test: [{ input: grid(13), output: [[1]] }] },
};
const CODE = "def transform(g):\n    return [row[::-1] for row in g]";

async function world(options = {}) {
  const { dir, options: base } = await tinyWorld({
    tasks: TRAINING,
    programs: [...Object.keys(TRAINING), "e0000000"].map((task) => ({ task, code: CODE })),
    options,
  });
  mkdirSync(join(dir, "tasks", "arc-agi-1", "evaluation"), { recursive: true });
  writeFileSync(join(dir, "tasks", "arc-agi-1", "evaluation", "e0000000.json"), JSON.stringify(EVAL));
  return { dir, options: base };
}

describe("decontamination by grid content", () => {
  it("drops renamed, rotated, recoloured and trimmed copies of an evaluation task, keeps an overlap and marks the evaluation task itself", async () => {
    const { options } = await world();
    const manifest = await buildDataset({ options, cacheDir: await tempDir() });
    const fates = new Map(readFates(options.out).map((f) => [f.task_id, f]));
    for (const task of ["10000001", "10000002", "10000003", "10000004"]) {
      expect(fates.get(task), task).toMatchObject({
        fate: "contaminated",
        stage: "decontaminate",
        detail: expect.stringContaining("evaluation task arc-agi-1/e0000000"),
      });
    }
    expect(fates.get("10000005")!.fate).not.toBe("contaminated");
    expect(fates.get("10000006")!.fate).not.toBe("contaminated");
    expect(fates.get("e0000000")!.fate).not.toBe("contaminated");
    const lines = new Map(readJsonLinesSync<TaskLine>(join(options.out, "tasks.jsonl")).map((l) => [l.task_id, l]));
    expect(lines.get("10000002")).toMatchObject({ contamination: "contaminated", matched: "arc-agi-1/e0000000", shared: 4 });
    expect(lines.get("10000005")).toMatchObject({ contamination: "overlap", matched: "arc-agi-1/e0000000", shared: 1 });
    expect(lines.get("10000006")!.contamination).toBeUndefined();
    expect(lines.get("e0000000")).toMatchObject({ contamination: "evaluation_task" });
    expect(manifest.decontamination).toMatchObject({
      against: ["arc-agi-1/evaluation"],
      files: { "arc-agi-1/evaluation/e0000000.json": expect.stringMatching(/^[0-9a-f]{64}$/) },
      evaluation_tasks: ["arc-agi-1/e0000000"],
    });
    expect(manifest.decontamination.contaminated.map((c) => c.task)).toEqual([
      "arc-agi-1/10000001",
      "arc-agi-1/10000002",
      "arc-agi-1/10000003",
      "arc-agi-1/10000004",
    ]);
    expect(manifest.summary.join("\n")).toMatch(
      /decontamination against arc-agi-1\/evaluation .*: 4 tasks contaminated, their 4 programs dropped.*1 tasks sharing fewer grids kept; this build holds 1 evaluation tasks themselves/,
    );
    expect(readFileSync(join(options.out, "README.md"), "utf8")).toContain("4 tasks contaminated");
  });

  it("checks nothing with --decontaminate none, and says so", async () => {
    const { options } = await world({ decontaminate: [] });
    const manifest = await buildDataset({ options, cacheDir: await tempDir() });
    expect(readFates(options.out).some((f) => f.fate === "contaminated")).toBe(false);
    expect(manifest.summary).toContain("decontamination: off (--decontaminate none)");
  });

  it("refuses a split that is not under --tasks, naming the ones that are", async () => {
    const { options } = await world({ decontaminate: ["arc-agi-2/evaluation"] });
    await expect(buildDataset({ options, cacheDir: await tempDir() })).rejects.toThrow(
      /--decontaminate names arc-agi-2\/evaluation, but .* does not exist \(the splits under --tasks: arc-agi-1\/evaluation\)/,
    );
  });
});
