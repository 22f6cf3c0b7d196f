import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readLogsStage } from "../../stages/read-logs.js";
import { stageInputs } from "../../pipeline/engine/stage.js";
import { context, demoWorld, runStage, shardsOf, tempDir } from "../support/stage-harness.js";

async function read(overrides = {}) {
  const { dir, options } = await demoWorld(overrides);
  const output = await runStage(readLogsStage, options, {}, context({ cacheDir: dir }));
  const shards = shardsOf(output);
  // Whole-file drops stay with the stage; attempt drops go to their task's shard.
  return { output: { ...output, drops: [...output.drops, ...shards.drops] }, attempts: shards.attempts, embedded: shards.embedded, dir, options };
}

const reasons = (drops: { reason: string }[]) => drops.map((d) => d.reason).sort();

describe("read-logs", () => {
  it("reads all four layouts from flat and per-run folders", async () => {
    const { attempts, embedded } = await read();
    const files = new Set(attempts.map((a) => a.logFile.split("/").pop()));
    expect(files).toContain("20250801_100000_000001_1_a1b2c3d4.json");
    expect(files).toContain("20250801_100100_000002_1_b2c3d4e5_simple.json");
    expect(files).toContain("20250801_100200_000003_1_c3d4e5f6_run1.json");
    expect(files).toContain("20250801_100500_000006_1_f6a7b8c9.json");
    expect(files).toContain("20250802_090000_000007_1_a1b2c3d4_run2.json");
    // An all_attempts log's task_data is kept once per task, not once per attempt.
    expect(embedded["arc-agi-1/f6a7b8c9"]!.train).toHaveLength(2);
    expect(attempts.every((a) => !("embeddedTask" in a))).toBe(true);
  });

  it("skips summaries and records every unreadable file with its reason, without stopping", async () => {
    const { output } = await read();
    const fileDrops = output.drops.filter((d) => !d.id.includes("#"));
    expect(reasons(fileDrops)).toEqual(["invalid_json", "summary_file", "unknown_layout"]);
    expect(fileDrops.every((d) => d.scope === "file")).toBe(true);
    expect(fileDrops.find((d) => d.reason === "unknown_layout")!.detail).toContain("telepathy");
  });

  it("takes only the first turn of a multi-turn log and drops attempts without a program", async () => {
    const { attempts, output } = await read();
    expect(attempts.filter((a) => a.taskId === "c3d4e5f6")).toHaveLength(1);
    expect(reasons(output.drops.filter((d) => d.id.includes("#")))).toEqual(["multiturn_later_turn", "multiturn_later_turn", "no_program"]);
    expect(output.drops.find((d) => d.reason === "no_program")).toMatchObject({ taskId: "a1b2c3d4", id: expect.stringContaining("a1b2c3d4.json#8") });
  });

  it("defaults a log without dataset to arc-agi-1 and reads the dataset a log names", async () => {
    const { attempts } = await read();
    expect(attempts.find((a) => a.taskId === "b2c3d4e5")!.dataset).toBe("arc-agi-1");
    expect(attempts.find((a) => a.taskId === "e5f6a7b8")!.dataset).toBe("arc-agi-2");
  });

  it("keeps the reasoning text a response carries", async () => {
    const { attempts } = await read();
    expect(attempts.find((a) => a.id.endsWith("a1b2c3d4.json#1"))!.reasoning).toBe("Each row is mirrored.");
    expect(attempts.find((a) => a.id.endsWith("a1b2c3d4.json#2"))!.reasoning).toBeNull();
  });

  it("filters by model case-insensitively, and by several models", async () => {
    const one = await read({ models: ["DEMO/CODER-A"] });
    expect(new Set(one.attempts.map((a) => a.model.toLowerCase()))).toEqual(new Set(["demo/coder-a"]));
    expect(one.attempts.some((a) => a.model === "Demo/Coder-A")).toBe(true);
    expect(one.output.drops.some((d) => d.reason === "filtered_model")).toBe(true);
    const both = await read({ models: ["demo/coder-a", "demo/coder-b"] });
    expect(both.output.drops.some((d) => d.reason === "filtered_model")).toBe(false);
  });

  it("filters by dataset, subset, date range, name pattern and last N files", async () => {
    expect(new Set((await read({ dataset: "arc-agi-2" })).attempts.map((a) => a.taskId))).toEqual(new Set(["e5f6a7b8"]));
    expect((await read({ subset: "demo" })).attempts.every((a) => a.subset === "demo")).toBe(true);
    const dated = await read({ dateFrom: "20250802", dateTo: "20250802" });
    expect(new Set(dated.attempts.map((a) => a.logFile.split("/").pop()))).toEqual(
      new Set(["20250802_090000_000007_1_a1b2c3d4_run2.json", "20250802_092000_000010_1_0badf00d.json"]),
    );
    expect(dated.output.drops.filter((d) => d.reason === "filtered_date").length).toBe(8);
    expect((await read({ pattern: "*_simple.json" })).attempts.every((a) => a.taskId === "b2c3d4e5")).toBe(true);
    const last = await read({ limit: 1 });
    expect(new Set(last.attempts.map((a) => a.logFile.split("/").pop()))).toEqual(new Set(["20250802_092000_000010_1_0badf00d.json"]));
    expect(last.output.drops.filter((d) => d.reason === "filtered_limit").length).toBeGreaterThan(0);
  });

  it("names the broken contract of a malformed log", async () => {
    const { dir, options } = await demoWorld();
    const logs = join(dir, "more");
    await mkdir(logs);
    await writeFile(join(logs, "20250901_000000_1_1_zzzzzzzz.json"), JSON.stringify({ task_id: "not-hex", model: "m", api_type: "simple" }));
    const output = await runStage(readLogsStage, { ...options, logs: [logs] }, {}, context({ cacheDir: dir }));
    expect(output.drops).toEqual([
      { id: "more/20250901_000000_1_1_zzzzzzzz.json", scope: "file", reason: "malformed_log", detail: "task_id: task_id must be 8 hex characters" },
    ]);
  });

  it("keys its cache on file contents, not modification times", async () => {
    const { options } = await demoWorld();
    // Each with a cache of its own: a digest remembered by one must not stand in for reading the other's files.
    const a = await readLogsStage.key(options, stageInputs({}), context({ cacheDir: await tempDir() }));
    const { options: other } = await demoWorld();
    expect(JSON.stringify(await readLogsStage.key(other, stageInputs({}), context({ cacheDir: await tempDir() })))).toBe(JSON.stringify(a));
  });
});
