import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { closeKvStore, kvTable } from "../../../pipeline/store/kv-store.js";
import { tempDir } from "../../support/stage-harness.js";

describe("the cache's LMDB store", () => {
  it("is mapped into memory once however much it grows, so its pages count once in the resident set", async () => {
    const cacheDir = await tempDir();
    const path = join(cacheDir, "store.lmdb");
    const table = kvTable<{ s: string; t: string }>(cacheDir, "cleaned");
    // Grown in several commits, as a build grows it: each growth past the map used to map the file anew.
    for (let batch = 0; batch < 8; batch++) {
      await table.transaction(() => {
        for (let i = 0; i < 25_000; i++) void table.put(`${batch}:${i}:${"k".repeat(40)}`, { s: "cleaned", t: "t".repeat(64) });
      });
      expect(table.get(`${batch}:0:${"k".repeat(40)}`)).toEqual({ s: "cleaned", t: "t".repeat(64) });
    }
    const mappings = readFileSync("/proc/self/maps", "utf8")
      .split("\n")
      .filter((line) => line.endsWith(path));
    expect(statSync(path).size).toBeGreaterThan(20 * 2 ** 20);
    expect(mappings).toHaveLength(1);
    // Reserving the map is address space only: the file holds what was written, not the reservation.
    expect(statSync(path).size).toBeLessThan(200 * 2 ** 20);
    await closeKvStore(cacheDir);
  });

  it("reads values a table wrote with msgpack records back the same once it writes plain objects", async () => {
    const cacheDir = await tempDir();
    const shapes = [
      { meta: { drops: [{ id: "a#1", reason: "train_error" }], length: 2, selected: ["a#2", "a#3"] }, done: true },
      { meta: { drops: [], counts: { rows: 1 }, data: { tasks: { "arc-agi-1/x": { train: [{ input: [[1]], output: [[2]] }] } } }, length: 1 }, done: false },
    ];
    const before = kvTable<unknown>(cacheDir, "stages", { compressed: false });
    await before.transaction(() => shapes.forEach((v, i) => void before.put(`old/${i}`, v)));
    await closeKvStore(cacheDir);
    const after = kvTable<unknown>(cacheDir, "stages", { compressed: false, plainObjects: true });
    await after.transaction(() => shapes.forEach((v, i) => void after.put(`new/${i}`, v)));
    shapes.forEach((v, i) => {
      expect(after.get(`old/${i}`)).toEqual(v);
      expect(after.get(`new/${i}`)).toEqual(v);
    });
    // Plain objects: no record definition (msgpackr's 0xd4 0x72) in what the table writes now.
    const definesRecords = (key: string) => after.getBinary(key)!.includes(Buffer.from([0xd4, 0x72]));
    expect(definesRecords("old/0")).toBe(true);
    expect(definesRecords("new/0")).toBe(false);
    await closeKvStore(cacheDir);
  });
});
