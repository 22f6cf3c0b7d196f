import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Row } from "../../schemas/program.js";
import { chooseValidation } from "../../stages/split.js";
import { balanceStage, summariseRows } from "../../stages/balance.js";
import { DEFAULT_BUILD_OPTIONS } from "../../schemas/build-options.js";
import { context, runStage } from "../support/stage-harness.js";
import { selectTask } from "../../stages/select.js";

function makeRow(params: { id: string; task: string; dataset?: string; correct: boolean; solves?: boolean; code?: string; train?: number[][][] }): Row {
  const dataset = params.dataset ?? "arc-agi-1";
  return {
    id: params.id,
    logFile: params.id.split("#")[0]!,
    attemptNumber: Number(params.id.split("#")[1] ?? 1),
    taskKey: `${dataset}/${params.task}`,
    dataset,
    taskId: params.task,
    model: "m",
    generation: 0,
    code: params.code ?? `code ${params.id}`,
    reasoning: null,
    predictedTrain: params.train ?? [[[1]]],
    correctTrain: [params.correct],
    predictedTest: [[[1]]],
    correctTest: [params.solves ?? false],
    solvesTest: params.solves ?? false,
    loggedTestCorrect: null,
  };
}

/** Tasks as (rows, correct?, also in arc-agi-2?) triples, turned into rows. */
const tasksArbitrary = fc.array(fc.record({ rows: fc.integer({ min: 1, max: 60 }), correct: fc.boolean(), twin: fc.boolean() }), {
  minLength: 2,
  maxLength: 80,
});

function rowsOf(tasks: { rows: number; correct: boolean; twin: boolean }[]): Row[] {
  return tasks.flatMap((t, k) => {
    const task = k.toString(16).padStart(8, "0");
    const own = Array.from({ length: t.rows }, (_, i) => makeRow({ id: `log${k}#${i}`, task, correct: t.correct }));
    return t.twin ? [...own, makeRow({ id: `twin${k}#0`, task, dataset: "arc-agi-2", correct: !t.correct })] : own;
  });
}

