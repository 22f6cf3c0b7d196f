import { join } from "node:path";
import type { Command } from "commander";
import { addBuildOptions, runBuildCommand, type BuildCliOptions } from "./build-cli.js";

/** `npm start`: writes the bundled demo tasks and logs, then builds them like any other logs. */
export function registerDemoCommand(program: Command): void {
  const command = program.command("demo").description("write a small demo (tasks and run logs in every layout) and build it into training_data/demo");
  addBuildOptions(command, { out: "training_data/demo" }).action(async (cli: BuildCliOptions) => {
    const out = cli.out;
    const input = join("training_data", "demo-input");
    const { writeDemoData } = await import("../orchestrator/demo-data.js");
    const { tasks, logs } = await writeDemoData(input);
    process.stderr.write(`demo: wrote tasks to ${tasks} and run logs to ${logs}\n`);
    await runBuildCommand({ ...cli, logs: [logs], tasks, out, validation: cli.validation ?? true, cacheDir: cli.cacheDir }, "arcforge demo dataset");
  });
}
