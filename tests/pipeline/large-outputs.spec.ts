import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildDataset } from "../../pipeline/orchestrator/build-dataset.js";
import { readParquetRows } from "../../pipeline/parquet/read-parquet-rows.js";
import { demoWorld, tempDir } from "../support/stage-harness.js";

const MIB = 1 << 20;
const ATTEMPTS = 520;
/** A distinct MiB of reasoning per attempt: together more than one V8 string can hold (~512 MiB). */
const reasoning = (k: number) => `attempt ${k}: `.padEnd(64, "=") + "flip every row, then check the test. ".repeat(Math.ceil(MIB / 37)).slice(0, MIB - 64);
const digest = (text: string) => createHash("sha256").update(text).digest("hex");

describe("a corpus whose stage outputs exceed what one string can hold", () => {
  it("builds with --reasoning and every reasoning text reaches the Parquet file intact", async () => {
    const { dir, options } = await demoWorld();
    const logs = join(dir, "long-logs");
    await mkdir(logs);
    for (let k = 0; k < ATTEMPTS; k++) {
      const attempt = {
        attempt_number: 1,
        program_extracted: true,
        program: `def transform(g):\n    k = ${k}\n    return [row[::-1] for row in g]`,
        raw_response: { choices: [{ message: { reasoning: reasoning(k) } }] },
      };
      await writeFile(
        join(logs, `20250101_000000_${String(k).padStart(6, "0")}_1_a1b2c3d4.json`),
        JSON.stringify({
          task_id: "a1b2c3d4",
          model: "m",
          api_type: "chat_completions_independent_attempts",
          independent_attempts_data: { attempt_details: [attempt] },
        }),
      );
    }
    const manifest = await buildDataset({ options: { ...options, logs: [logs], reasoning: true }, cacheDir: await tempDir() });
    expect(manifest.outputs[0]!.rows).toBe(ATTEMPTS);
    const seen = new Map<number, string>();
    for await (const row of readParquetRows({ path: join(options.out, manifest.outputs[0]!.path), batchSize: 16 })) {
      const text = String(row.reasoning);
      const k = Number(/^attempt (\d+):/.exec(text)?.[1]);
      seen.set(k, digest(text));
    }
    expect(seen.size).toBe(ATTEMPTS);
    for (let k = 0; k < ATTEMPTS; k++) expect(seen.get(k), `attempt ${k}`).toBe(digest(reasoning(k)));
  }, 600_000);
});
