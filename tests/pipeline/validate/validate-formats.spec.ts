import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { buildDataset } from "../../../pipeline/orchestrator/build-dataset.js";
import { demoWorld, tempDir } from "../../support/stage-harness.js";

const run = promisify(execFile);
const CLI = join(process.cwd(), "dist", "pipeline", "commands", "cli.js");
async function validate(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, "validate", ...args, "--timeout", "0.5"], { env: { ...process.env, ARC_DATA: "" } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("arcforge validate on what it cannot or need not check", () => {
  it("refuses a messages build in one line, and SOAR rows without --tasks in one line naming --tasks", async () => {
    for (const [format, expected] of [
      ["messages", /is a chat \(messages or OpenAI\) dataset/],
      ["soar", /stores no task inputs \(SOAR format\): give --tasks/],
    ] as const) {
      const { options } = await demoWorld({ format });
      await buildDataset({ options, cacheDir: await tempDir() });
      const { code, stderr, stdout } = await validate([options.out]);
      expect(code).toBe(1);
      expect(stderr.trim().split("\n"), stderr).toHaveLength(1);
      expect(stderr).toMatch(expected);
      expect(stdout).toBe("");
    }
  });

  it("refuses --limit 0 and --limit -3", async () => {
    const { options } = await demoWorld();
    await buildDataset({ options, cacheDir: await tempDir() });
    for (const limit of ["0", "-3"])
      expect((await validate([options.out, "--limit", limit])).stderr).toMatch(
        /option .--limit <n>. argument .-?\d+. is invalid. expected a whole number, at least 1/,
      );
  });

  it("names the file whose footer is corrupt", async () => {
    const dir = await tempDir();
    const path = join(dir, "train.parquet");
    writeFileSync(path, Buffer.concat([Buffer.from("PAR1"), Buffer.alloc(64, 7), Buffer.from([200, 0, 0, 0]), Buffer.from("PAR1")]));
    const { code, stderr } = await validate([path]);
    expect(code).toBe(1);
    expect(stderr).toContain(path);
  });
});

describe("the validate summary", () => {
  it("counts every failing row once, the rows it lists", async () => {
    const { options } = await demoWorld();
    await buildDataset({ options, cacheDir: await tempDir() });
    const { readParquetRows } = await import("../../../pipeline/parquet/read-parquet-rows.js");
    const { writeParquet } = await import("../../../pipeline/parquet/parquet-writer.js");
    const { arrowSchema, COLUMNS } = await import("../../../schemas/arrow.js");
    const rows: Record<string, unknown>[] = [];
    for await (const row of readParquetRows({ path: join(options.out, "data", "train-00000-of-00001.parquet") })) rows.push(row);
    // One mismatch (a flag flipped) and one schema problem (a ragged stored grid).
    rows[0] = { ...rows[0], correct_train_input: (rows[0]!.correct_train_input as boolean[]).map((f) => !f) };
    rows[1] = { ...rows[1], predicted_train_output: [[[1], [1, 2]], ...(rows[1]!.predicted_train_output as unknown[]).slice(1)] };
    const path = join(await tempDir(), "train.parquet");
    await writeParquet({ path, schema: arrowSchema("flat"), kinds: COLUMNS.flat.map(([, k]) => k), rows });
    const { code, stdout } = await validate([path]);
    expect(code).toBe(1);
    const listed = stdout.split("\n").filter((l) => /^train\[\d+\]/.test(l));
    expect(listed).toHaveLength(2);
    expect(stdout).toMatch(/\nerrors: 2\n/);
    expect(stdout).toMatch(/schema 1/);
  });
});
