#!/usr/bin/env node
import { Command } from "commander";
import { registerBuildCommand } from "./build-cli.js";
import { debugRequested, formatCliError } from "./cli-error.js";
import { registerCacheCommand } from "./cache-cli.js";
import { registerDemoCommand } from "./demo-cli.js";
import { registerExecCommand } from "./exec-cli.js";
import { registerPushCommand } from "./push-cli.js";
import { registerRecipesCommand } from "./recipes-cli.js";
import { registerReportCommand } from "./report-cli.js";
import { registerSampleCommand } from "./sample-cli.js";
import { registerSandboxCommand } from "./sandbox-cli.js";
import { registerValidateCommand } from "./validate-cli.js";
import { registerWorkerCommand } from "./worker-cli.js";

const program = new Command()
  .name("arcforge")
  .description("Turn LLM program-synthesis run logs for ARC-AGI tasks into verified fine-tuning datasets")
  .version("0.1.0")
  .showHelpAfterError("(see 'arcforge --help')");

registerSampleCommand(program);
registerBuildCommand(program);
registerExecCommand(program);
registerPushCommand(program);
registerValidateCommand(program);
registerDemoCommand(program);
registerReportCommand(program);
registerWorkerCommand(program);
registerRecipesCommand(program);
registerCacheCommand(program);
registerSandboxCommand(program);

// A mistyped flag gets its error and where to look, not pages of help that scroll it away.
const pointToHelp = (command: Command, path: string): void => {
  command.showHelpAfterError(`(see 'arcforge ${path} --help')`);
  for (const sub of command.commands) pointToHelp(sub, `${path} ${sub.name()}`);
};
for (const command of program.commands) pointToHelp(command, command.name());

// Work that resumes where it stopped says so when stopped (a worker finishes its job first, by itself).
const RESUMABLE = new Set(["build", "demo", "sample", "validate", "push"]);
program.hook("preAction", (_program, action) => {
  if (!RESUMABLE.has(action.name())) return;
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    process.once(signal, () => {
      process.stderr.write(`\narcforge: interrupted (${signal}): the same command resumes where this one stopped\n`);
      process.exit(code);
    });
  }
});

// `arcforge ... | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
});

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(formatCliError(error, debugRequested(process.argv, process.env)));
  // Exit now: a failed command may leave connections (a lost Redis) that would keep the process alive.
  process.exit(process.exitCode || 1);
});
