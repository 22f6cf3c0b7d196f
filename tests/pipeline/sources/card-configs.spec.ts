import { describe, expect, it } from "vitest";
import { cardConfigFiles, globPattern } from "../../../pipeline/sources/card-configs.js";

describe("a dataset card's configs", () => {
  it("match data files by their globs: * within a folder, ** across", () => {
    expect(globPattern("data/train-*").test("data/train-00000-of-00001.parquet")).toBe(true);
    expect(globPattern("data/train-*").test("data/sub/train-0.parquet")).toBe(false);
    expect(globPattern("data/**/*.parquet").test("data/a/b/x.parquet")).toBe(true);
    expect(globPattern("data/v1.0/*").test("data/v1x0/a")).toBe(false);
  });

  it("give the default config's splits, a named one's, or none when the card declares none or its YAML is broken", () => {
    const card = [
      "---",
      "configs:",
      "- config_name: default",
      "  data_files:",
      "  - split: train",
      "    path: data/train-*",
      "- config_name: partial",
      "  data_files: partial/*.parquet",
      "---",
      "# t",
    ].join("\n");
    expect(cardConfigFiles(card)).toEqual({ config: "default", splits: [{ split: "train", patterns: [globPattern("data/train-*")] }] });
    expect(cardConfigFiles(card, "partial")).toEqual({ config: "partial", splits: [{ split: "train", patterns: [globPattern("partial/*.parquet")] }] });
    expect(cardConfigFiles(card, "missing")).toBeNull();
    expect(cardConfigFiles("# no front matter")).toBeNull();
    expect(cardConfigFiles("---\nconfigs: [unclosed\n---\n")).toBeNull();
  });
});
