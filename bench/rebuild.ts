import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildDataset } from "../pipeline/orchestrator/build-dataset.js";
import { DEFAULT_BUILD_OPTIONS, type BuildOptions } from "../schemas/build-options.js";
import { SHARED } from "./real-programs.js";

/**
 * Cold build of ../shared/run-logs, then on the same cache, in one run: a rebuild with --no-dedup,
 * one after a split change (--seed 7: every task stage decided in one lookup each, so it is near
 * the floor of reading the logs' digests and writing the dataset), and one with nothing changed.
 */
const dir = await mkdtemp(join(tmpdir(), "arcforge-bench-rebuild-"));
const options: BuildOptions = {
  ...DEFAULT_BUILD_OPTIONS,
  logs: [join(SHARED, "run-logs")],
  tasks: join(SHARED, "arc-data"),
  out: join(dir, "out"),
  validation: true,
};
const cacheDir = join(dir, "cache");

async function timed(label: string, params: BuildOptions): Promise<number> {
  const started = performance.now();
  const manifest = await buildDataset({ options: params, cacheDir });
  const seconds = (performance.now() - started) / 1000;
  const ran = manifest.stages.filter((s) => s.ran).map((s) => s.stage);
  console.log(
    `${label.padEnd(22)} ${seconds.toFixed(2)} s  (stages run: ${ran.join(", ") || "none"}; rows: ${manifest.outputs.map((o) => `${o.split} ${o.rows}`).join(", ")})`,
  );
  return seconds;
}

try {
  const cold = await timed("cold build", options);
  const rebuild = await timed("rebuild --no-dedup", { ...options, dedup: false });
  const split = await timed("rebuild --seed 7", { ...options, seed: 7 });
  const warm = await timed("nothing changed", options);
  const share = (seconds: number) => `${((seconds / cold) * 100).toFixed(1)}%`;
  console.log(`rebuild / cold = ${share(rebuild)}  (goal: <= 3%); after a split change ${share(split)}; nothing changed ${share(warm)}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
