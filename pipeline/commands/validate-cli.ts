import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { wholeNumber } from "./number-options.js";
import cliProgress from "cli-progress";
import { addHubOptions, tokenOf, type HubCliOptions } from "./hub-options.js";
import { addSandboxOptions, resolveSandboxLimits, type SandboxCliOptions } from "./sandbox-options.js";

interface ValidateCliOptions extends SandboxCliOptions, HubCliOptions {
  split: string;
  limit?: number;
  tasks?: string;
  dataset: string;
  json?: boolean;
  report?: string;
}

export function registerValidateCommand(program: Command): void {
  addHubOptions(
    addSandboxOptions(
      program
        .command("validate")
        .description("re-execute every row of a dataset (Hub repo, folder or Parquet file) and compare with its stored outputs")
        .argument("<target>", "org/name on the Hub, a local folder, or a .parquet file")
        .option("--split <split>", "train, validation, ... or all", "all")
        .option("--limit <n>", "rows per split at most", wholeNumber(1))
        .option("--tasks <arc-data-root>", "where inputs come from for rows without train_input (SOAR format)", process.env.ARC_DATA)
        .option("--dataset <name>", "dataset of the tasks in --tasks", "arc-agi-1")
        .option("--json", "print the summary and every row as JSON")
        .option("--report <file>", "write the per-row report as JSON"),
    ),
  ).action(async (target: string, options: ValidateCliOptions) => {
    const [{ validateDataset }, { executorFactory }] = await Promise.all([import("../validate/validate-dataset.js"), import("./sandbox-executor.js")]);
    const executor = (await executorFactory(options))({ limits: resolveSandboxLimits(options), protect: [options.tasks] });
    const bar =
      process.stderr.isTTY && !options.json
        ? new cliProgress.SingleBar(
            { format: "  validate [{bar}] {value} rows {problems} problems", hideCursor: true, clearOnComplete: true },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
    let problems = 0;
    bar?.start(0, 0, { problems: 0 });
    try {
      const { summary, reports } = await validateDataset({
        target,
        split: options.split,
        limit: options.limit,
        tasksRoot: options.tasks,
        dataset: options.dataset,
        hubUrl: options.hubUrl,
        token: tokenOf(options),
        allowHttp: options.allowHttp,
        executor,
        onReport: (r) => {
          if (r.status !== "ok") problems++;
          bar?.setTotal(bar.getTotal() + 1);
          bar?.increment(1, { problems });
        },
      });
      bar?.stop();
      if (options.report) await writeFile(options.report, `${JSON.stringify({ summary, rows: reports }, null, 2)}\n`);
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ summary, rows: reports })}\n`);
      } else {
        const bad = reports.filter((r) => r.status !== "ok");
        for (const r of bad.slice(0, 50)) process.stdout.write(`${r.split}[${r.row}] ${r.taskId ?? "?"}: ${r.status}: ${r.problems.join("; ")}\n`);
        if (bad.length > 50) process.stdout.write(`... and ${bad.length - 50} more (see --report)\n`);
        process.stdout.write(
          `rows processed: ${summary.rowsProcessed} (${Object.entries(summary.rows)
            .map(([k, v]) => `${k} ${v}`)
            .join(", ")})\n` +
            `errors: ${summary.errors}\nexamples tested: ${summary.examplesTested}\nexamples correct: ${summary.examplesCorrect}\n` +
            `success rate: ${(summary.successRate * 100).toFixed(2)}%\n`,
        );
      }
      if (summary.rows.ok !== summary.rowsProcessed || summary.rowsProcessed === 0) process.exitCode = 1;
    } finally {
      bar?.stop();
      await executor.close();
    }
  });
}
