import { describe, expect, it } from "vitest";
import { better, bucketOf, hindsightPairs, multiturnPairs } from "../../pipeline/pairs/draw-pairs.js";
import { refinedLinks } from "../../pipeline/pairs/refined-links.js";
import type { Row } from "../../schemas/program.js";

/** A verified program of task t: k of its n train outputs right, the test solved or not. */
function row(id: string, k: number, n: number, solved = false, extra: Partial<Row> = {}): Row {
  return {
    id,
    logFile: "logs/a.json",
    attemptNumber: 1,
    taskKey: "arc-agi-1/aaaaaaaa",
    dataset: "arc-agi-1",
    taskId: "aaaaaaaa",
    model: "m",
    generation: 0,
    code: `code ${id}`,
    reasoning: null,
    predictedTrain: Array.from({ length: n }, (_, i) => [[i < k ? 1 : 0, id.length]]),
    correctTrain: Array.from({ length: n }, (_, i) => i < k),
    predictedTest: [[[1]]],
    correctTest: [solved],
    solvesTest: solved,
    loggedTestCorrect: null,
    ...extra,
  };
}
const turn = (id: string, t: number, k: number, solved = false) => row(id, k, 3, solved, { turn: t, logFile: "logs/conversation.json" });
const ids = (pairs: { parent: Row; child: Row }[]) => pairs.filter(better).map((p) => `${p.parent.id}>${p.child.id}`);

describe("multi-turn pairs", () => {
  it("pairs each turn with the latest earlier verified turn; a regression gives no pair", () => {
    expect(ids(multiturnPairs([turn("t0", 0, 1), turn("t1", 1, 0), turn("t2", 2, 2)]))).toEqual(["t1>t2"]);
  });

  it("links the turn after one without a (verified) program to the latest verified one", () => {
    expect(ids(multiturnPairs([turn("t0", 0, 0), turn("t2", 2, 1)]))).toEqual(["t0>t2"]);
  });

  it("gives two pairs for a chain of three improving turns, and none across conversations", () => {
    const other = row("x", 3, 3, true, { turn: 1, logFile: "logs/other.json" });
    expect(ids(multiturnPairs([turn("t2", 2, 3, true), turn("t0", 0, 0), turn("t1", 1, 1), other]))).toEqual(["t0>t1", "t1>t2"]);
  });

  it("calls a child better only with more train right, or as many and the test newly solved", () => {
    expect(better({ parent: row("p", 1, 3), child: row("c", 1, 3, true) })).toBe(true);
    expect(better({ parent: row("p", 1, 3, true), child: row("c", 1, 3, true) })).toBe(false);
    expect(better({ parent: row("p", 2, 3), child: row("c", 1, 3, true) })).toBe(false);
  });
});

describe("refined_from_id links", () => {
  const link = (id: string, rowId: string, from: string | null, k: number, codeOriginal: string | null = null) =>
    row(id, k, 3, false, { refined: { rowId, from, codeOriginal } });

  it("pairs a row with the row it names, and drops self-links, cycles, parents of other tasks and missing parents", () => {
    const rows = [
      link("a", "A", null, 0),
      link("b", "B", "A", 1),
      link("self", "S", "S", 1),
      link("c1", "C1", "C2", 1),
      link("c2", "C2", "C1", 2),
      link("far", "F", "Z", 2),
      link("lost", "L", "gone", 2),
      link("orig", "O", "gone", 2, "def transform(g):\n    return g"),
    ];
    const { pairs, drops, withOriginal } = refinedLinks({ rows, foreign: { far: "arc-agi-1/bbbbbbbb" } });
    expect(pairs.map((p) => `${p.parent.id}>${p.child.id}`)).toEqual(["a>b"]);
    expect(drops.map((d) => `${d.child}:${d.reason}`)).toEqual(["self:self_link", "c1:cycle", "c2:cycle", "far:parent_other_task", "lost:parent_missing"]);
    expect(withOriginal.map((r) => r.id)).toEqual(["orig"]);
  });
});

describe("hindsight pairs (SOAR)", () => {
  it("buckets parents at each boundary: k = 0, 3k = n (low), k/n just under and exactly 0.98", () => {
    expect(bucketOf(row("z", 0, 3))).toBe("zero");
    expect(bucketOf(row("l", 1, 3))).toBe("low");
    expect(bucketOf(row("m", 2, 3))).toBe("medium");
    expect(bucketOf(row("m2", 48, 50))).toBe("medium");
    expect(bucketOf(row("x", 49, 50))).toBe("max");
    expect(bucketOf(row("y", 3, 3))).toBe("max");
  });

  it("gives no pair to a task no program solves", () => {
    expect(hindsightPairs({ rows: [row("a", 0, 3), row("b", 2, 3)], seed: 42, limit: 50 })).toEqual([]);
  });

  it("goes round the non-empty buckets, pairing each parent with the next child cyclically, up to the limit", () => {
    const rows = [row("z1", 0, 3), row("z2", 0, 3), row("z3", 0, 3), row("l1", 1, 3), row("x1", 3, 3), row("s1", 3, 3, true), row("s2", 3, 3, true)];
    const pairs = hindsightPairs({ rows, seed: 42, limit: 4 });
    expect(pairs.map((p) => p.bucket)).toEqual(["zero", "low", "max", "zero"]);
    expect(new Set(pairs.map((p) => p.child.id))).toEqual(new Set(["s1", "s2"]));
    expect(pairs[0]!.child.id).not.toBe(pairs[1]!.child.id);
  });

  it("draws the same pairs whatever the order of its inputs", () => {
    const rows = Array.from({ length: 30 }, (_, i) => row(`p${i}`, i % 3, 3, false)).concat([row("s1", 3, 3, true), row("s2", 3, 3, true)]);
    const draw = (input: Row[]) => hindsightPairs({ rows: input, seed: 7, limit: 10 }).map((p) => `${p.parent.id}>${p.child.id}`);
    expect(draw([...rows].reverse())).toEqual(draw(rows));
    expect(draw(rows)).toHaveLength(10);
  });
});
