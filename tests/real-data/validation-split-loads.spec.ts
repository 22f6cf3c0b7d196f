import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDataset, builtRows } from "../../pipeline/orchestrator/build-dataset.js";
import { pushDataset } from "../../pipeline/hub/push-dataset.js";
import { DEFAULT_BUILD_OPTIONS, type BuildOptions } from "../../schemas/build-options.js";
import { startHubEmulator, type HubEmulator } from "../hub-emulator/hub-emulator.js";
import { requireTestPython } from "../support/python.js";
import { tempDir } from "../support/stage-harness.js";

const run = promisify(execFile);
const SHARED = process.env.ARCFORGE_SHARED ?? join(process.cwd(), "..", "shared");
const LOGS = join(SHARED, "run-logs", "middle-and-shortest-training-10");
const TOKEN = "hf_arcforge_real_data_token";

describe.skipIf(!existsSync(LOGS))("a --validation build of middle-and-shortest-training-10", () => {
  let hub: HubEmulator;
  let options: BuildOptions;
  let cacheDir: string;

  beforeAll(async () => {
    hub = await startHubEmulator({ dataDir: await tempDir("arcforge-hub-") });
    const dir = await tempDir("arcforge-small-real-");
    cacheDir = join(dir, "cache");
    options = { ...DEFAULT_BUILD_OPTIONS, logs: [LOGS], tasks: join(SHARED, "arc-data"), out: join(dir, "out"), validation: true };
    await buildDataset({ options, cacheDir });
    await pushDataset({ dir: options.out, repo: "arc/small-real", token: TOKEN, hubUrl: hub.url });
  }, 600_000);
  afterAll(() => hub.close());

  it("loads with Python datasets from the Hub, with a non-empty validation split", async () => {
    const env = {
      ...process.env,
      HF_ENDPOINT: hub.url,
      HF_TOKEN: TOKEN,
      HF_HUB_DISABLE_XET: "1",
      HF_HOME: join(await tempDir(), "hf-home"),
      HF_HUB_DISABLE_PROGRESS_BARS: "1",
    };
    const { stdout } = await run(requireTestPython(), [join(process.cwd(), "tests", "support", "hub_client.py"), "load", "arc/small-real"], {
      env,
      maxBuffer: 1 << 28,
    });
    const loaded = JSON.parse(stdout) as Record<string, Record<string, unknown>[]>;
    const meant = await builtRows({ options, cacheDir });
    expect(Object.keys(loaded).sort()).toEqual(["train", "validation"]);
    expect(loaded.validation!.length).toBeGreaterThan(0);
    for (const split of meant) expect(loaded[split.split]).toEqual(split.formatted);
    const trainIds = new Set(loaded.train!.map((r) => r.task_id));
    for (const row of loaded.validation!) expect(trainIds.has(row.task_id)).toBe(false);
  }, 300_000);
});
