import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { cleanPrograms } from "../pipeline/cleaner/cleaner-pool.js";
import { findPython } from "../pipeline/executor/find-python.js";
import { loadTask } from "../pipeline/sources/load-task.js";
import { DEFAULT_BUILD_OPTIONS } from "../schemas/build-options.js";
import type { ArcTask } from "../schemas/task.js";
import { transductionVerdict } from "../stages/filter-transductive.js";
import { listLogFiles, parseLog } from "../stages/read-logs.js";
import { SHARED } from "./real-programs.js";
import { sandboxRunCost } from "./sandbox-run-cost.js";

/**
 * `npm run bench:limit [-- --logs <dir> --tasks <dir>]`: the physical limit of a cold build, then
 * the cold build itself, in one run. The bare side executes the distinct (task, cleaned code)
 * programs that pass the transduction filter in persistent unisolated Python workers
 * (bench/bare_limit.py: train inputs first, stop at the first failure, the same per-input CPU limit,
 * a second run of each passing program for the re-validation). The build is the CLI's, cold (an
 * empty cache), with default options. The ratio is the number to drive down. Last, what the
 * sandbox costs per program with a program that does nothing (bench/sandbox-run-cost.ts).
 */
const arg = (name: string) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const logs = arg("--logs") ?? join(SHARED, "run-logs");
const tasks = arg("--tasks") ?? join(SHARED, "arc-data");
const timeout = DEFAULT_BUILD_OPTIONS.limits.timeoutSeconds;
const workers = availableParallelism();

async function barePrograms(): Promise<{ id: string; code: string; task: ArcTask }[]> {
  const found = new Map<string, ArcTask | null>();
  const attempts: { id: string; code: string; task: ArcTask; key: string }[] = [];
  for (const file of await listLogFiles([logs])) {
    const parsed = parseLog({ file, text: await readFile(file.path, "utf8"), options: DEFAULT_BUILD_OPTIONS });
    if (!("attempts" in parsed)) continue;
    for (const a of parsed.attempts) {
      const key = `${a.dataset}/${a.taskId}`;
      if (!found.has(key)) found.set(key, (await loadTask({ root: tasks, dataset: a.dataset, taskId: a.taskId }))?.task ?? null);
      const task = found.get(key);
      if (task) attempts.push({ id: a.id, code: a.code, task, key });
    }
  }
  const cleaned = await cleanPrograms({ programs: attempts.map((a) => ({ id: a.id, code: a.code })) });
  const distinct = new Map<string, { id: string; code: string; task: ArcTask }>();
  for (const a of attempts) {
    const code = cleaned.get(a.id)!.code;
    if (!distinct.has(`${a.key}\0${code}`) && transductionVerdict({ code, task: a.task }) === "keep")
      distinct.set(`${a.key}\0${code}`, { id: a.id, code, task: a.task });
  }
  return [...distinct.values()];
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ seconds: number; stdout: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"], env });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve({ seconds: (performance.now() - started) / 1000, stdout }) : reject(new Error(`${command} exited with ${code}`)),
    );
  });
}

const dir = await mkdtemp(join(tmpdir(), "arcforge-bench-limit-"));
try {
  const programs = await barePrograms();
  const jobs = join(dir, "jobs.jsonl");
  writeFileSync(
    jobs,
    programs.map((p) => JSON.stringify({ id: p.id, code: p.code, train: p.task.train.map((e) => e.input), test: p.task.test.map((e) => e.input) })).join("\n"),
  );
  const python = await findPython();
  const bare = await run(python.executable, [join(process.cwd(), "bench", "bare_limit.py"), jobs, String(timeout), String(workers)], {
    ...process.env,
    OPENBLAS_NUM_THREADS: "1",
  });
  const limit = JSON.parse(bare.stdout) as { seconds: number; programs: number; passed: number; executions: number; revalidations: number };
  const cli = join(process.cwd(), "dist", "pipeline", "commands", "cli.js");
  const build = await run(process.execPath, [cli, "build", "--logs", logs, "--tasks", tasks, "--out", join(dir, "out"), "--cache-dir", join(dir, "cache")]);
  console.log(`machine: ${workers} cores; per-input CPU limit ${timeout} s; logs: ${logs}`);
  console.log(
    `bare limit   ${limit.seconds.toFixed(2)} s  (${limit.programs} programs, ${limit.passed} passed; ${limit.executions} executions + ${limit.revalidations} re-validations, ${workers} in-process workers)`,
  );
  console.log(`cold build   ${build.seconds.toFixed(2)} s  (arcforge build, default options, empty cache)`);
  console.log(`build / bare = ${(build.seconds / limit.seconds).toFixed(2)}x  (goal: <= 2x)`);
  const cost = await sandboxRunCost({ runs: 1500 });
  console.log(
    `sandbox cost per program (does nothing, 3 inputs, 1,500 runs, one worker): ${cost.withoutNumpy.toFixed(2)} ms of CPU in the zygote without numpy, ${cost.withNumpy.toFixed(2)} ms with numpy; the bare side spends ${(((limit.seconds * workers) / (limit.programs + limit.passed)) * 1000).toFixed(2)} ms per program run`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
