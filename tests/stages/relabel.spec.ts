import { describe, expect, it } from "vitest";
import { stageInputs } from "../../pipeline/engine/stage.js";
import { DEFAULT_BUILD_OPTIONS } from "../../schemas/build-options.js";
import { relabel, relabelStage } from "../../stages/relabel.js";
import { context } from "../support/stage-harness.js";
import { ok, program, task } from "../support/rows.js";

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
  it("as a stage: labels every program against its task and counts what the rows get right", async () => {
    const programs = [program("f#1", [ok([[2]]), ok([[4]]), ok([[6]]), ok([[8]])]), program("f#2", [ok([[2]]), ok([[0]]), ok([[0]]), ok([[8]])])];
    const out = await relabelStage.run({
      options: { ...DEFAULT_BUILD_OPTIONS, logs: [], out: "" },
      upstream: stageInputs({
        input: { records: programs, drops: [] },
        sides: { "load-tasks": { records: [], drops: [], data: { tasks: { "arc-agi-1/aaaaaaaa": task } } } },
      }),
      context: context({ cacheDir: "/nonexistent" }),
      dir: "/nonexistent",
    });
    expect(out.records.map((r) => [r.id, r.solvesTest, r.correctTrain])).toEqual([
      ["f#1", true, [true, true]],
      ["f#2", false, [true, false]],
    ]);
    expect(out.counts).toMatchObject({ rows: 2, any_train_correct: 2, all_train_correct: 1, test_solved: 1, all_train_and_test: 1 });
  });

  it("as a stage: keeps a program's reasoning only for a test-solving row with --reasoning, the only reasoning a dataset writes", async () => {
    const thinking = (id: string, outcomes: Parameters<typeof program>[1]) => ({ ...program(id, outcomes), reasoning: `why ${id}` });
    const programs = [thinking("f#1", [ok([[2]]), ok([[4]]), ok([[6]]), ok([[8]])]), thinking("f#2", [ok([[2]]), ok([[0]]), ok([[0]]), ok([[8]])])];
    const reasoningOf = async (reasoning: boolean) => {
      const options = { ...DEFAULT_BUILD_OPTIONS, logs: [], out: "", reasoning };
      const out = await relabelStage.run({
        options,
        upstream: stageInputs({
          input: { records: programs, drops: [] },
          sides: { "load-tasks": { records: [], drops: [], data: { tasks: { "arc-agi-1/aaaaaaaa": task } } } },
        }),
        context: context({ cacheDir: "/nonexistent" }),
        dir: "/nonexistent",
      });
      return out.records.map((r) => r.reasoning);
    };
    expect(await reasoningOf(true)).toEqual(["why f#1", null]);
    expect(await reasoningOf(false)).toEqual([null, null]);
    // Which rows carry it depends on the option: the option is part of the stage's key.
    const key = (reasoning: boolean) =>
      relabelStage.key({ ...DEFAULT_BUILD_OPTIONS, logs: [], out: "", reasoning }, undefined as never, context({ cacheDir: "/nonexistent" }));
    expect(key(true)).not.toEqual(key(false));
  });
});
