import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluationIndex } from "../../pipeline/decontaminate/evaluation-index.js";
import type { ArcTask } from "../../schemas/task.js";
import { contaminationOf } from "../../stages/decontaminate.js";
import { tempDir } from "../support/stage-harness.js";

const SHARED = process.env.ARCFORGE_SHARED ?? join(process.cwd(), "..", "shared");
const ROOT = join(SHARED, "arc-data");

async function contaminated(dataset: string, split: string): Promise<string[]> {
  const index = await evaluationIndex({ root: ROOT, against: ["arc-agi-1/evaluation"], cacheDir: await tempDir() });
  const dir = join(ROOT, dataset, split);
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const task = JSON.parse(readFileSync(join(dir, name), "utf8")) as ArcTask;
      const found = contaminationOf({ task, taskKey: `${dataset}/${name.replace(".json", "")}`, index });
      return found?.kind === "contaminated" ? [`${name.replace(".json", "")} ~ ${found.matched}`] : [];
    });
}

describe.skipIf(!existsSync(ROOT))("the real ARC task files against ARC-AGI-1 evaluation", () => {
  it("finds two ARC-AGI-1 training tasks that copy evaluation tasks under other ids", async () => {
    expect(await contaminated("arc-agi-1", "training")).toEqual(["40853293 ~ arc-agi-1/070dd51e", "caa06a1f ~ arc-agi-1/50a16a69"]);
  });

  it("finds 377 of the 1,000 ARC-AGI-2 training tasks contaminated", async () => {
    expect(await contaminated("arc-agi-2", "training")).toHaveLength(377);
  });

  it("finds 7 ARC-AGI-2 evaluation tasks that are ARC-AGI-1 evaluation tasks", async () => {
    expect(await contaminated("arc-agi-2", "evaluation")).toHaveLength(7);
  });
});
