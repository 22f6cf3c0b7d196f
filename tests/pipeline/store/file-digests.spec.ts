import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { renameSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { FileDigests } from "../../../pipeline/store/file-digests.js";
import { kvTable } from "../../../pipeline/store/kv-store.js";
import { tempDir } from "../../support/stage-harness.js";

const sha = (text: string) => createHash("sha256").update(text).digest("hex");
/** A clock far enough ahead that every file written by the test has settled. */
const later = () => Date.now() + 60_000;
/** Gives `to` the very access and modification times of `from`, to the nanosecond (utimes rounds them). */
const sameTimes = (from: string, to: string) => execFileSync("touch", ["-r", from, to]);

async function setup() {
  const dir = await tempDir();
  const cacheDir = join(dir, "cache");
  const file = join(dir, "log.json");
  const table = kvTable<{ identity: string; sha256: string }>(cacheDir, "file-digests");
  /** What the cache remembers of the file, once its writes have landed. */
  const remembered = async () => {
    await table.committed;
    return table.get(resolve(file));
  };
  /** Replaces what is remembered with a digest no read gives: seeing it back means the file was not read. */
  const plant = async () => {
    const found = (await remembered())!;
    await table.put(resolve(file), { ...found, sha256: "planted" });
  };
  return { cacheDir, file, remembered, plant };
}

describe("remembered file digests", () => {
  it("gives a settled file's sha256 from the cache while the file stays as it was", async () => {
    const { cacheDir, file, remembered, plant } = await setup();
    writeFileSync(file, '{"a":1}');
    expect(await new FileDigests({ cacheDir, now: later }).sha256(file)).toBe(sha('{"a":1}'));
    expect((await remembered())?.sha256).toBe(sha('{"a":1}'));
    await plant();
    expect(await new FileDigests({ cacheDir, now: later }).sha256(file)).toBe("planted");
  });

  /** Ways to change a remembered file that keep its size and modification time: each must be seen. */
  const changes: [string, (file: string) => void][] = [
    [
      "rewritten at the same size with its modification time put back",
      (file) => {
        writeFileSync(`${file}.times`, "");
        sameTimes(file, `${file}.times`);
        writeFileSync(file, '{"a":2}');
        sameTimes(`${file}.times`, file);
        expect(statSync(file, { bigint: true }).mtimeNs).toBe(statSync(`${file}.times`, { bigint: true }).mtimeNs);
      },
    ],
    [
      "replaced by another file of the same size and times",
      (file) => {
        writeFileSync(`${file}.new`, '{"a":2}');
        sameTimes(file, `${file}.new`);
        renameSync(`${file}.new`, file);
      },
    ],
  ];

  it.each(changes)("reads a file again when it was %s", async (_, change) => {
    const { cacheDir, file, plant } = await setup();
    writeFileSync(file, '{"a":1}');
    const digests = new FileDigests({ cacheDir, now: later });
    await digests.sha256(file);
    await plant();
    change(file);
    expect(await digests.sha256(file)).toBe(sha('{"a":2}'));
  });

  it("does not remember a file changed moments ago: a second write in the same clock tick would keep its times", async () => {
    const { cacheDir, file, remembered } = await setup();
    writeFileSync(file, '{"a":1}');
    expect(await new FileDigests({ cacheDir }).sha256(file)).toBe(sha('{"a":1}'));
    expect(await remembered()).toBeUndefined();
  });

  it("reads every file again with fresh, whatever is remembered", async () => {
    const { cacheDir, file, plant } = await setup();
    writeFileSync(file, '{"a":1}');
    await new FileDigests({ cacheDir, now: later }).sha256(file);
    await plant();
    expect(await new FileDigests({ cacheDir, fresh: true, now: later }).sha256(file)).toBe(sha('{"a":1}'));
  });
});
