#!/usr/bin/env node
import { Command } from "commander";
import { registerBuildCommand } from "./build-cli.js";
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
  .showHelpAfterError();

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

// `arcforge ... | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code !== "EPIPE") throw error;
});

program.parseAsync(process.argv).catch((error: Error) => {
  process.stderr.write(`arcforge: ${error.name === "Error" ? "" : error.name + ": "}${error.message}\n`);
  // Exit now: a failed command may leave connections (a lost Redis) that would keep the process alive.
  process.exit(process.exitCode || 1);
});

