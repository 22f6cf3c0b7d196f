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
});
