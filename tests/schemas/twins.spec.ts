import { describe, expect, it } from "vitest";
import { dropWeight, expandTwins, totalWeight, twinIds, twinKey, type Twins, withTwins } from "../../schemas/twins.js";

const attempt = (n: number, extra: Record<string, unknown> = {}): { id: string; attemptNumber: number; code: string; twins?: Twins } => ({
  id: `logs/a.json#${n}`,
  attemptNumber: n,
  code: "def transform(g):\n    return g",
  ...extra,
});

describe("twins: identical attempts of one file read as one", () => {
  it("are attempts equal in everything but their number", () => {
    expect(twinKey(attempt(1))).toBe(twinKey(attempt(7)));
    expect(twinKey(attempt(1))).not.toBe(twinKey(attempt(2, { reasoning: "other" })));
    expect(twinKey(attempt(1))).not.toBe(twinKey({ ...attempt(1), id: "logs/b.json#1" }));
  });

  it("never groups an attempt whose id does not end in its number (its twins' ids could not be spelled)", () => {
    expect(twinKey({ id: "logs/a.json#first", attemptNumber: 1 })).toBeUndefined();
    expect(twinKey({ id: "src:train:12", attemptNumber: 3 })).toBeUndefined();
  });

  it("are stood for by the lowest number, whatever order they came in", () => {
    const grouped = withTwins(attempt(5), [9, 2, 5]);
    expect(grouped).toMatchObject({ id: "logs/a.json#2", attemptNumber: 2, twins: { prefix: "logs/a.json#", numbers: [5, 5, 9] } });
    expect(twinIds(grouped.twins)).toEqual(["logs/a.json#5", "logs/a.json#5", "logs/a.json#9"]);
    expect(totalWeight([grouped, attempt(1)])).toBe(5);
  });

  it("expand back into one record per attempt, each with its own id and number", () => {
    const [one, ...rest] = expandTwins([withTwins(attempt(1), [3, 2])]);
    expect(one).toEqual(attempt(1));
    expect(rest).toEqual([attempt(2), attempt(3)]);
  });

  it("count in a drop: the record unless only its twins were dropped", () => {
    const twins = { prefix: "x#", numbers: [2, 3] };
    expect(dropWeight({ twins })).toBe(3);
    expect(dropWeight({ twins, twinsOnly: true })).toBe(2);
    expect(dropWeight({})).toBe(1);
  });
});
