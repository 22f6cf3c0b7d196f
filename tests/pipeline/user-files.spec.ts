import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildDataset } from "../../pipeline/orchestrator/build-dataset.js";
import { clearCache } from "../../pipeline/store/cache-layout.js";
import { closeKvStore, kvTable } from "../../pipeline/store/kv-store.js";
import { demoWorld, tempDir } from "../support/stage-harness.js";

describe("nothing of the user's is deleted or overwritten", () => {
  it("cache clear refuses a folder of user files, and every file stays intact", async () => {
    const dir = await tempDir("arcforge-user-");
    mkdirSync(join(dir, "src"));
    writeFileSync(join(dir, "src", "main.py"), "print('mine')\n");
    writeFileSync(join(dir, "notes.txt"), "keep me\n");
    expect(() => clearCache(dir)).toThrow(/refusing to clear .*: it is not an arcforge cache folder, it holds notes\.txt, src; .*Nothing was deleted/);
    expect(readFileSync(join(dir, "src", "main.py"), "utf8")).toBe("print('mine')\n");
    expect(readdirSync(dir).sort()).toEqual(["notes.txt", "src"]);
  });

  it("cache clear removes a real cache's entries and nothing else, leaving no lock", async () => {
    const { options } = await demoWorld();
    const cacheDir = await tempDir();
    await buildDataset({ options, cacheDir });
    expect(readdirSync(cacheDir)).toContain("arcforge-cache.json");
    clearCache(cacheDir);
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it("a build refuses a non-empty --out that is no earlier arcforge output, unless --overwrite, and a rebuild replaces only its own files", async () => {
    const { options } = await demoWorld();
    mkdirSync(join(options.out, "data"), { recursive: true });
    writeFileSync(join(options.out, "thesis.tex"), "\\section{mine}\n");
    writeFileSync(join(options.out, "data", "notes.md"), "mine too\n");
    await expect(buildDataset({ options, cacheDir: await tempDir() })).rejects.toThrow(
      /refusing to write the dataset into .*: it holds data, thesis\.tex and is not an earlier arcforge output/,
    );
    expect(existsSync(join(options.out, ".arcforge-lock"))).toBe(false);
    const cacheDir = await tempDir();
    await buildDataset({ options, cacheDir, overwrite: true });
    await buildDataset({ options: { ...options, validation: true }, cacheDir });
    expect(readFileSync(join(options.out, "thesis.tex"), "utf8")).toBe("\\section{mine}\n");
    expect(readFileSync(join(options.out, "data", "notes.md"), "utf8")).toBe("mine too\n");
    expect(readdirSync(join(options.out, "data")).sort()).toEqual(["notes.md", "train-00000-of-00001.parquet", "validation-00000-of-00001.parquet"]);
  });
});

describe("the manifest of a rebuild served from the cache", () => {
  it("still names the sandboxes behind its rows: fingerprint and isolation of the first runs and of re-validation", async () => {
    const { options } = await demoWorld();
    const cacheDir = await tempDir();
    const first = await buildDataset({ options, cacheDir });
    const again = await buildDataset({ options, cacheDir });
    expect(again.sandbox).toBeNull();
    expect(again.sandboxes).toEqual(first.sandboxes);
    expect(again.sandboxes.map((s) => s.seed)).toEqual([0, 2]);
    expect(again.sandboxes[0]).toMatchObject({ fingerprint: expect.stringMatching(/^process-/), isolation: expect.stringMatching(/bubblewrap|landlock/) });
  });
});

describe("two builds into one --out", () => {
  it("refuses the second while the first holds the folder, naming its pid", async () => {
    const { options } = await demoWorld();
    mkdirSync(options.out, { recursive: true });
    // As if a build of this very process held it: a live pid in the lock.
    writeFileSync(join(options.out, ".arcforge-lock"), String(process.pid));
    await expect(buildDataset({ options, cacheDir: await tempDir() })).rejects.toThrow(
      new RegExp(`another arcforge build \\(pid ${process.pid}\\) is using the output folder`),
    );
  });
});

describe("an --out a killed build was writing", () => {
  it("is taken back by the same command: the stale lock says it is arcforge's", async () => {
    const { options } = await demoWorld();
    mkdirSync(join(options.out, "data"), { recursive: true });
    writeFileSync(join(options.out, "data", "train-00000-of-00001.parquet"), "half a file");
    writeFileSync(join(options.out, ".arcforge-lock"), "999999999");
    const manifest = await buildDataset({ options, cacheDir: await tempDir() });
    expect(manifest.outputs[0]!.rows).toBeGreaterThan(0);
    expect(existsSync(join(options.out, ".arcforge-lock"))).toBe(false);
  });
});

describe("an --out a build failed to finish writing", () => {
  it("is taken back by the same command, which writes what an unbroken build writes", async () => {
    const { options } = await demoWorld();
    const cacheDir = await tempDir();
    const first = await buildDataset({ options, cacheDir });
    // The writer fails on the first task's rows: its cache entries are gone from under the build.
    const table = kvTable<unknown>(cacheDir, "stages");
    for (const key of [...table.getKeys({ start: "select/", end: "select0" })]) await table.remove(key);
    await closeKvStore(cacheDir);
    await expect(buildDataset({ options, cacheDir })).rejects.toThrow(/run the build again with --fresh/);
    expect(existsSync(join(options.out, "manifest.json"))).toBe(false);
    // A build that fails before writing leaves the folder as the failed write left it: still arcforge's.
    await expect(buildDataset({ options: { ...options, models: ["no-such-model"] }, cacheDir })).rejects.toThrow(/0 rows/);
    const again = await buildDataset({ options, cacheDir, fresh: true });
    expect(again.outputs.map((o) => o.sha256)).toEqual(first.outputs.map((o) => o.sha256));
    expect(readdirSync(options.out).filter((f) => f.startsWith(".arcforge"))).toEqual([]);
  });
});
