import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ArcTask } from "../../schemas/task.js";
import { tempDir } from "../support/stage-harness.js";
import type { BuildManifest } from "../../schemas/build-manifest.js";

const CLI = join(process.cwd(), "dist", "pipeline", "commands", "cli.js");
const ATTEMPTS = 50_000;
const TASKS = 40;
const PER_LOG = 250;

/** Twelve behaviours; every attempt's raw code is one of them with a comment of its own. */
const TRANSFORMS = [
  "return g",
  "return [row[::-1] for row in g]",
  "return g[::-1]",
  "return [list(r) for r in zip(*g)]",
  "return [[(c + 1) % 10 for c in row] for row in g]",
  "return [[(c + 2) % 10 for c in row] for row in g]",
  "return [[0 for c in row] for row in g]",
  "return [[max(row) for c in row] for row in g]",
  "return [[min(row) for c in row] for row in g]",
  "return [row[::-1] for row in g[::-1]]",
  "return [[c * 2 % 10 for c in row] for row in g]",
  "return [row + row for row in g]",
];

/** 10x10: a row holds eight grids, so tens of thousands of rows held at once would not fit in the heap. */
const grid = (seed: number): number[][] => Array.from({ length: 10 }, (_, r) => Array.from({ length: 10 }, (_, c) => (seed * 7 + r * 3 + c * 5) % 10));
const mirrored = (g: number[][]) => g.map((row) => [...row].reverse());
const taskId = (t: number) => (0x10000000 + t).toString(16);

/** 50,000 attempts over 40 tasks in all_attempts logs, each raw code distinct; the task folder beside them. */
async function corpus(): Promise<{ dir: string; logs: string; tasks: string }> {
  const dir = await tempDir("arcforge-bounded-");
  const logs = join(dir, "logs");
  await mkdir(logs);
  await mkdir(join(dir, "tasks", "arc-agi-1", "training"), { recursive: true });
  for (let t = 0; t < TASKS; t++) {
    const examples = [0, 1, 2, 3].map((k) => ({ input: grid(t * 4 + k), output: mirrored(grid(t * 4 + k)) }));
    const task: ArcTask = { train: examples.slice(0, 3), test: examples.slice(3) };
    await writeFile(join(dir, "tasks", "arc-agi-1", "training", `${taskId(t)}.json`), JSON.stringify(task));
  }
  for (let start = 0, file = 0; start < ATTEMPTS; start += PER_LOG, file++) {
    const t = file % TASKS;
    const details = Array.from({ length: PER_LOG }, (_, j) => {
      const k = start + j;
      return { attempt_number: j + 1, program_extracted: true, program: `def transform(g):\n    # attempt ${k}\n    ${TRANSFORMS[k % TRANSFORMS.length]}\n` };
    });
    const log = { task_id: taskId(t), model: "bounded", api_type: "chat_completions_all_attempts", attempt_details: details };
    await writeFile(join(logs, `20250101_000000_${String(file).padStart(6, "0")}_0_${taskId(t)}.json`), JSON.stringify(log));
  }
  return { dir, logs, tasks: join(dir, "tasks") };
}

/** A logs folder and one task (the first of the corpus) under `dir`; the logs folder. */
async function oneTask(dir: string): Promise<string> {
  const logs = join(dir, "logs");
  await mkdir(logs);
  await mkdir(join(dir, "tasks", "arc-agi-1", "training"), { recursive: true });
  const examples = [0, 1, 2, 3].map((k) => ({ input: grid(k), output: mirrored(grid(k)) }));
  await writeFile(join(dir, "tasks", "arc-agi-1", "training", `${taskId(0)}.json`), JSON.stringify({ train: examples.slice(0, 3), test: examples.slice(3) }));
  return logs;
}

