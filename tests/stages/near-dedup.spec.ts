import { describe, expect, it } from "vitest";
import { NormaliserPool } from "../../pipeline/cleaner/cleaner-pool.js";
import { stageInputs } from "../../pipeline/engine/stage.js";
import { DEFAULT_BUILD_OPTIONS } from "../../schemas/build-options.js";
import type { Row } from "../../schemas/program.js";
import { jaccard, nearDedupStage, nearDuplicates, shingles } from "../../stages/near-dedup.js";
import { row } from "../support/rows.js";
import { context, tempDir } from "../support/stage-harness.js";

const MIRROR = `import numpy as np
from collections import Counter

def transform(grid):
    arr = np.array(grid)
    height, width = arr.shape
    counts = Counter(arr.flatten().tolist())
    background = counts.most_common(1)[0][0]
    out = np.full((height, width), background)
    for r in range(height):
        for c in range(width):
            if arr[r, c] != background:
                out[r, width - 1 - c] = arr[r, c]
    return out.tolist()`;

const RENAMED = `from collections import Counter
import numpy as numpy_lib

def transform(g):
    # the same program, other names, imports swapped
    a = numpy_lib.array(g)
    h, w = a.shape
    tally = Counter(a.flatten().tolist())
    bg = tally.most_common(1)[0][0]
    result = numpy_lib.full((h, w), bg)
    for i in range(h):
        for j in range(w):
            if a[i, j] != bg:
                result[i, w - 1 - j] = a[i, j]
    return result.tolist()`;

const OTHER_LOGIC = `import numpy as np
from collections import Counter

def transform(grid):
    arr = np.array(grid)
    counts = Counter(arr.flatten().tolist())
    rare = min(counts, key=counts.get)
    rows, cols = np.where(arr == rare)
    box = arr[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    return np.rot90(box, 2).tolist()`;

async function normalised(codes: string[]) {
  const pool = new NormaliserPool({ processes: 1 });
  try {
    return await Promise.all(
      codes.map(async (code) => {
        const answer = await pool.ask(code);
        if (!("tokens" in answer)) throw new Error(answer.error);
        return answer.tokens;
      }),
    );
  } finally {
    await pool.close();
  }
}

describe("structural near-duplicates", () => {
  it("catch a copy with renamed variables and reordered imports at 0.9, and not a program of other logic sharing its boilerplate", async () => {
    const [mirror, renamed, other] = (await normalised([MIRROR, RENAMED, OTHER_LOGIC])).map(shingles);
    expect(jaccard(mirror!, renamed!)).toBeGreaterThanOrEqual(0.9);
    expect(jaccard(mirror!, other!)).toBeLessThan(0.5);
  });

  it("keep A and C of a chain A~B, B~C where A is not like C: only kept programs are compared", () => {
    const tokens = (from: number) => Array.from({ length: 20 }, (_, i) => `t${from + i}`);
    const drops = nearDuplicates({
      programs: [
        { id: "A", taskId: "t", tokens: tokens(0) },
        { id: "B", taskId: "t", tokens: tokens(2) },
        { id: "C", taskId: "t", tokens: tokens(4) },
      ],
      threshold: 0.7,
    });
    expect(drops.map((d) => [d.id, d.detail])).toEqual([["B", "like A (Jaccard 0.778)"]]);
  });

  it("drop the same programs, naming the same kept ones, when MinHash LSH picks the candidates (as above 2,000 programs in a task)", () => {
    let seed = 11;
    const random = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const bases = Array.from({ length: 40 }, () => Array.from({ length: 60 }, () => `t${Math.floor(random() * 200)}`));
    const programs = Array.from({ length: 400 }, (_, i) => {
      const tokens = [...bases[i % bases.length]!];
      for (let e = 0; e < i % 5; e++) tokens[Math.floor(random() * tokens.length)] = `t${Math.floor(random() * 200)}`;
      return { id: `p${String(i).padStart(3, "0")}`, taskId: "t", tokens };
    });
    const exact = nearDuplicates({ programs, threshold: 0.8, lsh: false });
    expect(exact.length).toBeGreaterThan(50);
    expect(nearDuplicates({ programs, threshold: 0.8, lsh: true })).toEqual(exact);
  });

  it("as a stage: drops the later copy in the total order whatever order rows arrive in, and leaves non-solving rows alone", async () => {
    const rows: Row[] = [
      row("log2#1", { solves: true, code: RENAMED }),
      row("log1#1", { solves: true, code: MIRROR }),
      row("log1#2", { solves: true, code: OTHER_LOGIC }),
      row("log1#3", { code: RENAMED }),
    ];
    const cacheDir = await tempDir();
    const run = async (input: Row[]) =>
      nearDedupStage.run({
        options: { ...DEFAULT_BUILD_OPTIONS, logs: [], out: "", nearDedup: 0.9 },
        upstream: stageInputs({ input: { records: input, drops: [] } }),
        context: context({ cacheDir }),
        dir: cacheDir,
      });
    const first = await run(rows);
    expect(first.drops.map((d) => [d.id, d.reason])).toEqual([["log2#1", "near_duplicate"]]);
    expect(first.records.map((r) => r.id)).toEqual(["log1#1", "log1#2", "log1#3"]);
    const again = await run([...rows].reverse());
    expect(again.drops.map((d) => d.id)).toEqual(["log2#1"]);
  });

  it("as a stage without --near-dedup: hands every row on", async () => {
    const rows = [row("a#1", { solves: true, code: MIRROR }), row("a#2", { solves: true, code: RENAMED })];
    const out = await nearDedupStage.run({
      options: { ...DEFAULT_BUILD_OPTIONS, logs: [], out: "" },
      upstream: stageInputs({ input: { records: rows, drops: [] } }),
      context: context({ cacheDir: "/nonexistent" }),
      dir: "/nonexistent",
    });
    expect(out.records).toBe(rows);
    expect(out.drops).toEqual([]);
  });
});
