import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../common/write-file-atomic.js";
import { reportClient } from "./report-client.js";
import { type PageData, reportData, type ReportData } from "./report-data.js";

const require = createRequire(import.meta.url);

/** A file of an npm package, wherever npm put the package (nested or hoisted). */
function packageFile(name: string, file: string): string {
  let dir = dirname(require.resolve(name));
  while (!existsSync(join(dir, "package.json")) || (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string }).name !== name) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`the npm package ${name} was not found`);
    dir = parent;
  }
  return join(dir, file);
}

/** Inlined script text must not close its own <script> element. */
const inline = (text: string) => text.replace(/<\/script/gi, "<\\/script");

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 16px 24px; color: #111; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; } td, th { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
table.tasks { width: 100%; } table.tasks th { cursor: pointer; background: #f6f6f6; position: sticky; top: 0; }
table.tasks tbody tr { cursor: pointer; } table.tasks tbody tr:hover { background: #eef5ff; }
.scroll { max-height: 360px; overflow: auto; border: 1px solid #eee; }
.examples { display: flex; flex-direction: row; flex-wrap: wrap; gap: 12px; }
.example { display: flex; gap: 10px; align-items: flex-start; flex-wrap: nowrap; padding: 6px; border-left: 4px solid #2ECC40; background: #fafafa; }
.example.wrong { border-left-color: #FF4136; } .example h4 { width: 100%; margin: 0; }
figure { margin: 0; } figcaption { font-size: 12px; color: #555; }
.grid { display: grid; gap: 1px; background: #555; border: 1px solid #555; width: max-content; }
.cell { width: 14px; height: 14px; box-sizing: border-box; }
.cell.differs { outline: 2px solid #FF00FF; outline-offset: -2px; }
.messages pre { white-space: pre-wrap; }
pre { background: #f6f6f6; padding: 8px; overflow: auto; }
#row-picker button { margin: 2px; }
`;

/** JSON a script element can hold: no `<` that could close it. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, "\\u003c");

/**
 * The page: styles, Observable Plot and d3 from npm, the data, and the client script, all inline.
 * Rendered but for the splits' totals (the last field of the embedded data): a build renders it
 * while its data files are compressed, and completes it once they are written.
 */
export function reportPage(data: PageData): (splits: ReportData["splits"]) => string {
  const d3 = readFileSync(packageFile("d3", "dist/d3.min.js"), "utf8");
  const plot = readFileSync(packageFile("@observablehq/plot", "dist/plot.umd.min.js"), "utf8");
  const prism = ["components/prism-core.min.js", "components/prism-python.min.js"].map((f) => readFileSync(packageFile("prismjs", f), "utf8")).join("\n");
  const prismStyle = readFileSync(packageFile("prismjs", "themes/prism.min.css"), "utf8");
  const json = scriptJson(data);
  const title = data.title.replace(/[<&]/g, (c) => (c === "<" ? "&lt;" : "&amp;"));
  const head = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<link rel="icon" href="data:,"><meta name="viewport" content="width=device-width, initial-scale=1">
<style>${STYLE}</style><style>${prismStyle}</style></head>
<body>
<h1>${title}</h1><p id="summary"></p>
<h2>Where the programs went</h2><div id="funnel-chart"></div><div id="drops-chart"></div><div id="funnel-table"></div>
<h2>Sandbox</h2><div id="sandbox"></div>
<h2>Tasks</h2><p><input id="task-filter" placeholder="filter: any column contains…" size="40"> <span id="task-count"></span> — click a header to sort, a task to see its rows</p>
<div class="scroll" id="tasks"></div>
<h2 id="viewer">Rows of <span id="viewer-task">a task</span></h2><p id="viewer-note"></p><div id="row-picker"></div><div id="row"></div>
<script>${inline(d3)}</script>
<script>${inline(plot)}</script>
<script>window.Prism = { manual: true };</script>
<script>${inline(prism)}</script>
<script>(${inline(reportClient.toString())})(${json.slice(0, -1)},"splits":`;
  return (splits) => `${head}${scriptJson(splits)}}, Plot);</script>
</body></html>
`;
}

/** Writes <dir>/report.html from what the build left in <dir>. Returns its path. */
export async function writeReport(params: { dir: string; title?: string }): Promise<string> {
  const path = join(params.dir, "report.html");
  const { page, splits } = await reportData(params);
  writeFileAtomic(path, reportPage(page)(splits));
  return path;
}
