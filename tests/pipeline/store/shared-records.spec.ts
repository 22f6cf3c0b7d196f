import { describe, expect, it } from "vitest";
import { sharedRecordsOf } from "../../../pipeline/store/shared-records.js";

const lines = (records: unknown[]) => Buffer.from(records.map((r) => `${JSON.stringify(r)}\n`).join(""));
const grid = [
  [1, 2],
  [3, 4],
];

describe("reading a stage's records back", () => {
  it("gives every record as written, in order", () => {
    const records = [
      { id: "a#1", code: "x", predicted: [grid] },
      { id: 'odd "id" \\ #2', code: "x", predicted: [grid] },
      { code: "no id first", id: "c#3" },
      { id: "d#4" },
      { id: "e#5" },
      { id: "f#6", code: "y", predicted: [grid], note: null },
      { id: "g#7", code: "é ✓", predicted: [] },
    ];
    expect(sharedRecordsOf(lines(records))).toEqual(records);
  });

  it("gives only the records asked for, in file order, whether or not a line starts with its id", () => {
    const records = [{ id: "a#1", code: "x" }, { code: "no id first", id: "b#2" }, { id: 'odd "id" #3' }, { id: "d#4", code: "x" }];
    expect(sharedRecordsOf(lines(records), new Set(["d#4", 'odd "id" #3', "b#2"]))).toEqual(records.slice(1));
    expect(sharedRecordsOf(lines(records), new Set(["none"]))).toEqual([]);
  });

  it("shares the fields of records equal but for their id, each record its own object", () => {
    const read = sharedRecordsOf<{ id: string; predicted: number[][][] }>(
      lines([1, 2, 3].map((n) => ({ id: `logs/a.json#${n}`, code: "def transform(g):\n    return g", predicted: [grid, grid] }))),
    );
    expect(read.map((r) => r.id)).toEqual(["logs/a.json#1", "logs/a.json#2", "logs/a.json#3"]);
    expect(read[1]).not.toBe(read[0]);
    expect(read[1]!.predicted).toBe(read[0]!.predicted);
    expect(read[2]!.predicted).toBe(read[0]!.predicted);
  });

  it("never shares between records that differ, even where the sketch cannot tell them apart", () => {
    // The sketch reads every 16th character: these differ elsewhere, and are the same length.
    const a = { id: "1", code: "a".repeat(40), v: 1 };
    const b = { id: "2", code: `${"a".repeat(20)}b${"a".repeat(19)}`, v: 1 };
    const c = { id: "3", code: "a".repeat(40), v: 2 };
    const read = sharedRecordsOf<{ code: string; v: number }>(lines([a, b, c, a]));
    expect(read).toEqual([a, b, c, a]);
  });
});
