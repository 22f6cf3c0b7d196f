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
});