/** Builds through the CLI in a 256 MiB heap; the manifest. */
async function buildIn256MiB(params: { dir: string; logs: string; tasks: string; extra?: string[] }): Promise<{ out: string; manifest: BuildManifest }> {
  const out = join(params.dir, "out");
  const args = [
    "--max-old-space-size=256",
    CLI,
    "build",
    "--logs",
    params.logs,
    "--tasks",
    params.tasks,
    "--out",
    out,
    "--cache-dir",
    join(params.dir, "cache"),
    "--timeout",
    "1",
    "--quiet",
    ...(params.extra ?? []),
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const [code] = (await once(child, "exit")) as [number | null];
  expect(code, stderr).toBe(0);
  return { out, manifest: JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")) as BuildManifest };
}

describe("a build of 50,000 attempts", () => {
  it("runs in a 256 MiB heap (memory bounded by construction, not by the corpus) and accounts for every attempt", async () => {
    const { out, manifest } = await buildIn256MiB(await corpus());
    expect(manifest.attempts).toMatchObject({ total: ATTEMPTS, adds_up: true });
    expect(readFileSync(join(out, "fates.jsonl"), "utf8").trim().split("\n")).toHaveLength(ATTEMPTS);
    // Every task keeps one row per distinct behaviour on its train inputs; the 49,000-odd others are duplicates.
    const dedup = manifest.stages.find((s) => s.stage === "dedup")!;
    expect(dedup.kept).toBe(manifest.outputs[0]!.rows);
    expect(dedup.kept).toBeLessThanOrEqual(TASKS * TRANSFORMS.length);
    expect(dedup.kept + (dedup.dropped.duplicate_code ?? 0) + (dedup.dropped.duplicate_behaviour ?? 0)).toBe(
      manifest.stages.find((s) => s.stage === "filter-degenerate")!.kept,
    );
  }, 600_000);

  it("writes tens of thousands of rows in a 256 MiB heap: splits stream task by task", async () => {
    const { manifest } = await buildIn256MiB({ ...(await corpus()), extra: ["--no-dedup"] });
    expect(manifest.attempts).toMatchObject({ total: ATTEMPTS, adds_up: true });
    expect(manifest.outputs.reduce((n, o) => n + o.rows, 0)).toBe(manifest.attempts.kept);
    expect(manifest.attempts.kept).toBeGreaterThan(ATTEMPTS / 2);
  }, 600_000);
});

describe("a refinement build of one task with 20,000 programs", () => {
  it("pairs them in a 256 MiB heap, and every attempt has its fate", async () => {
    const dir = await tempDir("arcforge-pairs-");
    const logs = await oneTask(dir);
    const programs = 20_000;
    for (let start = 0, file = 0; start < programs; start += PER_LOG, file++) {
      // Twelve behaviours, each raw code distinct: 20,000 candidates reach the pair stage, a dozen programs run.
      const details = Array.from({ length: PER_LOG }, (_, j) => ({
        attempt_number: j + 1,
        program_extracted: true,
        program: `def transform(g):\n    # attempt ${start + j}\n    ${TRANSFORMS[(start + j) % TRANSFORMS.length]}\n`,
      }));
      const log = { task_id: taskId(0), model: "pairs", api_type: "chat_completions_all_attempts", attempt_details: details };
      await writeFile(join(logs, `20250101_000000_${String(file).padStart(6, "0")}_0_${taskId(0)}.json`), JSON.stringify(log));
    }
    const { out, manifest } = await buildIn256MiB({ dir, logs, tasks: join(dir, "tasks"), extra: ["--format", "refinement", "--pairs", "hindsight"] });
    expect(manifest.attempts).toMatchObject({ total: programs, adds_up: true });
    const pair = manifest.stages.find((s) => s.stage === "pair")!;
    expect(pair.counts.pairs).toBeGreaterThan(0);
    expect(pair.counts.pairs).toBe(pair.counts.pairs_hindsight);
    expect(manifest.outputs.reduce((n, o) => n + o.rows, 0)).toBe(pair.counts.pairs);
    expect(readFileSync(join(out, "fates.jsonl"), "utf8").trim().split("\n")).toHaveLength(programs);
  }, 600_000);
});

describe("a log repeating one program 300,000 times", () => {
  it("builds in a 256 MiB heap, the program held once with its copies' numbers, and gives every copy its fate", async () => {
    const dir = await tempDir("arcforge-copies-");
    const logs = await oneTask(dir);
    const copies = 300_000;
    const details = Array.from({ length: copies }, (_, j) => ({
      attempt_number: j + 1,
      program_extracted: true,
      program: `def transform(g):\n    ${TRANSFORMS[1]}\n`,
    }));
    const log = { task_id: taskId(0), model: "copies", api_type: "chat_completions_all_attempts", attempt_details: details };
    await writeFile(join(logs, `20250101_000000_000000_0_${taskId(0)}.json`), JSON.stringify(log));
    const { out, manifest } = await buildIn256MiB({ dir, logs, tasks: join(dir, "tasks") });
    expect(manifest.attempts).toEqual({ total: copies, kept: 1, dropped: { duplicate_code: copies - 1 }, adds_up: true });
    const fates = readFileSync(join(out, "fates.jsonl"), "utf8").trim().split("\n");
    expect(fates).toHaveLength(copies);
    expect(new Set(fates.map((line) => (JSON.parse(line) as { attempt_id: string }).attempt_id)).size).toBe(copies);
  }, 600_000);
});
