import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { gridsData } from "../../../pipeline/parquet/arrow-columns.js";

/** The Int64 cells under a list of grids (list -> grid -> row -> cell). */
const cellsOf = (data: ReturnType<typeof gridsData>) => data.children[0]!.children[0]!.children[0]!.values as BigInt64Array;

describe("grid columns", () => {
  it("hold every cell as the 64-bit integer it is, negative and beyond 32 bits too", () => {
    const cell = fc.oneof(
      fc.integer({ min: 0, max: 9 }),
      fc.integer(),
      fc.maxSafeInteger(),
      fc.maxSafeInteger().map((n) => -n),
      fc.constant(-1),
      fc.constant(2 ** 31),
    );
    fc.assert(
      fc.property(fc.array(fc.array(fc.array(fc.array(cell, { maxLength: 4 }), { maxLength: 3 }), { maxLength: 3 }), { maxLength: 4 }), (values) => {
        const expected = values.flat(3).map((v) => BigInt(v));
        expect([...cellsOf(gridsData(values))]).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it("hold the same cells and offsets when one grid array stands in many rows as when each row has its own copy", () => {
    const grid = fc.array(fc.array(fc.integer({ min: -3, max: 2 ** 40 }), { maxLength: 4 }), { maxLength: 3 });
    fc.assert(
      fc.property(fc.array(grid, { minLength: 1, maxLength: 4 }), fc.array(fc.array(fc.nat(), { maxLength: 4 }), { maxLength: 6 }), (pool, picks) => {
        // Rows whose grids are the very same arrays (a task's own grids, a program's shared outputs), and their deep copies.
        const shared = picks.map((list) => list.map((i) => pool[i % pool.length]!));
        const copied = JSON.parse(JSON.stringify(shared)) as typeof shared;
        const offsets = (data: ReturnType<typeof gridsData>) => [data, data.children[0]!, data.children[0]!.children[0]!].map((d) => [...d.valueOffsets]);
        const a = gridsData(shared);
        const b = gridsData(copied);
        expect([...cellsOf(a)]).toEqual([...cellsOf(b)]);
        expect(offsets(a)).toEqual(offsets(b));
      }),
      { numRuns: 300 },
    );
  });
});
