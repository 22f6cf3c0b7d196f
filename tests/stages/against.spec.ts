import { describe, expect, it } from "vitest";
import { buildDataset, builtRows, readFates } from "../../pipeline/orchestrator/build-dataset.js";
import type { BuildOptions } from "../../schemas/build-options.js";
import { tempDir } from "../support/stage-harness.js";
import { MIRROR, tinyWorld } from "../support/tiny-world.js";
import { countingExecutor } from "../support/counting-executor.js";

const published = [
  { name: "mirror", code: "def transform(g):\n    return [row[::-1] for row in g]" },
  { name: "zeros", code: "def transform(g):\n    return [[0 for _ in row] for row in g]" },
];
const fresh = [
  { name: "mirror again, with a comment", code: "def transform(g):\n    # flip\n    return [row[::-1] for row in g]", fate: "already_published" },
  { name: "zeros by other code", code: "def transform(g):\n    return [[0] * len(row) for row in g]", fate: "already_published" },
  { name: "mirror by reversed()", code: "def transform(g):\n    return [list(reversed(row)) for row in g]", fate: "kept:train" },
  { name: "ones", code: "def transform(g):\n    return [[1 for _ in row] for row in g]", fate: "kept:train" },
];
const renamed = "def transform(grid):\n    return [r[::-1] for r in grid]";

async function world() {
  const programs = [
    ...published.map((p) => ({ task: "aaaaaaaa", code: p.code, folder: "first", time: "20250101_000000" })),
    ...fresh.map((p) => ({ task: "aaaaaaaa", code: p.code, folder: "second", time: "20250202_000000" })),
    { task: "aaaaaaaa", code: renamed, folder: "third", time: "20250303_000000" },
  ];
  const { dir, options } = await tinyWorld({ tasks: { aaaaaaaa: MIRROR }, programs });
  const first: BuildOptions = { ...options, logs: [`${dir}/first`], out: `${dir}/first-out` };
  const only = (folder: string, extra: Partial<BuildOptions> = {}): BuildOptions => ({
    ...options,
    logs: [`${dir}/${folder}`],
    out: `${dir}/${folder}-out`,
    ...extra,
  });
  return { dir, options, first, only, cacheDir: await tempDir("arcforge-cache-") };
}

/** What became of each program of the second folder, by its position. */
const fatesOf = (out: string) =>
  readFates(out)
    .filter((f) => f.attempt_id.startsWith("second/"))
    .sort((a, b) => (a.attempt_id < b.attempt_id ? -1 : 1))
    .map((f) => f.fate);

describe("--against what is already published", () => {
  it("drops a build's every program when run against a build of the same logs, executing nothing new", async () => {
    const { first, cacheDir } = await world();
    await buildDataset({ options: first, cacheDir });
    const counter = { programs: 0 };
    const again = buildDataset({ options: { ...first, out: `${first.out}-again`, against: [first.out] }, cacheDir, createExecutor: countingExecutor(counter) });
    await expect(again).rejects.toThrow(/would write 0 rows.*against: already_published 2/);
    expect(counter.programs).toBe(0);
  });

  it("drops a program whose cleaned code, or whose train outputs when it solves no test, a published program has, naming it", async () => {
    const { first, only, cacheDir } = await world();
    await buildDataset({ options: first, cacheDir });
    const second = only("second", { against: [first.out] });
    const manifest = await buildDataset({ options: second, cacheDir });
    expect(fatesOf(second.out)).toEqual(fresh.map((p) => p.fate));
    const details = readFates(second.out)
      .filter((f) => f.fate === "already_published")
      .map((f) => f.detail);
    expect(details).toEqual([
      expect.stringMatching(/^same code as .*first-out:train:0$/),
      expect.stringMatching(/^same train outputs as .*first-out:train:1$/),
    ]);
    expect(manifest.summary.join("\n")).toMatch(/already published \(--against\): 1 sources, 2 rows read; 2 programs dropped/);
  });

  it("keeps, from a build of all the logs against a build of half, exactly the other half's programs not already there", async () => {
    const { dir, first, only, cacheDir } = await world();
    await buildDataset({ options: first, cacheDir });
    const all = { ...only("second"), logs: [`${dir}/first`, `${dir}/second`], out: `${dir}/all-out`, against: [first.out] };
    await buildDataset({ options: all, cacheDir });
    const [train] = await builtRows({ options: all, cacheDir });
    const codes = (train!.formatted as { code: string }[]).map((r) => r.code.trim()).sort();
    expect(codes).toEqual(
      fresh
        .filter((p) => p.fate === "kept:train")
        .map((p) => p.code)
        .sort(),
    );
    expect(
      readFates(all.out)
        .filter((f) => f.attempt_id.startsWith("first/"))
        .map((f) => f.fate),
    ).toEqual(["already_published", "already_published"]);
  });

  it("with --near-dedup, also drops a program structurally like a published test-solving one", async () => {
    const { first, only, cacheDir } = await world();
    await buildDataset({ options: first, cacheDir });
    const plain = only("third", { against: [first.out] });
    await buildDataset({ options: plain, cacheDir });
    expect(readFates(plain.out).map((f) => f.fate)).toEqual(["kept:train"]);
    const near = only("third", { against: [first.out], nearDedup: 0.9, out: `${plain.out}-near` });
    await expect(buildDataset({ options: near, cacheDir })).rejects.toThrow(/would write 0 rows.*against: already_published 1/);
  });
});
