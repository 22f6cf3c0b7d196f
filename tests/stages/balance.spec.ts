import { describe, expect, it } from "vitest";
import { stageInputs } from "../../pipeline/engine/stage.js";
import { DEFAULT_BUILD_OPTIONS } from "../../schemas/build-options.js";
import type { Row } from "../../schemas/program.js";
import { balanceStage, summariseRows } from "../../stages/balance.js";
import { context } from "../support/stage-harness.js";
import { row } from "../support/rows.js";

describe("balance", () => {
  const options = { ...DEFAULT_BUILD_OPTIONS, logs: [], out: "", validation: true };
  const run = async (rows: Row[]) => {
    const out = await balanceStage.run({
      options,
      upstream: stageInputs({ sides: { tasks: { records: [], drops: [], data: { tasks: summariseRows(rows) } } } }),
      context: context({ cacheDir: "/nonexistent" }),
      dir: "/nonexistent",
    });
    const dropped = new Set(out.data?.droppedTasks);
    return { ...out, records: rows.filter((r) => !dropped.has(r.taskKey)) };
  };

  it("calls a task correct when ANY of its programs gets a train output right, not only its first", async () => {
    const rows = [row("a#1", { task: "11111111" }), row("a#2", { task: "11111111", correct: [true] }), row("b#1", { task: "22222222" })];
    const out = await run(rows);
    expect(out.counts).toMatchObject({ tasks_correct: 1, tasks_incorrect: 1, tasks_dropped: 0 });
  });

  it("drops whole tasks from the larger group until both groups are equal, the same ones for the same seed", async () => {
    const rows = ["11111111", "22222222", "33333333", "44444444"].map((t, i) => row(`x#${i}`, { task: t, correct: [i > 0] }));
    const first = await run(rows);
    expect(first.records).toHaveLength(2);
    expect(first.kept).toBe(2);
    expect(first.dropped).toEqual({ balance_task_dropped: 2 });
    const ids = (out: { records: unknown[] }) => (out.records as Row[]).map((r) => r.id).sort();
    expect(ids(await run([...rows].reverse()))).toEqual(ids(first));
  });

  it("keeps every task when one group is empty rather than dropping them all", async () => {
    const out = await run([row("a#1", { task: "11111111", correct: [true] })]);
    expect(out.records).toHaveLength(1);
    expect(out.counts).toMatchObject({ balance_skipped_empty_group: 1 });
  });
});

describe("balance's summary line", () => {
  const view = (options: Partial<typeof DEFAULT_BUILD_OPTIONS>) => ({
    report: { stage: "balance", key: "", ran: true, reason: "", ms: 0, kept: 3, dropped: {}, counts: {} },
    options: { ...DEFAULT_BUILD_OPTIONS, logs: [], out: "", ...options },
    reportOf: () => undefined,
    logs: [],
    written: [],
  });

  it("says why nothing was balanced: no validation split, --no-balance, a recipe, or refinement pairs", () => {
    expect(balanceStage.summary!(view({}))).toEqual(["balance: off (no validation split)"]);
    expect(balanceStage.summary!(view({ validation: true, balance: false }))).toEqual(["balance: off (--no-balance)"]);
    expect(balanceStage.summary!(view({ validation: true, recipe: { name: "r", sql: "SELECT 1" } }))).toEqual([
      "balance: off (a recipe's rows are balanced only with --balance)",
    ]);
    expect(balanceStage.summary!(view({ validation: true, format: "refinement" }))).toEqual(["balance: off (refinement pairs are split without balancing)"]);
  });
});
