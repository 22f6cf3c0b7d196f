import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { InputError } from "../../pipeline/common/errors.js";
import { buildDataset } from "../../pipeline/orchestrator/build-dataset.js";
import { type BuildOptions, DEFAULT_BUILD_OPTIONS } from "../../schemas/build-options.js";
import { optionProblems } from "../../schemas/resolved-options.js";
import { tempDir } from "../support/stage-harness.js";

const valid: BuildOptions = { ...DEFAULT_BUILD_OPTIONS, logs: ["logs"], out: "out" };

describe("the resolved build options", () => {
  it("accept the defaults and every option the command line can set", () => {
    expect(optionProblems(valid)).toEqual([]);
    expect(optionProblems({ ...valid, nearDedup: 0.9, against: ["a"], validationSize: 0.2, pairs: ["hindsight"], fromLimit: 5, dateFrom: "20250101" })).toEqual(
      [],
    );
  });

  it("refuse a misspelt option, a value out of range and a wrong unit, naming each", () => {
    expect(optionProblems({ ...valid, limts: valid.limits })).toEqual([expect.stringMatching(/limts/)]);
    expect(optionProblems({ ...valid, nearDedup: 1.5 })).toEqual([expect.stringMatching(/^nearDedup: /)]);
    expect(optionProblems({ ...valid, limits: { timeoutSeconds: 0, memoryBytes: 1 << 30 } })).toEqual([expect.stringMatching(/^limits.timeoutSeconds: /)]);
    expect(optionProblems({ ...valid, validationSize: 2.5 })).toEqual([expect.stringMatching(/^validationSize: a whole number of rows/)]);
    expect(optionProblems({ ...valid, license: "apache2" })).toEqual([expect.stringMatching(/^license: not a license id the Hub recognises/)]);
    expect(optionProblems({ ...valid, license: "cc-by-nc-sa-4.0" })).toEqual([]);
  });

  it("are checked before a build touches anything", async () => {
    const dir = await tempDir();
    const options = { ...valid, out: join(dir, "out"), seed: 1.5 };
    const build = buildDataset({ options, cacheDir: join(dir, "cache") });
    await expect(build).rejects.toThrow(InputError);
    await expect(build).rejects.toThrow(/the build options are not valid \(seed: /);
    expect(existsSync(join(dir, "out"))).toBe(false);
    expect(existsSync(join(dir, "cache"))).toBe(false);
  });
});
