import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../../pipeline/common/paths.js";
import { BUILD_STAGES, TASK_WIRING } from "../../../pipeline/orchestrator/build-stages.js";

describe("the registered stages", () => {
  const doc = readFileSync(join(packageRoot(), "docs", "architecture.md"), "utf8");

  it("are each named in docs/architecture.md, so the document cannot fall behind the code", () => {
    const missing = BUILD_STAGES.map((s) => s.name).filter((name) => !new RegExp(`\\b${name}\\b`).test(doc));
    expect(missing).toEqual([]);
    expect(BUILD_STAGES.length).toBeGreaterThanOrEqual(16);
  });

  it("wire each task stage to its predecessor first, then its side inputs, as their cache keys have always listed them", () => {
    expect(Object.fromEntries(TASK_WIRING)).toEqual({
      "load-tasks": ["attempts"],
      decontaminate: ["load-tasks"],
      "clean-code": ["decontaminate"],
      "filter-transductive": ["clean-code", "load-tasks"],
      execute: ["filter-transductive", "load-tasks"],
      "filter-augment": ["execute", "load-tasks"],
      relabel: ["filter-augment", "load-tasks"],
      revalidate: ["relabel", "load-tasks"],
      "filter-degenerate": ["revalidate", "load-tasks"],
      dedup: ["filter-degenerate"],
      "near-dedup": ["dedup"],
      against: ["near-dedup", "attempts", "load-tasks"],
      select: ["against"],
      pair: ["select", "load-tasks"],
    });
  });
});
