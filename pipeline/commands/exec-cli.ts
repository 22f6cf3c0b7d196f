import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { gridToText } from "../../schemas/grid.js";
import { InputError } from "../common/errors.js";
import { execProgram } from "./exec-program.js";
import { addSandboxOptions, resolveSandboxLimits, type SandboxCliOptions } from "./sandbox-options.js";

interface ExecCliOptions extends SandboxCliOptions {
  task?: string;
  tasks?: string;
  dataset: string;
  inputs?: string;
  json?: boolean;
}

export function registerExecCommand(program: Command): void {
  addSandboxOptions(
    program
      .command("exec")
      .description("run one program in the sandbox on every train and test input of a task")
      .argument("<program.py>", "a Python file defining transform(grid)")
      .option("--task <task_id>", "ARC task id")
      .option("--tasks <arc-data-root>", "folder holding <dataset>/{training,evaluation}/<id>.json", process.env.ARC_DATA)
      .option("--dataset <name>", "arc-agi-1 or arc-agi-2", "arc-agi-1")
      .option("--inputs <file.json>", "a JSON list of grids to run on instead of a task")
      .option("--json", "print {outcomes: [...]} as JSON"),
  ).action(async (file: string, options: ExecCliOptions) => {
    const code = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
      throw new InputError(`cannot read the program ${file}: ${error.code === "ENOENT" ? "no such file" : error.message}`);
    });
    const source = await loadSource(options);
    const { executorFactory } = await import("./sandbox-executor.js");
    const executor = (await executorFactory(options))({ limits: resolveSandboxLimits(options), protect: [options.tasks] });
    try {
      const report = await execProgram({ code, executor, ...source });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
      } else {
        for (const o of report.outcomes) {
          const verdict = o.matches === undefined ? "" : o.matches ? "  matches expected" : "  differs from expected";
          const detail = o.status === "ok" ? `${o.grid.length}x${o.grid[0]!.length}` : "message" in o ? o.message : "reason" in o ? o.reason : "";
          process.stdout.write(`${o.split} ${o.index}: ${o.status} ${detail}${verdict} (${o.ms.toFixed(1)} ms)\n`);
          if (o.status === "ok") process.stdout.write(`${gridToText(o.grid).replace(/^/gm, "    ")}\n`);
        }
      }
      if (report.outcomes.some((o) => o.status !== "ok")) process.exitCode = 1;
    } finally {
      await executor.close();
    }
  });
}

async function loadSource(options: ExecCliOptions) {
  if (options.inputs) {
    const [{ z }, { taskGridSchema }] = await Promise.all([import("zod"), import("../../schemas/task.js")]);
    const parsed = z.array(taskGridSchema).safeParse(JSON.parse(await readFile(options.inputs, "utf8")));
    if (!parsed.success) throw new InputError(`${options.inputs} must hold a JSON list of grids: ${parsed.error.issues[0]?.message}`);
    return { inputs: parsed.data };
  }
  if (!options.task || !options.tasks) throw new InputError("give --task <id> with --tasks <arc-data-root> (or ARC_DATA), or --inputs <file.json>");
  const { loadTask } = await import("../sources/load-task.js");
  const found = await loadTask({ root: options.tasks, dataset: options.dataset, taskId: options.task });
  if (!found) throw new InputError(`task ${options.task} is in neither ${options.tasks}/${options.dataset}/training nor /evaluation`);
  return { task: found.task };
}
