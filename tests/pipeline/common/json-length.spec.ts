import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonLength } from "../../../pipeline/common/json-length.js";

const grid = fc.array(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 6 });
/** Values JSON.stringify turns into null or leaves out, and numbers whose text is not their digits. */
const odd = fc.constantFrom(undefined, Number.NaN, Number.POSITIVE_INFINITY, -0, 1e21, -3, 2.5, 10, () => 1, Symbol("s"), '\u2028"\\\n', "é");
const value = fc.letrec((tie) => ({
  any: fc.oneof({ depthSize: "small" }, fc.jsonValue(), odd, grid, tie("array"), tie("object")),
  array: fc.array(tie("any"), { maxLength: 5 }),
  object: fc.dictionary(fc.string({ maxLength: 6 }), tie("any"), { maxKeys: 5 }),
})).any;

describe("the length of a value's JSON text, without writing it", () => {
  it("is JSON.stringify's length for any JSON-like value, with or without held lengths", () => {
    fc.assert(
      fc.property(value, (v) => {
        const expected = JSON.stringify(v)?.length ?? 4;
        expect(jsonLength(v)).toBe(expected);
        expect(jsonLength(v, new WeakMap())).toBe(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it("measures a grid once and answers for it again wherever it appears", () => {
    const held = new WeakMap<object, number>();
    const shared = [
      [1, 2],
      [3, 4],
    ];
    const row = (predicted: number[][]) => ({ code: 'print("x")', trainInputs: [shared, shared], predicted: [predicted], correct: [true, false] });
    for (const predicted of [[[0]], [[7, 7, 7]], shared]) {
      const r = row(predicted);
      expect(jsonLength(r, held)).toBe(JSON.stringify(r).length);
    }
    expect(held.get(shared)).toBe(JSON.stringify(shared).length);
  });
});
