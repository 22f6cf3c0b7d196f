import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeParquet } from "../pipeline/parquet/parquet-writer.js";
import { arrowSchema, COLUMNS } from "../schemas/arrow.js";

/**
 * Streams synthetic flat rows (ARC-sized grids) into Parquet and reports peak RSS. Without ROWS it
 * measures 20k and 100k rows in two child processes and prints the ratio: bounded memory means
 * about 1x for 5x the rows.
 */
if (!process.env.ROWS) {
  const { execFileSync } = await import("node:child_process");
  const peaks = [20_000, 100_000].map((rows) => {
    const out = execFileSync(process.execPath, [process.argv[1]!], { env: { ...process.env, ROWS: String(rows) }, encoding: "utf8" });
    process.stdout.write(out);
    return Number(/peak RSS (\d+) MiB/.exec(out)![1]);
  });
  console.log(`peak RSS at 100k rows / at 20k rows = ${(peaks[1]! / peaks[0]!).toFixed(2)}x  (bounded: about 1x)`);
  process.exit(0);
}
const ROWS = Number(process.env.ROWS);
const grid = (seed: number, h: number, w: number) => Array.from({ length: h }, (_, r) => Array.from({ length: w }, (_, c) => (seed + r * 7 + c * 3) % 10));
function* rows() {
  for (let i = 0; i < ROWS; i++) {
    const size = 3 + (i % 12);
    const grids = (k: number) => Array.from({ length: 4 }, (_, j) => grid(i + j + k, size, size));
    yield {
      reasoning: "",
      code: `def transform(grid):\n    return [row[::-1] for row in grid]  # ${i}\n`,
      correct_train_input: [true, false, true, false],
      train_input: grids(0),
      train_output: grids(1),
      predicted_train_output: grids(2),
      correct_test_input: [i % 2 === 0],
      test_input: [grid(i, size, size)],
      test_output: [grid(i + 1, size, size)],
      predicted_test_output: [grid(i + 2, size, size)],
      task_id: (i % 4000).toString(16).padStart(8, "0"),
      model: "bench",
      generation: 0,
    };
  }
}

const dir = await mkdtemp(join(tmpdir(), "arcforge-bench-parquet-"));
let peak = 0;
const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
const started = performance.now();
const path = join(dir, "train.parquet");
await writeParquet({ path, schema: arrowSchema("flat"), kinds: COLUMNS.flat.map(([, k]) => k), rows: rows() });
clearInterval(timer);
peak = Math.max(peak, process.memoryUsage().rss);
console.log(
  `${ROWS} rows written in ${((performance.now() - started) / 1000).toFixed(1)} s, ${((await stat(path)).size / 2 ** 20).toFixed(1)} MiB; peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB`,
);
await rm(dir, { recursive: true, force: true });
