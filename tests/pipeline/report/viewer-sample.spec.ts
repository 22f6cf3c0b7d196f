import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildDataset } from "../../../pipeline/orchestrator/build-dataset.js";
import { writeReport } from "../../../pipeline/report/render-report.js";
import type { ReportData } from "../../../pipeline/report/report-data.js";
import { VIEWER_BUDGET_BYTES, VIEWER_ROWS_PER_TASK, ViewerSample } from "../../../pipeline/report/viewer-sample.js";
import type { BuildOptions } from "../../../schemas/build-options.js";
import { demoWorld, tempDir } from "../../support/stage-harness.js";

/** The data a report page embeds. */
const pageData = (html: string): ReportData => JSON.parse(html.slice(html.lastIndexOf("})(") + 3, html.lastIndexOf(", Plot);</script>"))) as ReportData;

const row = (code: string) => ({
  code,
  predicted_train_output: [[[1]]],
  correct_train_input: [true],
  predicted_test_output: [[[1]]],
  correct_test_input: [true],
});

describe("the report's row viewer", () => {
  it.each(["flat", "messages"] as BuildOptions["format"][])(
    "shows the same rows whether sampled as a %s build writes them or read back from its folder",
    async (format) => {
      const { options } = await demoWorld({ format, validation: true });
      await buildDataset({ options, cacheDir: await tempDir() });
      const built = readFileSync(join(options.out, "report.html"), "utf8");
      await writeReport({ dir: options.out });
      expect(readFileSync(join(options.out, "report.html"), "utf8")).toBe(built);
      expect(Object.keys(pageData(built).viewer).length).toBeGreaterThan(3);
    },
    120_000,
  );

  it("shows a SOAR row's task grids from the build, even for a task only its log held (no task file to read back)", async () => {
    const { options } = await demoWorld({ format: "soar" });
    const manifest = await buildDataset({ options, cacheDir: await tempDir() });
    const built = pageData(readFileSync(join(options.out, "report.html"), "utf8")).viewer;
    await writeReport({ dir: options.out });
    const readBack = pageData(readFileSync(join(options.out, "report.html"), "utf8")).viewer;
    const trusted = manifest.tasks_taken_on_trust;
    expect(trusted.length).toBeGreaterThan(0);
    for (const key of trusted) {
      expect(built[key]![0]!.trainInputs.length).toBeGreaterThan(0);
      expect(readBack[key]![0]!.trainInputs).toEqual([]);
    }
    for (const key of Object.keys(built).filter((k) => !trusted.includes(k))) expect(built[key]).toEqual(readBack[key]);
  }, 120_000);

  it("keeps the first rows of each task and leaves out what would pass the byte budget, counting it", () => {
    const sample = new ViewerSample({ refinement: false });
    for (let i = 0; i < VIEWER_ROWS_PER_TASK + 2; i++) sample.add({ split: "train", key: "a/1", row: row(`small ${i}`) });
    expect(sample.wants("a/1")).toBe(false);
    sample.add({ split: "train", key: "a/2", row: row("x".repeat(VIEWER_BUDGET_BYTES)) });
    const { viewer, viewerNote } = sample.result();
    expect(viewer["a/1"]!.map((r) => r.code)).toEqual(["small 0", "small 1", "small 2", "small 3"]);
    expect(viewer["a/2"]).toBeUndefined();
    expect(viewerNote).toBe(`up to ${VIEWER_ROWS_PER_TASK} rows per task; 1 more rows left out to keep the page small`);
  });

  it("once the budget is nearly spent, still takes each row that fits and leaves out each that does not", () => {
    const sample = new ViewerSample({ refinement: false });
    sample.add({ split: "train", key: "a/1", row: row("x".repeat(VIEWER_BUDGET_BYTES - 2000)) });
    const big = Array.from({ length: 30 }, () => Array.from({ length: 30 }, () => 7));
    const task = (grid: number[][]) => ({ train: [{ input: grid, output: grid }], test: [{ input: grid, output: grid }] });
    // Left out by its task's grids alone, by its own predicted grids, and by its code; then one that fits.
    sample.add({ split: "train", key: "a/2", row: row("small"), task: task(big) });
    sample.add({ split: "train", key: "a/3", row: { ...row("small"), predicted_train_output: [big, big] }, task: task([[1]]) });
    sample.add({ split: "train", key: "a/4", row: row("y".repeat(1990)), task: task([[1]]) });
    sample.add({ split: "train", key: "a/5", row: row("fits"), task: task([[1]]) });
    const { viewer, viewerNote } = sample.result();
    expect(Object.keys(viewer)).toEqual(["a/1", "a/5"]);
    expect(viewerNote).toBe(`up to ${VIEWER_ROWS_PER_TASK} rows per task; 3 more rows left out to keep the page small`);
  });
});
