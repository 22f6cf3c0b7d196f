import { spawnSync } from "node:child_process";
import { join } from "node:path";

/**
 * CPU time (user + system, GNU time, the median of 7 runs) of `arcforge --version` and
 * `arcforge build --help`; the goal is under 0.3 s: they load no heavy module (the sandbox,
 * Parquet, DuckDB, LMDB and the Hub client load when a command runs, not to print its help).
 */
const CLI = join(import.meta.dirname, "..", "pipeline", "commands", "cli.js");

function cpuSeconds(args: string[]): number {
  const samples = Array.from({ length: 7 }, () => {
    const run = spawnSync("/usr/bin/time", ["-f", "%U %S", process.execPath, CLI, ...args], { encoding: "utf8" });
    const [user, system] = run.stderr.trim().split("\n").pop()!.split(" ").map(Number);
    return user! + system!;
  });
  return samples.sort((a, b) => a - b)[3]!;
}

let slow = false;
for (const args of [["--version"], ["build", "--help"]]) {
  const seconds = cpuSeconds(args);
  slow ||= seconds >= 0.3;
  console.log(`arcforge ${args.join(" ").padEnd(12)} ${seconds.toFixed(2)} s CPU (goal: under 0.30 s)`);
}
if (slow) process.exitCode = 1;
