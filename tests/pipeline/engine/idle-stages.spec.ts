import { afterEach, describe, expect, it, vi } from "vitest";
import { runStages } from "../../../pipeline/engine/run-stages.js";
import { idleStages } from "../../../pipeline/engine/idle-stages.js";
import { Chain, defineSource, defineStage, type AnyStage } from "../../../pipeline/engine/stage.js";
import type { SourceOutput } from "../../../pipeline/engine/stage-records.js";
import { buildDataset, readFates } from "../../../pipeline/orchestrator/build-dataset.js";
import { TASK_STAGES } from "../../../pipeline/orchestrator/build-stages.js";
import { StageStore } from "../../../pipeline/store/stage-store.js";
import type { BuildManifest } from "../../../schemas/build-manifest.js";
import type { BuildOptions } from "../../../schemas/build-options.js";
import { context, demoWorld, tempDir } from "../../support/stage-harness.js";

interface Options {
  halve: boolean;
}
interface Num {
  id: string;
  n: number;
}

const NUMBERS = defineSource<Num, undefined>("numbers");
const numbers = (values: number[]): Record<string, SourceOutput> => ({
  numbers: { key: `numbers:${values.join(",")}`, meta: { drops: [], length: values.length }, records: () => values.map((n, i) => ({ id: `r${i}`, n })) },
});

const evenStage = defineStage<Options, Num, Num, undefined>({
  name: "even",
  version: 1,
  selects: true,
  key: () => ({}),
  run: async ({ upstream }) => ({
    records: upstream.input.records.filter((r) => r.n % 2 === 0),
    drops: upstream.input.records.filter((r) => r.n % 2 !== 0).map((r) => ({ id: r.id, reason: "odd" })),
  }),
});

/** Idle unless asked to halve: then it drops the larger half. */
const halveStage = defineStage<Options, Num, Num, undefined>({
  name: "halve",
  version: 1,
  selects: true,
  idle: (options) => (options.halve ? undefined : "input"),
  key: (options) => ({ halve: options.halve }),
  run: async ({ upstream }) => {
    const keep = Math.ceil(upstream.input.records.length / 2);
    return { records: upstream.input.records.slice(0, keep), drops: upstream.input.records.slice(keep).map((r) => ({ id: r.id, reason: "half" })) };
  },
});

const sumStage = defineStage<Options, Num, Num, { sum: number }>({
  name: "sum",
  version: 1,
  selects: true,
  key: () => ({}),
  run: async ({ upstream }) => ({ records: upstream.input.records, drops: [], data: { sum: upstream.input.records.reduce((s, r) => s + r.n, 0) } }),
});

const chain = Chain.from<Options, Num>(NUMBERS).pipe(evenStage).pipe(halveStage).pipe(sumStage);

async function run(params: { options: Options; store: StageStore; known?: Record<string, string> }) {
  return runStages({
    stages: chain.stages as readonly AnyStage<Options>[],
    from: NUMBERS,
    options: params.options,
    store: params.store,
    context: context({ cacheDir: "/nonexistent" }),
    sources: numbers([2, 3, 4, 6, 8]),
    scope: "task t1",
    ...(params.known ? { known: params.known } : {}),
  });
}

afterEach(() => vi.restoreAllMocks());

describe("an idle stage", () => {
  it("is neither keyed, run nor stored, and hands on its input's very records under its input's key", async () => {
    const store = new StageStore(await tempDir("arcforge-idle-"));
    const key = vi.spyOn(halveStage, "key");
    const runs = vi.spyOn(halveStage, "run");
    const commits = vi.spyOn(store, "commit");
    const results = await run({ options: { halve: false }, store });
    expect(key).not.toHaveBeenCalled();
    expect(runs).not.toHaveBeenCalled();
    expect(commits.mock.calls.map(([c]) => c.stage)).toEqual(["even", "sum"]);
    expect(results.keys.halve).toBe(results.keys.even);
    expect(results.records(halveStage)).toBe(results.records(evenStage));
    expect(results.data(sumStage).sum).toBe(2 + 4 + 6 + 8);
    expect(results.reports.find((r) => r.stage === "halve")).toMatchObject({ ran: true, kept: 4, dropped: {}, counts: {} });
    // The stage after it stored a selection of the idle stage's records: read back, they are its input's.
    const again = await run({ options: { halve: false }, store, known: { even: results.keys.even!, halve: results.keys.halve!, sum: results.keys.sum! } });
    expect(again.records(sumStage).map((r) => r.n)).toEqual([2, 4, 6, 8]);
    expect(again.output(halveStage)).toMatchObject({ kept: 4, drops: [] });
  });

  it("runs, keyed on its own, once the options give it work, and is idle again after", async () => {
    const store = new StageStore(await tempDir("arcforge-idle-"));
    await run({ options: { halve: false }, store });
    const working = await run({ options: { halve: true }, store });
    expect(working.reports.map((r) => [r.stage, r.ran])).toEqual([
      ["even", false],
      ["halve", true],
      ["sum", true],
    ]);
    expect(working.data(sumStage).sum).toBe(2 + 4);
    const idleAgain = await run({ options: { halve: false }, store });
    expect(idleAgain.reports.map((r) => [r.stage, r.ran])).toEqual([
      ["even", false],
      ["halve", false],
      ["sum", false],
    ]);
    expect(idleAgain.data(sumStage).sum).toBe(2 + 4 + 6 + 8);
  });
});

/** A stage report without its times and key (an idle stage's key is its input's). */
const outcome = ({ ms: _ms, key: _key, counts, ...rest }: BuildManifest["stages"][number]) => ({
  ...rest,
  counts: Object.fromEntries(Object.entries(counts).filter(([name]) => !name.endsWith("_ms_total"))),
});

describe("idle task stages in a build", () => {
  const cases: [string, Partial<BuildOptions>][] = [
    ["default options", {}],
    ["--no-dedup --validation", { dedup: false, validation: true }],
    ["--format programs", { format: "programs" }],
  ];
  for (const [name, change] of cases)
    it(`write the bytes, fates and stage reports of a build that runs them (${name})`, async () => {
      const { options: demo } = await demoWorld();
      const options = { ...demo, ...change };
      expect(idleStages(TASK_STAGES, options).size).toBeGreaterThanOrEqual(3);
      const idle = await buildDataset({ options, cacheDir: await tempDir() });
      // The same build with every stage run, keyed and stored as if none could be idle.
      for (const stage of TASK_STAGES) if (stage.idle) vi.spyOn(stage as Required<Pick<AnyStage<BuildOptions>, "idle">>, "idle").mockReturnValue(undefined);
      const running = await buildDataset({ options: { ...options, out: `${options.out}-running` }, cacheDir: await tempDir() });
      vi.restoreAllMocks();
      expect(idle.outputs.map((o) => [o.path, o.sha256])).toEqual(running.outputs.map((o) => [o.path, o.sha256]));
      expect(readFates(options.out)).toEqual(readFates(`${options.out}-running`));
      expect(idle.stages.map(outcome)).toEqual(running.stages.map(outcome));
      expect(idle.attempts).toEqual(running.attempts);
    });
});
