import { describe, expect, it } from "vitest";
import type { Outcome } from "../../schemas/outcome.js";
import type { ExecutedProgram, Row } from "../../schemas/program.js";
import type { ArcTask } from "../../schemas/task.js";
import { balanceStage, summariseRows, type BalanceData } from "../../stages/balance.js";
import { dedupRows } from "../../stages/dedup.js";
import { relabel } from "../../stages/relabel.js";
import { revalidationMismatch } from "../../stages/revalidate.js";
import { chooseValidation } from "../../stages/split.js";
import { DEFAULT_BUILD_OPTIONS } from "../../schemas/build-options.js";
import { stageInputs } from "../../pipeline/engine/stage.js";
import { context } from "../support/stage-harness.js";

const task: ArcTask = {
  train: [
    { input: [[1]], output: [[2]] },
    { input: [[3]], output: [[4]] },
  ],
  test: [
    { input: [[5]], output: [[6]] },
    { input: [[7]], output: [[8]] },
  ],
};
const ok = (grid: number[][]): Outcome => ({ status: "ok", grid, ms: 1 });

function program(id: string, outcomes: Outcome[], code = "def transform(g): ..."): ExecutedProgram {
  return {
    id,
    logFile: id.split("#")[0]!,
    taskId: "aaaaaaaa",
    dataset: "arc-agi-1",
    subset: null,
    model: "m",
    attemptNumber: Number(id.split("#")[1]),
    code,
    reasoning: null,
    loggedTestCorrect: null,
    taskKey: "arc-agi-1/aaaaaaaa",
    outcomes,
  };
}

function row(id: string, params: { task?: string; solves?: boolean; code?: string; train?: number[][][]; correct?: boolean[] }): Row {
  return {
    id,
    logFile: id.split("#")[0]!,
    attemptNumber: Number(id.split("#")[1]),
    taskKey: `arc-agi-1/${params.task ?? "aaaaaaaa"}`,
    dataset: "arc-agi-1",
    taskId: params.task ?? "aaaaaaaa",
    model: "m",
    generation: 0,
    code: params.code ?? `code of ${id}`,
    reasoning: null,
    predictedTrain: params.train ?? [[[Number(id.split("#")[1])]]],
    correctTrain: params.correct ?? [false],
    predictedTest: [],
    correctTest: [params.solves ?? false],
    solvesTest: params.solves ?? false,
    loggedTestCorrect: null,
  };
}

describe("hindsight relabelling", () => {
  it("records the program's own outputs and whether each equals the real one", () => {
    const r = relabel({ program: program("f#1", [ok([[2]]), ok([[9]]), ok([[6]]), ok([[8]])]), task, generation: 3 });
    expect(r).toMatchObject({
      predictedTrain: [[[2]], [[9]]],
      correctTrain: [true, false],
      predictedTest: [[[6]], [[8]]],
      correctTest: [true, true],
      solvesTest: true,
      generation: 3,
    });
  });

  it("solves the test only when every test input is right, and stores [] for a failed test input", () => {
    const r = relabel({
      program: program("f#1", [ok([[2]]), ok([[4]]), ok([[6]]), { status: "error", message: "IndexError: x", ms: 1 }]),
      task,
      generation: 0,
    });
    expect(r.correctTest).toEqual([true, false]);
    expect(r.solvesTest).toBe(false);
    expect(r.predictedTest[1]).toEqual([]);
  });
});

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
});

describe("balance", () => {
  const options = { ...DEFAULT_BUILD_OPTIONS, logs: [], out: "", validation: true };
  const run = async (rows: Row[]) => {
    const out = await balanceStage.run({
      options,
      upstream: stageInputs({ sides: { tasks: { records: [], drops: [], data: { tasks: summariseRows(rows) } } } }),
      context: context({ cacheDir: "/nonexistent" }),
      dir: "/nonexistent",
    });
    const dropped = new Set((out.data as BalanceData).droppedTasks);
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

describe("validation split", () => {
  it("takes whole tasks, about min(10% of rows, 32), half from each group, never a task in both", () => {
    const rows: Row[] = [];
    for (let t = 0; t < 200; t++) for (let k = 0; k < 3; k++) rows.push(row(`t${t}#${k}`, { task: t.toString(16).padStart(8, "0"), correct: [t % 2 === 0] }));
    const chosen = chooseValidation({ tasks: summariseRows(rows), seed: 7 }).taskKeys;
    const validation = rows.filter((r) => chosen.has(r.taskKey));
    expect(validation.length).toBeGreaterThanOrEqual(30);
    expect(validation.length).toBeLessThanOrEqual(34);
    const correct = validation.filter((r) => Number.parseInt(r.taskId, 16) % 2 === 0).length;
    expect(Math.abs(correct - (validation.length - correct))).toBeLessThanOrEqual(3);
    expect(chooseValidation({ tasks: summariseRows(rows), seed: 7 }).taskKeys).toEqual(chosen);
    expect(chooseValidation({ tasks: summariseRows(rows), seed: 8 }).taskKeys).not.toEqual(chosen);
  });

  it("uses 10% when that is under 32 rows", () => {
    const rows: Row[] = [];
    for (let t = 0; t < 50; t++) rows.push(row(`t${t}#1`, { task: t.toString(16).padStart(8, "0"), correct: [t < 25] }));
    expect(chooseValidation({ tasks: summariseRows(rows), seed: 1 }).taskKeys.size).toBe(5);
  });
});

describe("re-validation", () => {
  const r = relabel({ program: program("f#1", [ok([[2]]), ok([[9]]), ok([[6]]), ok([[1]])]), task, generation: 0 });

  it("accepts a fresh execution that reproduces the row", () => {
    expect(revalidationMismatch({ row: r, task, outcomes: [ok([[2]]), ok([[9]]), ok([[6]]), ok([[1]])] })).toBeNull();
  });

  it("names the example whose stored output a run under another seed does not reproduce", () => {
    expect(revalidationMismatch({ row: r, task, outcomes: [ok([[2]]), ok([[5]]), ok([[6]]), ok([[1]])] })).toEqual({
      reason: "nondeterministic",
      detail: "train 1: another seed gives another output (ok)",
    });
    expect(revalidationMismatch({ row: { ...r, correctTest: [false, false] }, task, outcomes: [ok([[2]]), ok([[9]]), ok([[6]]), ok([[1]])] })).toEqual({
      reason: "revalidation_mismatch",
      detail: "test 0: correctness flag differs",
    });
  });
});
