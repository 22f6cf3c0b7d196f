import { describe, expect, it } from "vitest";
import { relabel } from "../../stages/relabel.js";
import { revalidationMismatch } from "../../stages/revalidate.js";
import { ok, program, task } from "../support/rows.js";

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
