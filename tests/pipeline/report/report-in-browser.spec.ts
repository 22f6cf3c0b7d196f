import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDataset, builtRows } from "../../../pipeline/orchestrator/build-dataset.js";
import type { BuildOptions } from "../../../schemas/build-options.js";
import { CHROMIUM } from "../../support/chromium.js";
import { demoWorld, tempDir } from "../../support/stage-harness.js";
import type { BuildManifest } from "../../../schemas/build-manifest.js";

const PALETTE = ["#000000", "#0074D9", "#FF4136", "#2ECC40", "#FFDC00", "#AAAAAA", "#F012BE", "#FF851B", "#7FDBFF", "#870C25"];
const rgb = (hex: string) => `rgb(${[1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)).join(", ")})`;

describe.skipIf(!CHROMIUM)("the build report in headless Chromium", () => {
  let options: BuildOptions;
  let cacheDir: string;
  let manifest: BuildManifest;
  let browser: Browser;
  let page: Page;
  let dir: string;
  const requests: string[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    ({ options } = await demoWorld({ validation: true }));
    cacheDir = await tempDir();
    manifest = await buildDataset({ options, cacheDir });
    dir = await tempDir("arcforge-report-");
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
    page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 1400 });
    page.on("request", (request) => requests.push(request.url()));
    page.on("console", (message) => message.type() === "error" && problems.push(message.text()));
    page.on("pageerror", (error) => problems.push(String(error)));
    await page.goto(pathToFileURL(join(options.out, "report.html")).href, { waitUntil: "load" });
  });
  afterAll(async () => browser?.close());

  it("draws one funnel bar per stage, each the manifest's count", async () => {
    const titles = await page.$$eval("#funnel-chart svg rect title", (nodes) => nodes.map((n) => n.textContent ?? ""));
    const expected = [`attempts: ${manifest.attempts.total} kept`, ...manifest.stages.map((s) => `${s.stage}: ${s.kept} kept`)];
    expect(titles).toEqual(expected);
    const kept = await page.$$eval("[data-testid=drop-table] tr[data-stage]", (rows) =>
      rows.map((r) => [r.getAttribute("data-stage"), r.children[1]!.textContent]),
    );
    expect(kept).toEqual(manifest.stages.map((s) => [s.stage, s.kept.toLocaleString("en-US")]));
    const dropBars = await page.$$eval("#drops-chart svg rect title", (nodes) => nodes.map((n) => n.textContent ?? ""));
    const drops = manifest.stages.flatMap((s) => Object.values(s.dropped)).reduce((a, b) => a + b, 0);
    expect(dropBars.reduce((n, t) => n + Number(t.split(": ").pop()), 0)).toBe(drops);
  });

  it("shows the page's numbers as the manifest has them", async () => {
    expect(await page.$eval("[data-testid=attempts]", (n) => n.textContent)).toBe(`${manifest.attempts.total} attempts`);
    expect(await page.$eval("[data-testid=rows]", (n) => n.textContent)).toBe(`${manifest.outputs.reduce((a, o) => a + o.rows, 0)} rows`);
    expect(await page.$eval("[data-testid=sandbox-table]", (n) => n.textContent)).toContain(manifest.sandbox!.isolation);
  });

  it("lists one table row per task, sortable and filterable", async () => {
    const lines = readFileSync(join(options.out, "tasks.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { task_id: string; read: number });
    expect(await page.$$eval("[data-testid=task-table] tbody tr", (rows) => rows.length)).toBe(lines.length);
    await page.click("th[data-column=read]");
    await page.click("th[data-column=read]");
    const firstRead = await page.$eval("[data-testid=task-table] tbody tr td:nth-child(3)", (n) => Number(n.textContent));
    expect(firstRead).toBe(Math.max(...lines.map((l) => l.read)));
    await page.type("#task-filter", lines[0]!.task_id);
    expect(await page.$$eval("[data-testid=task-table] tbody tr", (rows) => rows.length)).toBe(1);
    await page.$eval("#task-filter", (n) => ((n as HTMLInputElement).value = ""));
    await page.type("#task-filter", " ");
  });

  it("shows a clicked task's row as ARC grids in the standard palette, with the cleaned code", async () => {
    const [train] = await builtRows({ options, cacheDir });
    const row = train!.formatted[0]!;
    const key = `${String(row.dataset)}/${String(row.task_id)}`;
    await page.click(`[data-testid=task-table] tbody tr[data-task="${key}"]`);
    const cells = await page.$$eval("[data-testid=row-grids] .example:first-child figure:nth-of-type(1) .cell", (nodes) =>
      nodes.map((n) => [n.getAttribute("data-colour"), getComputedStyle(n).backgroundColor]),
    );
    const input = (row.train_input as number[][][])[0]!.flat();
    expect(cells.map(([c]) => Number(c))).toEqual(input);
    for (const [colour, background] of cells) expect(background).toBe(rgb(PALETTE[Number(colour)]!));
    const predicted = await page.$$eval("[data-testid=row-grids] .example:first-child figure:nth-of-type(3) .cell", (nodes) =>
      nodes.map((n) => Number(n.getAttribute("data-colour"))),
    );
    expect(predicted).toEqual((row.predicted_train_output as number[][][])[0]!.flat());
    const correct = await page.$eval("[data-testid=row-grids] .example:first-child", (n) => n.getAttribute("data-correct"));
    expect(correct).toBe(String((row.correct_train_input as boolean[])[0]));
    expect(await page.$eval("[data-testid=row-code]", (n) => n.textContent)).toBe(row.code);
    const screenshot = join(dir, "report.png");
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(statSync(screenshot).size).toBeGreaterThan(10_000);
  });

  it("made no network request and logged no error", () => {
    expect(requests.filter((url) => !url.startsWith("file://"))).toEqual([]);
    expect(requests).toHaveLength(1);
    expect(problems).toEqual([]);
  });
});

