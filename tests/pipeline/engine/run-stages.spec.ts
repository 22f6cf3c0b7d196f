import { describe, expect, it } from "vitest";
import { StageError, StageGraphError } from "../../../pipeline/common/errors.js";
import { formatCliError } from "../../../pipeline/commands/cli-error.js";
import { runStages } from "../../../pipeline/engine/run-stages.js";
import { type AnyStage, Chain, defineSource, defineStage } from "../../../pipeline/engine/stage.js";
import type { SourceOutput } from "../../../pipeline/engine/stage-records.js";
import { StageStore } from "../../../pipeline/store/stage-store.js";
import { context, tempDir } from "../../support/stage-harness.js";

interface Options {
  add: number;
  min: number;
}
interface Num {
  id: string;
  n: number;
}

const NUMBERS = defineSource<Num, { label: string }>("numbers");
const numbers = (values: number[]): Record<string, SourceOutput> => ({
  numbers: {
    key: `numbers:${values.join(",")}`,
    meta: { drops: [], length: values.length, data: { label: "ten" } },
    records: () => values.map((n, i) => ({ id: `r${i}`, n })),
  },
});

const addStage = defineStage<Options, Num, Num, { added: number }>({
  name: "add",
  version: 1,
  patches: true,
  key: (options) => ({ add: options.add }),
  run: async ({ options, upstream }) => ({
    records: upstream.input.records.map((r) => ({ ...r, n: r.n + options.add })),
    drops: [],
    data: { added: options.add },
  }),
});

const atLeastStage = defineStage<Options, Num, Num, undefined>({
  name: "at-least",
  version: 1,
  selects: true,
  sides: [NUMBERS],
  key: (options) => ({ min: options.min }),
  run: async ({ options, upstream }) => {
    const label = upstream.side(NUMBERS).data.label;
    const kept = upstream.input.records.filter((r) => r.n >= options.min);
    const drops = upstream.input.records.filter((r) => r.n < options.min).map((r) => ({ id: r.id, reason: "too_small", detail: label }));
    return { records: kept, drops };
  },
});

const sumStage = defineStage<Options, Num, Num, { sum: number; added: number }>({
  name: "sum",
  version: 1,
  sides: [addStage],
  key: () => ({}),
  run: async ({ upstream }) => ({
    records: [],
    drops: [],
    data: { sum: upstream.input.records.reduce((s, r) => s + r.n, 0), added: upstream.side(addStage).data.added },
  }),
});

async function run(params: { stages: readonly AnyStage<Options>[]; options?: Options; values?: number[]; store?: StageStore }) {
  const store = params.store ?? new StageStore(await tempDir("arcforge-engine-"));
  const results = await runStages({
    stages: params.stages,
    from: NUMBERS,
    options: params.options ?? { add: 1, min: 3 },
    store,
    context: context({ cacheDir: "/nonexistent" }),
    sources: numbers(params.values ?? [1, 2, 3, 4]),
    scope: "task t1",
  });
  return { results, store };
}

