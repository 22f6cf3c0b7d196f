import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runBounded } from "../../../pipeline/engine/run-bounded.js";

/** Runs items that take a few ticks each, recording the most items and the most weight in flight. */
async function observe(params: { weights: number[]; concurrency: number; budget: number }) {
  let items = 0;
  let weight = 0;
  const peak = { items: 0, weight: 0, aloneOverBudget: true };
  const results = await runBounded({
    items: params.weights.map((w, i) => ({ i, w })),
    concurrency: params.concurrency,
    budget: params.budget,
    weight: (item) => item.w,
    run: async (item) => {
      items++;
      weight += item.w;
      peak.items = Math.max(peak.items, items);
      if (item.w <= params.budget) peak.weight = Math.max(peak.weight, weight);
      else if (items > 1) peak.aloneOverBudget = false;
      for (let t = 0; t < 1 + (item.i % 3); t++) await new Promise((r) => setImmediate(r));
      if (item.w > params.budget && items > 1) peak.aloneOverBudget = false;
      items--;
      weight -= item.w;
      return item.i;
    },
  });
  return { results, peak };
}

describe("running tasks within a count and a weight budget", () => {
  it("never exceeds either bound, runs an item heavier than the budget alone, and keeps item order", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 60 }),
        async (weights, concurrency, budget) => {
          const { results, peak } = await observe({ weights, concurrency, budget });
          expect(results).toEqual(weights.map((_, i) => i));
          expect(peak.items).toBeLessThanOrEqual(concurrency);
          expect(peak.weight).toBeLessThanOrEqual(budget);
          expect(peak.aloneOverBudget).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("runs light items side by side up to the count", async () => {
    const { peak } = await observe({ weights: [1, 1, 1, 1, 1, 1], concurrency: 4, budget: 100 });
    expect(peak.items).toBe(4);
  });

  it("after a failure starts nothing more, and raises it only once the items running have ended", async () => {
    const started: number[] = [];
    const ended: number[] = [];
    const run = runBounded({
      items: [0, 1, 2, 3, 4, 5, 6, 7],
      concurrency: 3,
      budget: 100,
      weight: () => 1,
      run: async (i) => {
        started.push(i);
        for (let t = 0; t < (i === 1 ? 1 : 5); t++) await new Promise((r) => setImmediate(r));
        if (i === 1) throw new Error("task 1 failed");
        ended.push(i);
        return i;
      },
    });
    await expect(run).rejects.toThrow("task 1 failed");
    // 0 and 2 were running when 1 failed: both finished before the failure was raised; 3.. never started.
    expect(started.sort()).toEqual([0, 1, 2]);
    expect(ended.sort()).toEqual([0, 2]);
  });
});
