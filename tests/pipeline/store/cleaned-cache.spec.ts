import { describe, expect, it } from "vitest";
import { CleanedCache } from "../../../pipeline/store/cleaned-cache.js";
import { closeKvStore, kvTable } from "../../../pipeline/store/kv-store.js";
import { ExecCache } from "../../../pipeline/store/exec-cache.js";
import { cacheKey } from "../../../pipeline/common/canonical-json.js";
import { tempDir } from "../../support/stage-harness.js";

describe("the cleaned-code cache", () => {
  it("answers by raw code and stores a cleaned text once for all the variants that clean to it", async () => {
    const cacheDir = await tempDir();
    const cache = new CleanedCache({ cacheDir, cleaner: "v1", fresh: false });
    const clean = "def transform(g):\n    return g\n";
    const variants = [0, 1, 2].map((k) => `def transform(g):\n    # variant ${k}\n    return g\n`);
    await cache.put([
      ...variants.map((v) => [v, { code: clean, status: "cleaned" }] as [string, { code: string; status: "cleaned" }]),
      [clean, { code: clean, status: "unchanged" }],
    ]);
    for (const v of variants) expect(cache.get(v)).toEqual({ code: clean, status: "cleaned" });
    expect(cache.get(clean)).toEqual({ code: clean, status: "unchanged" });
    expect(kvTable<string>(cacheDir, "cleaned-text").getKeysCount()).toBe(1);
    expect(new CleanedCache({ cacheDir, cleaner: "v2", fresh: false }).get(variants[0]!)).toBeUndefined();
    expect(new CleanedCache({ cacheDir, cleaner: "v1", fresh: true }).get(variants[0]!)).toBeUndefined();
    await closeKvStore(cacheDir);
  });
});

describe("the execution cache's key", () => {
  it("is the canonical-JSON key of code, input and limits, written out for speed", () => {
    const limits = { timeoutSeconds: 1.5, memoryBytes: 1 << 30 };
    for (const input of [
      [[0]],
      [
        [1, 2],
        [3, 4],
      ],
      [],
      [[]],
    ]) {
      for (const code of ["def transform(g):\n    return g\n", 'x = "é\\u2028"'])
        expect(ExecCache.key({ code, input, limits })).toBe(cacheKey({ code, input, limits }));
    }
  });
});
