import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildDataset, readFates } from "../../pipeline/orchestrator/build-dataset.js";
import { readParquetRows } from "../../pipeline/parquet/read-parquet-rows.js";
import { DEFAULT_BUILD_OPTIONS, type BuildOptions } from "../../schemas/build-options.js";
import type { Fate } from "../../schemas/build-manifest.js";
import { tempDir } from "../support/stage-harness.js";
import { MIRROR } from "../support/tiny-world.js";

const SOLVES = "def transform(g):\n    return [row[::-1] for row in g]";
const WRONG = "def transform(g):\n    return g[::-1]";
const FAILS = "def transform(g):\n    raise ValueError('no')";
const CODES = [SOLVES, WRONG, FAILS];
const N = 400;
const LOG = "20250901_000000_000000_1_aaaaaaaa.json";

/** One log repeating three programs N times each, interleaved, its attempt numbers counting down. */
async function world(extra: Partial<BuildOptions> = {}): Promise<{ options: BuildOptions; cacheDir: string }> {
  const dir = await tempDir("arcforge-repeated-");
  await mkdir(join(dir, "tasks", "arc-agi-1", "training"), { recursive: true });
  await writeFile(join(dir, "tasks", "arc-agi-1", "training", "aaaaaaaa.json"), JSON.stringify(MIRROR));
  await mkdir(join(dir, "logs"));
  const details = Array.from({ length: 3 * N }, (_, k) => ({ attempt_number: 3 * N - k, program_extracted: true, program: CODES[k % 3] }));
  const log = { task_id: "aaaaaaaa", model: "m", api_type: "chat_completions_all_attempts", attempt_details: details };
  await writeFile(join(dir, "logs", LOG), JSON.stringify(log));
  const options = {
    ...DEFAULT_BUILD_OPTIONS,
    limits: { timeoutSeconds: 1, memoryBytes: 1 << 30 },
    logs: [join(dir, "logs")],
    tasks: join(dir, "tasks"),
    out: join(dir, "out"),
    ...extra,
  };
  return { options, cacheDir: join(dir, "cache") };
}

/** The attempt ids of each program, lowest number first. */
function idsOf(code: string): string[] {
  const numbers = Array.from({ length: 3 * N }, (_, k) => k)
    .filter((k) => CODES[k % 3] === code)
    .map((k) => 3 * N - k);
  return numbers.sort((a, b) => a - b).map((n) => `${LOG}#${n}`);
}

async function build(extra: Partial<BuildOptions> = {}) {
  const { options, cacheDir } = await world(extra);
  const manifest = await buildDataset({ options, cacheDir });
  const fates = new Map<string, Fate>(readFates(options.out).map((f) => [f.attempt_id.slice(f.attempt_id.lastIndexOf("/") + 1), f]));
  const rows: Record<string, unknown>[] = [];
  for await (const row of readParquetRows({ path: join(options.out, "data", "train-00000-of-00001.parquet") })) rows.push(row);
  return { manifest, fates, rows };
}

describe("a log repeating its programs hundreds of times", () => {
  it("gives every copy the fate it would have alone: the first by attempt number kept, the others duplicates of it, a failure's copies all failed", async () => {
    const { manifest, fates, rows } = await build();
    expect(manifest.attempts).toMatchObject({ total: 3 * N, adds_up: true, kept: 2 });
    expect(fates.size).toBe(3 * N);
    for (const [code, reason] of [
      [SOLVES, "duplicate_code"],
      [WRONG, "duplicate_behaviour"],
    ] as const) {
      const [first, ...others] = idsOf(code);
      expect(fates.get(first!)!.fate).toBe("kept:train");
      for (const id of others) expect(fates.get(id)).toMatchObject({ fate: reason, stage: "dedup", detail: `same as logs/${first}` });
    }
    const failed = idsOf(FAILS).map((id) => fates.get(id)!);
    expect(new Set(failed.map((f) => `${f.fate} ${f.detail}`)).size).toBe(1);
    expect(failed[0]!.fate).toBe("train_error");
    expect(rows).toHaveLength(2);
    const stage = (name: string) => manifest.stages.find((s) => s.stage === name)!;
    expect(stage("clean-code").counts.cleaned! + stage("clean-code").counts.unchanged!).toBe(3 * N);
    expect(stage("execute").dropped.train_error).toBe(N);
    expect(stage("execute").kept).toBe(2 * N);
    expect(stage("dedup").dropped).toEqual({ duplicate_code: N - 1, duplicate_behaviour: N - 1 });
  });

  it("keeps every copy as a row of its own with --no-dedup", async () => {
    const { manifest, rows } = await build({ dedup: false });
    expect(manifest.attempts).toMatchObject({ total: 3 * N, adds_up: true, kept: 2 * N });
    expect(rows).toHaveLength(2 * N);
  });

  it("counts every copy in the program table's copies", async () => {
    const { manifest, rows } = await build({ format: "programs" });
    expect(manifest.attempts).toMatchObject({ total: 3 * N, adds_up: true, kept: 2 });
    expect(rows.map((r) => [r.attempt_id, r.copies]).sort()).toEqual([
      [`logs/${idsOf(WRONG)[0]}`, N],
      [`logs/${idsOf(SOLVES)[0]}`, N],
    ]);
  });
});
