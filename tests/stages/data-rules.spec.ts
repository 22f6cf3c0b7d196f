import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildDataset, builtRows, readFates } from "../../pipeline/orchestrator/build-dataset.js";
import type { BuildOptions } from "../../schemas/build-options.js";
import type { ArcTask } from "../../schemas/task.js";
import { tempDir } from "../support/stage-harness.js";
import { MIRROR, MIRROR_CODE, type TinyProgram, tinyWorld } from "../support/tiny-world.js";
import type { BuildManifest } from "../../schemas/build-manifest.js";

async function build(params: { tasks?: Record<string, ArcTask | [string, ArcTask][]>; programs: TinyProgram[]; options?: Partial<BuildOptions> }) {
  const { options } = await tinyWorld({ tasks: params.tasks ?? { aaaaaaaa: MIRROR }, programs: params.programs, options: params.options });
  const cacheDir = await tempDir("arcforge-cache-");
  const manifest = await buildDataset({ options, cacheDir });
  return { manifest, options, cacheDir };
}

/** What became of the k-th program of the world. */
const fateOf = (manifest: BuildManifest, k: number) =>
  readFates(manifest.options.out).find((f) => f.attempt_id.includes(`_${String(k).padStart(6, "0")}_1_`))!.fate;

describe("programs that fail on a test input", () => {
  const failsOnTest = "def transform(g):\n    if g[0][0] == 7:\n        raise ValueError('no')\n    return [row[::-1] for row in g]";

  it("are dropped as test_<outcome> before dedup, so a duplicate that passes is the one kept", async () => {
    const { manifest } = await build({
      programs: [
        { task: "aaaaaaaa", code: failsOnTest, time: "20250101_000000" },
        { task: "aaaaaaaa", code: MIRROR_CODE, time: "20250202_000000" },
      ],
    });
    expect(fateOf(manifest, 0)).toBe("test_error");
    expect(fateOf(manifest, 1)).toBe("kept:train");
  });

  it("are kept with [] as that prediction under --keep-test-failures", async () => {
    const { manifest, options, cacheDir } = await build({ programs: [{ task: "aaaaaaaa", code: failsOnTest }], options: { keepTestFailures: true } });
    expect(fateOf(manifest, 0)).toBe("kept:train");
    const [train] = await builtRows({ options, cacheDir });
    expect(train!.formatted[0]).toMatchObject({ predicted_test_output: [[]], correct_test_input: [false] });
  });
});

describe("the nondeterminism check (re-validation under another seed and hash seed)", () => {
  const programs: [string, string, string][] = [
    [
      "random with a fixed seed inside",
      "import random\ndef transform(g):\n    random.seed(42)\n    c = random.randint(0, 9)\n    return [[c for _ in row] for row in g]",
      "kept:train",
    ],
    [
      "numpy.random without a seed",
      "import numpy as np\ndef transform(g):\n    return np.random.randint(0, 10, size=(len(g), len(g[0]))).tolist()",
      "nondeterministic",
    ],
    ["hash() of a string", "def transform(g):\n    return [[hash('arc') % 10 for _ in row] for row in g]", "nondeterministic"],
    [
      "set iteration order, never mentioning random",
      "def transform(g):\n    names = ['red', 'green', 'blue', 'yellow']\n    first = list(set(names))[0]\n    return [[names.index(first) for _ in row] for row in g]",
      "nondeterministic",
    ],
  ];

  it("drops each nondeterministic program with its reason and keeps the deterministic one", async () => {
    const { manifest } = await build({ programs: programs.map(([, code]) => ({ task: "aaaaaaaa", code })) });
    programs.forEach(([, , fate], k) => expect(fateOf(manifest, k), programs[k]![0]).toBe(fate));
    expect(manifest.stages.find((s) => s.stage === "revalidate")!.dropped).toEqual({ nondeterministic: 3 });
  });
});

describe("tasks whose id exists in both ARC datasets", () => {
  const other: ArcTask = { train: [{ input: [[3]], output: [[4]] }], test: [{ input: [[5]], output: [[6]] }] };
  const plusOne = "def transform(g):\n    return [[c + 1 for c in row] for row in g]";

  it("stay together in one split, each with its own dataset column (3 correct and 3 incorrect tasks: balance drops none)", async () => {
    const tasks: Record<string, ArcTask | [string, ArcTask][]> = {
      bbbbbbbb: [
        ["arc-agi-1", { train: [{ input: [[1]], output: [[2]] }], test: [{ input: [[2]], output: [[3]] }] }],
        ["arc-agi-2", other],
      ],
      cccccccc: MIRROR,
      dddddddd: MIRROR,
      eeeeeeee: MIRROR,
      ffffffff: MIRROR,
    };
    const zeros = "def transform(g):\n    return [[0 for _ in row] for row in g]";
    const programs: TinyProgram[] = [
      { task: "bbbbbbbb", code: plusOne },
      { task: "bbbbbbbb", code: plusOne, dataset: "arc-agi-2" },
      { task: "cccccccc", code: MIRROR_CODE },
      { task: "dddddddd", code: zeros },
      { task: "eeeeeeee", code: zeros },
      { task: "ffffffff", code: zeros },
    ];
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const { options, cacheDir } = await build({ tasks, programs, options: { validation: true, seed } });
      const splits = await builtRows({ options, cacheDir });
      const ids = splits.map((s) => new Set(s.formatted.map((r) => r.task_id)));
      expect(splits.map((s) => s.split)).toEqual(["train", "validation"]);
      for (const id of ids[1]!) expect(ids[0]!.has(id), `seed ${seed}: ${String(id)} in both splits`).toBe(false);
      const both = splits.flatMap((s) => s.formatted).filter((r) => r.task_id === "bbbbbbbb");
      expect(both.map((r) => r.dataset).sort()).toEqual(["arc-agi-1", "arc-agi-2"]);
    }
  });
});

