import { describe, expect, it } from "vitest";
import { stageInputs } from "../../pipeline/engine/stage.js";
import { DEFAULT_BUILD_OPTIONS, type BuildOptions } from "../../schemas/build-options.js";
import type { Row } from "../../schemas/program.js";
import { dedupRows, dedupStage } from "../../stages/dedup.js";
import { context } from "../support/stage-harness.js";
import { row } from "../support/rows.js";

describe("dedup", () => {
  it("keeps one test-solving program per cleaned code and one other program per behaviour, per task", () => {
    const rows = [
      row("b#1", { solves: true, code: "A" }),
      row("a#2", { solves: true, code: "A" }),
      row("a#3", { solves: true, code: "B" }),
      row("a#4", { train: [[[1]]] }),
      row("a#5", { train: [[[1]]], code: "different code, same behaviour" }),
      row("a#6", { task: "bbbbbbbb", train: [[[1]]] }),
    ];
    const { kept, counts } = dedupRows(rows);
    expect(kept.map((r) => r.id)).toEqual(["a#2", "a#3", "a#4", "a#6"]);
    expect(counts).toMatchObject({ kept_test_solving: 2, kept_other: 2, duplicate_code: 1, duplicate_behaviour: 1 });
  });

  it("keeps the first by log file name then attempt number, whatever order rows arrive in", () => {
    const rows = [row("log2#1", { solves: true, code: "A" }), row("log1#10", { solves: true, code: "A" }), row("log1#9", { solves: true, code: "A" })];
    expect(dedupRows(rows).kept.map((r) => r.id)).toEqual(["log1#9"]);
    expect(dedupRows([...rows].reverse()).kept.map((r) => r.id)).toEqual(["log1#9"]);
  });
  const runStage = (rows: Row[], options: Partial<BuildOptions>) =>
    dedupStage.run({
      options: { ...DEFAULT_BUILD_OPTIONS, logs: [], out: "", ...options },
      upstream: stageInputs({ input: { records: rows, drops: [] } }),
      context: context({ cacheDir: "/nonexistent" }),
      dir: "/nonexistent",
    });
  const copies = [row("log2#1", { solves: true, code: "A" }), row("log1#1", { solves: true, code: "A" }), row("log1#2", { code: "A" })];

  it("as a stage, with --no-dedup: keeps every row, in the total order", async () => {
    const out = await runStage(copies, { dedup: false });
    expect(out.records.map((r) => r.id)).toEqual(["log1#1", "log1#2", "log2#1"]);
    expect(out.counts).toEqual({ dedup_disabled: 3 });
  });

  it("as a stage, stores what it keeps as rows of its own when that is at most half of its rows; a kept row that had twins is a new row", async () => {
    // Read back as a selection, the upstream's row would bring its twins (dropped here) back with it:
    // the engine stores an output whole when a record is not its input's (run-stages.spec).
    const distinct = [row("a#1", { solves: true, code: "A" }), row("a#2", { solves: true, code: "B" }), row("a#3", { solves: true, code: "C" })];
    expect((await runStage(distinct, {})).newRecords).toBeUndefined();
    expect((await runStage([...distinct, row("a#4", { solves: true, code: "A" })], {})).newRecords).toBeUndefined();
    const most = [
      row("a#1", { solves: true, code: "A" }),
      row("a#2", { solves: true, code: "A" }),
      row("a#3", { solves: true, code: "A" }),
      row("a#4", { solves: true, code: "B" }),
    ];
    expect((await runStage(most, {})).newRecords).toBe(true);
    const twinned = [{ ...row("a#1", { solves: true, code: "A" }), twins: { prefix: "a#", numbers: [5] } }, ...distinct.slice(1)];
    const out = await runStage(twinned, {});
    expect(out.records.map((r) => [r.id, r.twins])).toEqual([
      ["a#1", undefined],
      ["a#2", undefined],
      ["a#3", undefined],
    ]);
    expect(out.records.map((r, i) => r === twinned[i])).toEqual([false, true, true]);
  });

  it("as a stage, for the program table: one row per cleaned code, solving or not, the others dropped as copies of it", async () => {
    const out = await runStage(copies, { format: "programs" });
    expect(out.records.map((r) => r.id)).toEqual(["log1#1"]);
    expect(out.drops.map((d) => [d.id, d.reason, d.detail])).toEqual([
      ["log1#2", "copy", "same code as log1#1"],
      ["log2#1", "copy", "same code as log1#1"],
    ]);
  });
});
