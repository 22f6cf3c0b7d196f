import { existsSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import puppeteer from "puppeteer-core";
import { buildDataset } from "../pipeline/orchestrator/build-dataset.js";
import { writeReport } from "../pipeline/report/render-report.js";
import { DEFAULT_BUILD_OPTIONS } from "../schemas/build-options.js";
import { SHARED } from "./real-programs.js";

/**
 * The report of a build: its size, and how long headless Chromium takes from navigation to a
 * rendered page. `npm run bench:report -- <dataset-dir>` measures an existing build; without one,
 * ../shared/run-logs is built first.
 */
const given = process.argv[2];
const scratch = given ? null : await mkdtemp(join(tmpdir(), "arcforge-bench-report-"));
try {
  const dir = given ?? join(scratch!, "out");
  if (!given) {
    await buildDataset({
      options: { ...DEFAULT_BUILD_OPTIONS, logs: [join(SHARED, "run-logs")], tasks: join(SHARED, "arc-data"), out: dir, validation: true },
      cacheDir: join(scratch!, "cache"),
    });
  }
  const started = performance.now();
  const path = await writeReport({ dir });
  const writeMs = performance.now() - started;
  const chromium = [process.env.ARCFORGE_CHROMIUM, "/usr/bin/chromium"].find((p): p is string => Boolean(p && existsSync(p)));
  console.log(`report: ${(statSync(path).size / 2 ** 20).toFixed(2)} MiB (goal < 5 MiB), written in ${writeMs.toFixed(0)} ms`);
  if (!chromium) console.log("render: skipped (no chromium; apt-get install chromium)");
  else {
    const browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
    try {
      const page = await browser.newPage();
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t = performance.now();
        await page.goto(pathToFileURL(path).href, { waitUntil: "load" });
        await page.waitForSelector("#funnel-chart svg");
        times.push(performance.now() - t);
      }
      console.log(
        `render: ${Math.min(...times).toFixed(0)} ms best of 3 (goal < 1000 ms), tasks in the table: ${await page.$$eval("[data-testid=task-table] tbody tr", (r) => r.length)}`,
      );
    } finally {
      await browser.close();
    }
  }
} finally {
  if (scratch) await rm(scratch, { recursive: true, force: true });
}
