import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Command } from "commander";

/** `arcforge report <dir>`: writes report.html again from what a build left in <dir>. */
export function registerReportCommand(program: Command): void {
  program
    .command("report")
    .description("write <dataset-dir>/report.html again from its manifest, task table and splits")
    .argument("<dataset-dir>", "a folder written by arcforge build")
    .option("--open", "print the report's file:// URL, to open in a browser")
    .option("--title <text>", "the page's title")
    .action(async (dir: string, options: { open?: boolean; title?: string }) => {
      const { writeReport } = await import("../report/render-report.js");
      const path = await writeReport({ dir, title: options.title });
      process.stdout.write(options.open ? `${pathToFileURL(resolve(path)).href}\n` : `wrote ${path}\n`);
    });
}
