import { afterEach, describe, expect, it, vi } from "vitest";
import { StageRecords } from "../../../pipeline/engine/stage-records.js";
import { StageStore, type StageMeta } from "../../../pipeline/store/stage-store.js";
import { closeKvStore } from "../../../pipeline/store/kv-store.js";
import { tempDir } from "../../support/stage-harness.js";

afterEach(() => vi.restoreAllMocks());

/** A chain as the task stages store it: records in full, then a patch of them, then a selection of two. */
async function chain() {
  const cacheDir = await tempDir();
  const store = new StageStore(cacheDir);
  const programs = Array.from({ length: 1000 }, (_, i) => ({ id: `p${i}`, code: `c${i}`, outputs: [[[i % 10]]] }));
  const metas: Record<string, StageMeta> = {
    execute: { drops: [], length: 1000 },
    relabel: { drops: [], length: 1000, patched: true },
    select: { drops: [], length: 2, selected: ["p917", "p3"] },
  };
  store.commit({ stage: "execute", key: "k1", meta: metas.execute!, records: programs, done: true });
  store.commit({ stage: "relabel", key: "k2", meta: metas.relabel!, records: programs.map((p) => ({ id: p.id, label: `L${p.id}` })), done: true });
  store.commit({ stage: "select", key: "k3", meta: metas.select!, done: true });
  await store.close();
  const reading = new StageStore(cacheDir);
  const records = new StageRecords({
    store: reading,
    keys: { execute: "k1", relabel: "k2", select: "k3" },
    after: (name) => ({ relabel: ["execute"], select: ["relabel"] })[name] ?? [],
    meta: (name) => metas[name]!,
  });
  return { cacheDir, reading, records };
}

describe("a stage's records read back", () => {
  it("read, for a selection, only the selected records down the chain, in the selection's order", async () => {
    const { cacheDir, reading, records } = await chain();
    const readRecords = vi.spyOn(reading, "readRecords");
    expect(records.get("select")).toEqual([
      { id: "p917", code: "c917", outputs: [[[7]]], label: "Lp917" },
      { id: "p3", code: "c3", outputs: [[[3]]], label: "Lp3" },
    ]);
    // Each stored entry was asked for the two selected ids only: the other 998 records are not parsed.
    expect(readRecords.mock.calls.map(([stage, , wanted]) => [stage, [...(wanted ?? [])].sort()])).toEqual([
      ["execute", ["p3", "p917"]],
      ["relabel", ["p3", "p917"]],
    ]);
    expect(records.get("relabel")).toHaveLength(1000);
    await closeKvStore(cacheDir);
  });

  it("are parsed once for the stages that run and the writer after them: the writer takes what they kept, once", async () => {
    const { cacheDir, reading } = await chain();
    const after = (name: string) => ({ relabel: ["execute"], select: ["relabel"] })[name] ?? [];
    const keys = { execute: "k1", relabel: "k2", select: "k3" };
    const meta = (name: string): StageMeta => ({ execute: { drops: [], length: 1000 }, relabel: { drops: [], length: 1000, patched: true } })[name]!;
    const running = new StageRecords({ store: reading, keys, after, meta, keep: true }).get<{ id: string }>("execute");
    const writing = (wanted?: ReadonlySet<string>) => new StageRecords({ store: reading, keys, after, meta }).get<{ id: string }>("execute", wanted);
    // The same records, not a second parse; a later reader parses again (each is taken once).
    expect(writing()).toBe(running);
    const again = writing();
    expect(again).not.toBe(running);
    expect(again).toEqual(running);
    // Taken by a reader of a few ids: those, in the entry's order.
    new StageRecords({ store: reading, keys, after, meta, keep: true }).get("execute");
    expect(writing(new Set(["p917", "p3"])).map((r) => r.id)).toEqual(["p3", "p917"]);
    expect(writing()).not.toBe(running);
    await closeKvStore(cacheDir);
  });

  it("kept, are not handed over once their entry is written again: the writer reads what the entry holds", async () => {
    const { cacheDir, reading } = await chain();
    const read = (keep: boolean) =>
      new StageRecords({ store: reading, keys: { execute: "k1" }, after: () => [], meta: () => ({ drops: [], length: 1000 }), keep }).get<{ id: string }>(
        "execute",
      );
    read(true);
    reading.begin({ stage: "execute", key: "k1", folder: false });
    reading.commit({ stage: "execute", key: "k1", meta: { drops: [], length: 1 }, records: [{ id: "new" }], done: true });
    expect(read(false).map((r) => r.id)).toEqual(["new"]);
    await reading.close();
    await closeKvStore(cacheDir);
  });

  it("are not kept past a budget: a build of large tasks holds no more than its first tasks' records", async () => {
    const cacheDir = await tempDir();
    const store = new StageStore(cacheDir);
    const huge = [{ id: "p0", code: "x".repeat(17 * 2 ** 20) }];
    store.commit({ stage: "execute", key: "k1", meta: { drops: [], length: 1 }, records: huge, done: true });
    await store.close();
    const reading = new StageStore(cacheDir);
    const read = (keep: boolean) =>
      new StageRecords({ store: reading, keys: { execute: "k1" }, after: () => [], meta: () => ({ drops: [], length: 1 }), keep }).get("execute");
    const first = read(true);
    expect(read(false)).not.toBe(first);
    await closeKvStore(cacheDir);
  });
});