describe("attempt ids and the order 'first' means", () => {
  const programs: TinyProgram[] = [
    { task: "aaaaaaaa", code: MIRROR_CODE, folder: "a/logs", time: "20250303_000000" },
    { task: "aaaaaaaa", code: MIRROR_CODE, folder: "b/logs", time: "20250101_000000" },
    { task: "aaaaaaaa", code: "def transform(g):\n    return [list(reversed(row)) for row in g]", folder: "b/logs", time: "20250202_000000" },
  ];

  it("are unique when two --logs folders share a base name", async () => {
    const { manifest } = await build({ programs });
    const ids = readFates(manifest.options.out).map((f) => f.attempt_id);
    expect(new Set(ids).size).toBe(3);
    expect(ids.some((id) => id.startsWith("a/logs/")) && ids.some((id) => id.startsWith("b/logs/"))).toBe(true);
    expect(manifest.attempts).toMatchObject({ total: 3, adds_up: true });
  });

  it("keeps the earliest log file's program whatever the order of --logs flags", async () => {
    const { options, manifest } = await build({ programs });
    const swapped = await buildDataset({
      options: { ...options, logs: [...options.logs].reverse(), out: `${options.out}-swapped` },
      cacheDir: await tempDir(),
    });
    expect(swapped.outputs.map((o) => o.sha256)).toEqual(manifest.outputs.map((o) => o.sha256));
    expect(fateOf(manifest, 1)).toBe("kept:train");
    expect(fateOf(manifest, 0)).toBe("duplicate_code");
  });
});

describe("opt-in rules", () => {
  it("--drop-identity drops a program whose output is its input on every train example", async () => {
    const tasks = {
      aaaaaaaa: MIRROR,
      eeeeeeee: {
        train: [
          { input: [[1, 1]], output: [[1, 1]] },
          { input: [[2]], output: [[3]] },
        ],
        test: [{ input: [[4]], output: [[4]] }],
      },
    };
    const programs = [
      { task: "eeeeeeee", code: "def transform(g):\n    return g" },
      { task: "aaaaaaaa", code: MIRROR_CODE },
    ];
    expect(fateOf((await build({ tasks, programs })).manifest, 0)).toBe("kept:train");
    expect(fateOf((await build({ tasks, programs, options: { dropIdentity: true } })).manifest, 0)).toBe("identity");
  });

  it("--drop-single-colour drops a one-colour prediction where the real output has several colours", async () => {
    const programs = [
      { task: "aaaaaaaa", code: "def transform(g):\n    return [[0 for _ in row] for row in g]" },
      { task: "aaaaaaaa", code: MIRROR_CODE },
    ];
    expect(fateOf((await build({ programs })).manifest, 0)).toBe("kept:train");
    expect(fateOf((await build({ programs, options: { dropSingleColour: true } })).manifest, 0)).toBe("single_colour");
  });

  it("--transduction augment drops a lookup table of the task's own grids and keeps a general rule", async () => {
    const lookup =
      "def transform(g):\n    known = {'[[1, 2], [3, 4]]': [[2, 1], [4, 3]], '[[5, 6]]': [[6, 5]], '[[7, 8]]': [[8, 7]]}\n    return known.get(str(g), [[0]])";
    const programs = [
      { task: "aaaaaaaa", code: lookup },
      { task: "aaaaaaaa", code: MIRROR_CODE },
    ];
    const literalOff = { transductionFilter: false };
    expect(fateOf((await build({ programs, options: literalOff })).manifest, 0)).not.toBe("transductive_augment");
    const { manifest } = await build({ programs, options: { ...literalOff, transductionAugment: true } });
    expect(fateOf(manifest, 0)).toBe("transductive_augment");
    expect(fateOf(manifest, 1)).toBe("kept:train");
  });
});

describe("what a build writes", () => {
  it("refuses a validation split with one task, saying it needs two", async () => {
    await expect(build({ programs: [{ task: "aaaaaaaa", code: MIRROR_CODE }], options: { validation: true } })).rejects.toThrow(
      /validation split needs at least two tasks/,
    );
  });

  it("writes no dataset and names the remedy when no program matches a task", async () => {
    const { options } = await tinyWorld({ tasks: { aaaaaaaa: MIRROR }, programs: [{ task: "aaaaaaaa", code: MIRROR_CODE }] });
    await expect(buildDataset({ options: { ...options, tasks: undefined }, cacheDir: await tempDir() })).rejects.toThrow(/--tasks <root>.*ARC_DATA/);
  });

  it("writes a per-task table beside the manifest", async () => {
    const { options } = await build({
      programs: [
        { task: "aaaaaaaa", code: MIRROR_CODE },
        { task: "aaaaaaaa", code: "def transform(g):\n    raise KeyError(1)" },
      ],
    });
    const lines = readFileSync(join(options.out, "tasks.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([{ dataset: "arc-agi-1", task_id: "aaaaaaaa", read: 2, executed: 2, kept: 1, solved: 1, group: "correct", split: "train" }]);
  });
});