describe.skipIf(!CHROMIUM)("the report of a refinement build in headless Chromium", () => {
  it("counts pairs by source and bucket, and shows a pair's parent and child side by side", async () => {
    const { options } = await demoWorld({ format: "refinement" });
    await buildDataset({ options, cacheDir: await tempDir() });
    const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
    try {
      const page = await browser.newPage();
      await page.goto(pathToFileURL(join(options.out, "report.html")).href, { waitUntil: "load" });
      expect(await page.$eval("[data-testid=pairs]", (n) => n.textContent)).toMatch(
        /^\d+ refinement pairs: multiturn \d+, refined \d+, hindsight \d+; hindsight parents by bucket: zero \d+, low \d+, medium \d+, max \d+$/,
      );
      expect(await page.$eval("[data-testid=parent-code]", (n) => n.textContent)).toContain("def transform");
      const labels = await page.$$eval("[data-testid=row-grids] .example:first-child figcaption", (nodes) => nodes.map((n) => n.textContent));
      expect(labels).toEqual(["input", "real output", "parent's prediction", "child's prediction"]);
    } finally {
      await browser.close();
    }
  });
});

describe.skipIf(!CHROMIUM)("the report's reading aids in headless Chromium", () => {
  const open = async (format: BuildOptions["format"]) => {
    const { options } = await demoWorld({ format });
    await buildDataset({ options, cacheDir: await tempDir() });
    const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
    const page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 1400 });
    await page.goto(pathToFileURL(join(options.out, "report.html")).href, { waitUntil: "load" });
    return { browser, page };
  };

  it("gives every drop reason its own legend colour, outlines wrong cells and colours the code", async () => {
    const { browser, page } = await open("flat");
    try {
      const legend = await page.$$eval("#drops-chart [class$=-swatch]", (nodes) =>
        nodes.map((n) => [n.textContent, n.querySelector("svg")?.getAttribute("fill")]),
      );
      expect(legend.length).toBeGreaterThan(10);
      expect(new Set(legend.map(([, fill]) => fill)).size).toBe(legend.length);
      const tasks = await page.$$eval("[data-testid=task-table] tbody tr", (rows) => rows.map((r) => r.getAttribute("data-task")));
      let outlined = 0;
      for (const task of tasks) {
        await page.click(`[data-testid=task-table] tbody tr[data-task="${task}"]`);
        outlined += await page.$$eval("[data-differs=true]", (cells) => cells.filter((c) => getComputedStyle(c).outlineStyle === "solid").length);
        if (outlined > 0) break;
      }
      expect(outlined).toBeGreaterThan(0);
      expect(await page.$$eval("[data-testid=row-code] .token", (tokens) => tokens.length)).toBeGreaterThan(0);
    } finally {
      await browser.close();
    }
  });

  it("shows rows for a messages build", async () => {
    const { browser, page } = await open("messages");
    try {
      expect(await page.$eval("[data-testid=row-messages]", (n) => n.textContent)).toMatch(/system.*user.*assistant/s);
    } finally {
      await browser.close();
    }
  });
});
