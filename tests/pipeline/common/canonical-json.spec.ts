import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cacheKey, canonicalJson } from "../../../pipeline/common/canonical-json.js";

/** The same object with its keys inserted in reverse order, all the way down. */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reversed(v)]),
  );
}

/** The rule as first written: keys by sort(), nested the same way. */
function reference(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : reference(v))).join(",")}]`;
  const record = value as Record<string, unknown>;
  const members = Object.keys(record)
    .sort()
    .filter((k) => record[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${reference(record[k])}`);
  return `{${members.join(",")}}`;
}

describe("canonical JSON", () => {
  it("orders keys exactly as sort() does, for objects of few keys and of many, any characters", () => {
    const key = fc.string({ unit: "binary", maxLength: 4 });
    const nested = fc.letrec((tie) => ({
      any: fc.oneof({ depthSize: "small" }, fc.jsonValue(), tie("object")),
      object: fc.dictionary(key, tie("any"), { maxKeys: 6 }),
    })).any;
    const value = fc.oneof(nested, fc.dictionary(key, nested, { minKeys: 17, maxKeys: 40 }));
    fc.assert(
      fc.property(value, (v) => {
        expect(canonicalJson(v)).toBe(reference(v));
      }),
      { numRuns: 1000 },
    );
  });

  it("gives equal text for equal values whatever their key order, and parses back to the value", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJson(reversed(value))).toBe(canonicalJson(value));
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 300 },
    );
  });

  it("leaves undefined members out, writes undefined in a list as null, and keeps every cache key as it was", () => {
    const value = { b: 1, a: [1, undefined, "x", { q: [] }], c: undefined, d: { z: null, y: true, é: 2.5 }, "": "" };
    expect(canonicalJson(value)).toBe('{"":"","a":[1,null,"x",{"q":[]}],"b":1,"d":{"y":true,"z":null,"é":2.5}}');
    // A different key would make every cache entry of every user miss once.
    expect(cacheKey(value)).toBe("b7024c50a28e1360d60bbaa52c1c779245844410fe7badc4b90888f3bf75af5e");
  });
});
