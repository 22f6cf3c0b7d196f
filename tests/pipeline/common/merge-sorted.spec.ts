import { describe, expect, it } from "vitest";
import { mergeSorted } from "../../../pipeline/common/merge-sorted.js";

describe("mergeSorted", () => {
  it("merges sorted sources into one sorted stream, equal keys in source order, each item with its source", () => {
    const merged = [...mergeSorted({ sources: [["a", "c", "e"], [], ["b", "c", "f"], ["d"]], key: (s) => s })];
    expect(merged).toEqual([
      ["a", 0],
      ["b", 2],
      ["c", 0],
      ["c", 2],
      ["d", 3],
      ["e", 0],
      ["f", 2],
    ]);
  });

  it("reads a generated source as it goes: a million items, one held at a time", () => {
    let live = 0;
    let most = 0;
    function* counted(prefix: string) {
      for (let i = 0; i < 500_000; i++) {
        live++;
        most = Math.max(most, live);
        yield `${prefix}${String(i).padStart(6, "0")}`;
      }
    }
    let count = 0;
    let sorted = true;
    let previous = "";
    for (const [item] of mergeSorted({ sources: [counted("b"), counted("a")], key: (s) => s })) {
      live--;
      sorted &&= item > previous;
      previous = item;
      count++;
    }
    expect(sorted).toBe(true);
    expect(count).toBe(1_000_000);
    expect(most).toBeLessThanOrEqual(2);
  });
});