describe("the validation split, for any task counts and group sizes", () => {
  it("never leaves train empty, never leaves validation empty, never puts a task id in both, and keeps to its cap", () => {
    fc.assert(
      fc.property(tasksArbitrary, fc.integer({ min: 0, max: 1000 }), (tasks, seed) => {
        const rows = rowsOf(tasks);
        const { taskKeys, cap } = chooseValidation({ tasks: summariseRows(rows), seed });
        const validation = rows.filter((r) => taskKeys.has(r.taskKey));
        const train = rows.filter((r) => !taskKeys.has(r.taskKey));
        expect(train.length).toBeGreaterThan(0);
        expect(validation.length).toBeGreaterThan(0);
        const trainIds = new Set(train.map((r) => r.taskId));
        for (const r of validation) expect(trainIds.has(r.taskId)).toBe(false);
        if (validation.length > cap) {
          // Only when a group's smallest task alone is over the cap: then validation holds one task a group.
          const units = new Set(validation.map((r) => r.taskId));
          expect(units.size).toBeLessThanOrEqual(2);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("takes a task from each non-empty group when both exist and train can spare them", () => {
    fc.assert(
      fc.property(
        tasksArbitrary.filter((t) => t.length >= 3 && t.some((x) => x.correct && !x.twin) && t.some((x) => !x.correct && !x.twin) && t.every((x) => !x.twin)),
        fc.integer(),
        (tasks, seed) => {
          const rows = rowsOf(tasks);
          const { taskKeys } = chooseValidation({ tasks: summariseRows(rows), seed });
          const groups = new Set(rows.filter((r) => taskKeys.has(r.taskKey)).map((r) => r.correctTrain[0]));
          expect(groups.size).toBe(2);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("takes the one task of a one-task group, and keeps train non-empty", () => {
    const rows = rowsOf([{ rows: 3, correct: true, twin: false }, ...Array.from({ length: 6 }, () => ({ rows: 2, correct: false, twin: false }))]);
    const { taskKeys } = chooseValidation({ tasks: summariseRows(rows), seed: 1 });
    expect(taskKeys.has("arc-agi-1/00000000")).toBe(true);
    expect(rows.some((r) => !taskKeys.has(r.taskKey) && !r.correctTrain[0])).toBe(true);
  });

  it("with every task in one group, gives that group the whole target", () => {
    const rows = rowsOf(Array.from({ length: 40 }, () => ({ rows: 2, correct: true, twin: false })));
    const { taskKeys, target } = chooseValidation({ tasks: summariseRows(rows), seed: 3 });
    expect(target).toBe(8);
    expect(rows.filter((r) => taskKeys.has(r.taskKey))).toHaveLength(8);
  });

  it("with two tasks, puts one in each split", () => {
    const rows = rowsOf([
      { rows: 5, correct: true, twin: false },
      { rows: 5, correct: false, twin: false },
    ]);
    const { taskKeys } = chooseValidation({ tasks: summariseRows(rows), seed: 9 });
    expect(taskKeys.size).toBe(1);
  });

  it("is the same for the same seed and rows in any order", () => {
    fc.assert(
      fc.property(tasksArbitrary, fc.integer(), (tasks, seed) => {
        const rows = rowsOf(tasks);
        expect(chooseValidation({ tasks: summariseRows([...rows].reverse()), seed }).taskKeys).toEqual(
          chooseValidation({ tasks: summariseRows(rows), seed }).taskKeys,
        );
      }),
      { numRuns: 100 },
    );
  });
});

describe("per-task selection", () => {
  const rows = [
    makeRow({ id: "a#1", task: "t", correct: true, solves: true, code: "a long program that solves everything" }),
    makeRow({ id: "a#2", task: "t", correct: true, solves: true, code: "short solver" }),
    makeRow({ id: "a#3", task: "t", correct: true, code: "right on train" }),
    ...Array.from({ length: 6 }, (_, k) => makeRow({ id: `b#${k}`, task: "t", correct: false, train: [[[k % 3]]] })),
  ];

  it("best: by SOAR's score, then the shorter code", () => {
    expect(selectTask({ rows, max: 2, strategy: "best", seed: 1, taskKey: "arc-agi-1/t" }).map((r) => r.id)).toEqual(["a#2", "a#1"]);
  });

  it("greedy-diverse: half the best, half programs with outputs not yet chosen", () => {
    const chosen = selectTask({ rows, max: 4, strategy: "greedy-diverse", seed: 1, taskKey: "arc-agi-1/t" });
    expect(chosen.slice(0, 2).map((r) => r.id)).toEqual(["a#2", "a#1"]);
    const diverse = chosen.slice(2).map((r) => JSON.stringify(r.predictedTrain));
    expect(new Set(diverse).size).toBe(2);
    expect(chosen.slice(2).every((r) => !r.correctTrain[0])).toBe(true);
  });

  it("random: a seeded sample, the same for the same seed", () => {
    const a = selectTask({ rows, max: 3, strategy: "random", seed: 5, taskKey: "arc-agi-1/t" }).map((r) => r.id);
    expect(selectTask({ rows: [...rows].reverse(), max: 3, strategy: "random", seed: 5, taskKey: "arc-agi-1/t" }).map((r) => r.id)).toEqual(a);
    expect(a).toHaveLength(3);
  });

  it("keeps every row of a task within budget", () => {
    expect(selectTask({ rows: rows.slice(0, 2), max: 5, strategy: "best", seed: 0, taskKey: "arc-agi-1/t" })).toHaveLength(2);
  });
});

describe("--validation-size and --no-balance", () => {
  const many = (n: number, group: "correct" | "incorrect") =>
    Array.from({ length: n }, (_, i) => ({
      taskKey: `arc-agi-1/${group[0]}${String(i).padStart(7, "0")}`,
      taskId: `${group[0]}${String(i).padStart(7, "0")}`,
      rows: 5,
      group,
    }));

  it("aims validation at a row count or a fraction instead of 10% capped at 32", () => {
    const tasks = [...many(40, "correct"), ...many(40, "incorrect")];
    expect(chooseValidation({ tasks, seed: 42 }).target).toBe(32);
    expect(chooseValidation({ tasks, seed: 42, size: 100 }).target).toBe(100);
    expect(chooseValidation({ tasks, seed: 42, size: 0.25 }).target).toBe(100);
    const choice = chooseValidation({ tasks, seed: 42, size: 100 });
    expect(choice.taskKeys.size * 5).toBeGreaterThanOrEqual(90);
  });

  it("keeps every task of a 21-task build with --no-balance, where balancing kept few", async () => {
    const summaries = [...many(19, "correct"), ...many(2, "incorrect")];
    const balanced = await runStage(
      balanceStage,
      { ...DEFAULT_BUILD_OPTIONS, logs: [], out: "", validation: true },
      { sides: { tasks: { records: [], drops: [], data: { tasks: summaries } } } },
      context({ cacheDir: "/tmp" }),
    );
    expect((balanced.data as { droppedTasks: string[] }).droppedTasks).toHaveLength(17);
    const unbalanced = await runStage(
      balanceStage,
      { ...DEFAULT_BUILD_OPTIONS, logs: [], out: "", validation: true, balance: false },
      { sides: { tasks: { records: [], drops: [], data: { tasks: summaries } } } },
      context({ cacheDir: "/tmp" }),
    );
    expect((unbalanced.data as { droppedTasks: string[] }).droppedTasks).toEqual([]);
  });
});
