import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildDataset, builtRows } from "../../pipeline/orchestrator/build-dataset.js";
import { DEFAULT_BUILD_OPTIONS, type BuildOptions } from "../../schemas/build-options.js";
import { createDockerExecutor } from "../../pipeline/executor/docker-pool.js";
import { dockerAvailable } from "../support/docker.js";
import { readBack } from "../support/python.js";
import { tempDir } from "../support/stage-harness.js";
import type { BuildManifest } from "../../schemas/build-manifest.js";

const SHARED = process.env.ARCFORGE_SHARED ?? join(process.cwd(), "..", "shared");

describe.skipIf(!existsSync(join(SHARED, "run-logs")))("a build of ../shared/run-logs with ../shared/arc-data", () => {
  let options: BuildOptions;
  let cacheDir: string;
  let manifest: BuildManifest;

  beforeAll(async () => {
    const dir = await tempDir("arcforge-real-");
    cacheDir = join(dir, "cache");
    options = { ...DEFAULT_BUILD_OPTIONS, logs: [join(SHARED, "run-logs")], tasks: join(SHARED, "arc-data"), out: join(dir, "out"), validation: true };
    manifest = await buildDataset({ options, cacheDir });
  }, 600_000);

  it("accounts for every one of the 977 log files and every attempt", () => {
    expect(manifest.logs).toHaveLength(977);
    expect(manifest.attempts.adds_up).toBe(true);
    const dropped = Object.values(manifest.attempts.dropped).reduce((a, b) => a + b, 0);
    expect(manifest.attempts.kept + dropped).toBe(manifest.attempts.total);
    expect(manifest.attempts.total).toBe(2318);
  });

  it("writes splits that Python datasets, pyarrow and DuckDB read back with every value intact", async () => {
    const meant = await builtRows({ options, cacheDir });
    for (const split of meant) {
      const back = await readBack([join(options.out, `data/${split.split}-00000-of-00001.parquet`)]);
      expect(back.datasets.length).toBe(split.formatted.length);
      expect(back.datasets).toEqual(split.formatted);
      expect(back.pyarrow).toEqual(split.formatted);
      expect(back.duckdb).toEqual(split.formatted);
    }
    const [train, validation] = meant.map((s) => new Set(s.formatted.map((r) => r.task_id)));
    expect(validation!.size).toBeGreaterThan(0);
    for (const id of validation!) expect(train!.has(id)).toBe(false);
    expect(meant[1]!.formatted.length).toBeLessThanOrEqual(40);
  }, 300_000);

  it.skipIf(!dockerAvailable)(
    "gives the same bytes with the docker backend as with the process backend",
    async () => {
      const viaDocker = await buildDataset({
        options: { ...options, out: `${options.out}-docker` },
        cacheDir: `${cacheDir}-docker`,
        createExecutor: (onEvent, seed) => createDockerExecutor({ ...options.limits, onEvent, seed }),
      });
      expect(viaDocker.sandbox?.backend).toBe("docker");
      expect(viaDocker.outputs.map((o) => o.sha256)).toEqual(manifest.outputs.map((o) => o.sha256));
    },
    900_000,
  );

  it("gives byte-identical files when built again from scratch", async () => {
    const again = await buildDataset({ options: { ...options, out: `${options.out}-again` }, cacheDir: `${cacheDir}-again` });
    expect(again.outputs.map((o) => o.sha256)).toEqual(manifest.outputs.map((o) => o.sha256));
  }, 600_000);
});