describe("runStages on small in-memory stages", () => {
  const chain = Chain.from<Options, Num>(NUMBERS).pipe(addStage).pipe(atLeastStage).pipe(sumStage);

  it("hands each stage its predecessor's records and typed side outputs, and counts drops", async () => {
    const { results } = await run({ stages: chain.stages });
    expect(results.data(sumStage)).toEqual({ sum: 3 + 4 + 5, added: 1 });
    expect(results.records(atLeastStage).map((r) => r.n)).toEqual([3, 4, 5]);
    expect(results.reports.find((r) => r.stage === "at-least")).toMatchObject({ kept: 3, dropped: { too_small: 1 } });
  });

  it("serves a second run from the cache, and an option change re-runs exactly the stages it reaches, saying why", async () => {
    const { store } = await run({ stages: chain.stages });
    const again = await run({ stages: chain.stages, store });
    expect(again.results.reports.map((r) => [r.stage, r.ran])).toEqual([
      ["add", false],
      ["at-least", false],
      ["sum", false],
    ]);
    // Selected and patched outputs are rebuilt from their upstream's records when read back.
    expect(again.results.records(atLeastStage).map((r) => [r.id, r.n])).toEqual([
      ["r1", 3],
      ["r2", 4],
      ["r3", 5],
    ]);
    const changed = await run({ stages: chain.stages, store, options: { add: 1, min: 4 } });
    expect(changed.results.reports.map((r) => [r.stage, r.ran, r.reason])).toEqual([
      ["add", false, "cached"],
      ["at-least", true, "changed: option min"],
      ["sum", true, "changed: input from at-least"],
    ]);
    expect(changed.results.data(sumStage).sum).toBe(4 + 5);
  });

  it("stores a selecting stage's output whole when a record is not its input's, so it reads back as it was handed on", async () => {
    // Keeps every record, but hands one on changed: read back through a selection it would come back as its input had it.
    const relabelOne = defineStage<Options, Num, Num, undefined>({
      name: "relabel-one",
      version: 1,
      selects: true,
      key: () => ({}),
      run: async ({ upstream }) => ({ records: upstream.input.records.map((r) => (r.id === "r0" ? { ...r, n: 100 } : r)), drops: [] }),
    });
    const stages = Chain.from<Options, Num>(NUMBERS).pipe(relabelOne).pipe(atLeastStage).stages;
    const { store } = await run({ stages });
    const again = await run({ stages, store });
    expect(again.results.reports.map((r) => r.ran)).toEqual([false, false]);
    expect(again.results.records(relabelOne).map((r) => [r.id, r.n])).toEqual([
      ["r0", 100],
      ["r1", 2],
      ["r2", 3],
      ["r3", 4],
    ]);
    // A stage that hands on its input's very records is still stored as their ids.
    expect(store.readMeta("at-least", again.results.keys["at-least"]!)?.selected).toEqual(["r0", "r2", "r3"]);
  });

  it("takes a stage inserted mid-chain with one line: the next stage reads its records", async () => {
    const double = defineStage<Options, Num, Num, undefined>({
      name: "double",
      version: 1,
      key: () => ({}),
      run: async ({ upstream }) => ({ records: upstream.input.records.map((r) => ({ ...r, n: r.n * 2 })), drops: [] }),
    });
    const longer = Chain.from<Options, Num>(NUMBERS).pipe(addStage).pipe(double).pipe(atLeastStage).pipe(sumStage);
    const { results } = await run({ stages: longer.stages });
    expect(results.data(sumStage).sum).toBe(4 + 6 + 8 + 10);
  });

  it("refuses at start-up a stage whose side input is a later stage, before any stage runs", async () => {
    const ran: string[] = [];
    const spy = defineStage<Options, Num, Num, undefined>({
      name: "first",
      version: 1,
      key: () => ({}),
      run: async () => {
        ran.push("first");
        return { records: [], drops: [] };
      },
    });
    const early = defineStage<Options, Num, Num, undefined>({
      name: "early",
      version: 1,
      sides: [sumStage],
      key: () => ({}),
      run: async () => ({ records: [], drops: [] }),
    });
    const wired = run({ stages: [spy, early, ...chain.stages] });
    await expect(wired).rejects.toThrow(StageGraphError);
    await expect(wired).rejects.toThrow(/stage early reads sum, which is not an earlier stage/);
    expect(ran).toEqual([]);
  });

  it("turns a TypeError inside a stage into a StageError naming the stage and task, its stack under --debug", async () => {
    const broken = defineStage<Options, Num, Num, undefined>({
      name: "broken",
      version: 1,
      key: () => ({}),
      run: async ({ upstream }) => ({ records: [{ id: "x", n: (upstream.input.records as unknown as { missing: { n: number } }).missing.n }], drops: [] }),
    });
    const thrown = await run({ stages: [addStage, broken] }).catch((error: unknown) => error);
    expect(thrown).toBeInstanceOf(StageError);
    expect((thrown as StageError).cause).toBeInstanceOf(TypeError);
    const line = formatCliError(thrown, false);
    expect(line).toMatch(/^arcforge: StageError: stage broken, task t1: TypeError: /);
    expect(line.split("\n").filter(Boolean)).toHaveLength(1);
    expect(formatCliError(thrown, true)).toMatch(/caused by TypeError: [^\n]*\n\s+at .*run-stages\.spec\.ts/);
  });
});
