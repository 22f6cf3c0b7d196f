import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildDataset } from "../../pipeline/orchestrator/build-dataset.js";
import { readParquetRows } from "../../pipeline/parquet/read-parquet-rows.js";
import { DEFAULT_BUILD_OPTIONS, type BuildOptions } from "../../schemas/build-options.js";
import { tempDir } from "../support/stage-harness.js";

const SHARED = process.env.ARCFORGE_SHARED ?? join(process.cwd(), "..", "shared");

/** Each program's outputs on its inputs, from a plain Python process of the test's own (the machine's python3, which has the scipy programs import). */
async function reexecute(jobs: { code: string; inputs: unknown[] }[]): Promise<unknown[][]> {
  const child = spawn(process.env.ARCFORGE_PYTHON ?? "python3", [join(process.cwd(), "tests", "support", "reexecute.py")], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  for (const job of jobs) child.stdin.write(`${JSON.stringify(job)}\n`);
  child.stdin.end();
  await new Promise((resolve) => child.on("exit", resolve));
  return out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as unknown[]);
}

describe.skipIf(!existsSync(join(SHARED, "run-logs")))("refinement pairs of ../shared/run-logs, multi-turn logs included", () => {
  it("pairs programs whose stored outputs, parent's and child's, a fresh independent execution reproduces", async () => {
    const dir = await tempDir("arcforge-real-pairs-");
    const options: BuildOptions = {
      ...DEFAULT_BUILD_OPTIONS,
      logs: [join(SHARED, "run-logs")],
      tasks: join(SHARED, "arc-data"),
      out: join(dir, "out"),
      format: "refinement",
      pairs: ["multiturn", "refined", "hindsight"],
    };
    const manifest = await buildDataset({ options, cacheDir: join(dir, "cache") });
    expect(manifest.stages.find((s) => s.stage === "read-logs")!.dropped.multiturn_later_turn).toBeUndefined();
    const rows: Record<string, unknown>[] = [];
    for await (const row of readParquetRows({ path: join(options.out, "data", "train-00000-of-00001.parquet") })) rows.push(row);
    expect(rows.length).toBeGreaterThan(100);
    const inputs = (r: Record<string, unknown>) => [...(r.train_input as unknown[]), ...(r.test_input as unknown[])];
    const jobs = rows.flatMap((r) => [
      { code: r.code_original as string, inputs: inputs(r) },
      { code: r.code as string, inputs: inputs(r) },
    ]);
    const outputs = await reexecute(jobs);
    rows.forEach((r, i) => {
      expect(outputs[2 * i], `parent of pair ${i}`).toEqual([
        ...(r.predicted_train_output_original as unknown[]),
        ...(r.predicted_test_output_original as unknown[]),
      ]);
      expect(outputs[2 * i + 1], `child of pair ${i}`).toEqual([...(r.predicted_train_output as unknown[]), ...(r.predicted_test_output as unknown[])]);
    });
  }, 600_000);
});
