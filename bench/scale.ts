import { spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadTask } from "../pipeline/sources/load-task.js";
import { listLogFiles, parseLog } from "../stages/read-logs.js";
import { DEFAULT_BUILD_OPTIONS } from "../schemas/build-options.js";
import type { ArcTask } from "../schemas/task.js";
import { SHARED } from "./real-programs.js";

/**
 * `npm run bench:scale -- --attempts 100000 --attempts 1000000`: N attempts in all_attempts logs
 * made from ../shared's real programs, each raw code distinct (a varying comment), so reading,
 * cleaning and filtering do real work while executions hit the cache (a warm-up build of the real
 * programs fills it first, in the same cache). Each N is built by the CLI in a child process; wall
 * time, time per attempt, peak RSS of the process tree (arcforge and its Python children) and cache
 * bytes per attempt are printed. `--keep` leaves the generated logs and cache in place (to profile a build);
 * `--heap <MiB>` gives the measured build that V8 heap ceiling; `--recipe <name>` then builds the same
 * corpus cut by that recipe, executions cached (a copy of the warm cache), and compares its time.
 * `--rebuild` then rebuilds on the measured build's cache after a split change (`--seed 7`) and
 * after a dedup change (`--no-dedup`), and prints each as a share of the build.
 */
const sizes = process.argv.flatMap((a, i) => (process.argv[i - 1] === "--attempts" ? a.split(",").map(Number) : []));
if (sizes.length === 0) sizes.push(100_000);
const keep = process.argv.includes("--keep");
// `--recipe <name>`: after the default build, the same corpus cut by that recipe (executions cached, stages not).
const recipeAt = process.argv.indexOf("--recipe");
const recipe = recipeAt > 0 ? process.argv[recipeAt + 1] : undefined;
// `--heap <MiB>`: the build's V8 heap ceiling (--max-old-space-size), to see how much of the peak is V8 collecting lazily.
const rebuilds = process.argv.includes("--rebuild");
const heapAt = process.argv.indexOf("--heap");
const heapFlags = heapAt > 0 ? [`--max-old-space-size=${Number(process.argv[heapAt + 1])}`] : [];
const CLI = join(process.cwd(), "dist", "pipeline", "commands", "cli.js");
const PER_LOG = 100;

async function realAttempts() {
  const files = await listLogFiles([join(SHARED, "run-logs")]);
  const out: { taskId: string; code: string; task: ArcTask }[] = [];
  const tasks = new Map<string, ArcTask | null>();
  for (const file of files) {
    const parsed = parseLog({ file, text: await readFile(file.path, "utf8"), options: DEFAULT_BUILD_OPTIONS });
    if (!("attempts" in parsed)) continue;
    for (const a of parsed.attempts) {
      if (!tasks.has(a.taskId)) tasks.set(a.taskId, (await loadTask({ root: join(SHARED, "arc-data"), dataset: a.dataset, taskId: a.taskId }))?.task ?? null);
      const task = tasks.get(a.taskId);
      if (task) out.push({ taskId: a.taskId, code: a.code, task });
    }
  }
  return out;
}

/** Resident bytes of a process tree: in all, and the part that is file-backed (LMDB's memory map, code), which the kernel may drop at will. */
function treeRss(pid: number): { total: number; file: number } {
  let total = 0;
  let file = 0;
  const field = (status: string, name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  const walk = (p: number) => {
    try {
      const status = readFileSync(`/proc/${p}/status`, "utf8");
      total += field(status, "VmRSS");
      file += field(status, "RssFile");
      for (const t of readdirSync(`/proc/${p}/task`))
        for (const c of readFileSync(`/proc/${p}/task/${t}/children`, "utf8").split(" ").filter(Boolean)) walk(Number(c));
    } catch {
      // the process ended between two reads
    }
  };
  walk(pid);
  return { total, file };
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** One build as a child process: its time, peak RSS of its process tree (and what is not file-backed), exit code. */
async function measure(params: { args: string[] }): Promise<{ seconds: number; peak: number; peakAnon: number; code: number | null; stderr: string }> {
  const started = performance.now();
  const child = spawn(process.execPath, [...heapFlags, CLI, "build", ...params.args, "--quiet"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  let peak = 0;
  let peakAnon = 0;
  const sampler = setInterval(() => {
    const rss = treeRss(child.pid!);
    peak = Math.max(peak, rss.total);
    peakAnon = Math.max(peakAnon, rss.total - rss.file);
  }, 200);
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  clearInterval(sampler);
  return { seconds: (performance.now() - started) / 1000, peak, peakAnon, code, stderr: stderr.trim().split("\n").slice(-3).join(" | ") };
}

function duBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) if (e.isFile()) total += statSync(join(e.parentPath, e.name)).size;
  return total;
}

const attempts = await realAttempts();
console.log(`real attempts: ${attempts.length} on ${new Set(attempts.map((a) => a.taskId)).size} tasks`);
for (const n of sizes) {
  const dir = await mkdtemp(join(tmpdir(), `arcforge-bench-scale-${n}-`));
  try {
    const logs = join(dir, "logs");
    await mkdir(logs);
    // Attempts grouped by task, PER_LOG to a log file, each raw code made distinct by a comment.
    const byTask = new Map<string, { code: string; task: ArcTask }[]>();
    for (let k = 0; k < n; k++) {
      const a = attempts[k % attempts.length]!;
      const list = byTask.get(a.taskId) ?? [];
      list.push({ code: `${a.code}\n# variant ${k}\n`, task: a.task });
      byTask.set(a.taskId, list);
    }
    let file = 0;
    for (const [taskId, list] of byTask) {
      for (let i = 0; i < list.length; i += PER_LOG) {
        const details = list.slice(i, i + PER_LOG).map((a, j) => ({ attempt_number: j + 1, program_extracted: true, program: a.code }));
        const log = {
          task_id: taskId,
          model: "bench",
          api_type: "chat_completions_all_attempts",
          dataset: "arc-agi-1",
          task_data: list[0]!.task,
          attempt_details: details,
        };
        await writeFile(join(logs, `20250101_000000_${String(file++).padStart(8, "0")}_0_${taskId}.json`), JSON.stringify(log));
      }
    }
    const cache = join(dir, "cache");
    const warm = join(dir, "warm-logs");
    await mkdir(warm);
    for (const [k, a] of attempts.entries()) {
      const log = {
        task_id: a.taskId,
        model: "bench",
        api_type: "chat_completions_all_attempts",
        dataset: "arc-agi-1",
        task_data: a.task,
        attempt_details: [{ attempt_number: 1, program_extracted: true, program: a.code }],
      };
      await writeFile(join(warm, `20240101_000000_${String(k).padStart(8, "0")}_0_${a.taskId}.json`), JSON.stringify(log));
    }
    const warmup = spawn(process.execPath, [CLI, "build", "--logs", warm, "--out", join(dir, "warm-out"), "--cache-dir", cache, "--quiet"], {
      stdio: "ignore",
    });
    await new Promise((resolve) => warmup.on("exit", resolve));
    const warmStageBytes = duBytes(join(cache, "stages"));
    const warmBytes = duBytes(cache);
    // The recipe build gets its own copy of the warm cache: executions cached, stages not.
    const recipeCache = join(dir, "recipe-cache");
    if (recipe) await cp(cache, recipeCache, { recursive: true });
    const base = await measure({ args: ["--logs", logs, "--out", join(dir, "out"), "--cache-dir", cache] });
    if (base.code !== 0)
      console.log(`${n} attempts: the build failed (exit ${base.code}) after ${base.seconds.toFixed(1)} s, peak RSS ${mib(base.peak)}: ${base.stderr}`);
    else {
      const stageBytes = duBytes(join(cache, "stages")) - warmStageBytes;
      console.log(
        `${n} attempts${heapFlags.length ? ` (${heapFlags[0]})` : ""}: ${base.seconds.toFixed(1)} s, ${((base.seconds * 1000) / n).toFixed(2)} ms/attempt, peak RSS ${mib(base.peak)} (arcforge + Python; not file-backed: ${mib(base.peakAnon)}), ` +
          `cache ${((duBytes(cache) - warmBytes) / n / 1024).toFixed(1)} KiB/attempt (stage cache ${(stageBytes / n / 1024).toFixed(1)} KiB/attempt)`,
      );
    }
    if (rebuilds && base.code === 0)
      for (const change of [["--seed", "7"], ["--no-dedup"]]) {
        const again = await measure({ args: ["--logs", logs, "--out", join(dir, `out${change.join("")}`), "--cache-dir", cache, ...change] });
        console.log(
          again.code !== 0
            ? `${n} attempts, rebuild ${change.join(" ")}: failed (exit ${again.code}): ${again.stderr}`
            : `${n} attempts, rebuild ${change.join(" ")}: ${again.seconds.toFixed(1)} s (${((again.seconds / base.seconds) * 100).toFixed(2)}% of the build; goal <= 1%), peak RSS ${mib(again.peak)}`,
        );
      }
    if (recipe) {
      const cut = await measure({ args: ["--logs", logs, "--out", join(dir, "recipe-out"), "--cache-dir", recipeCache, "--recipe", recipe] });
      console.log(
        cut.code !== 0
          ? `${n} attempts, --recipe ${recipe}: failed (exit ${cut.code}) after ${cut.seconds.toFixed(1)} s: ${cut.stderr}`
          : `${n} attempts, --recipe ${recipe}: ${cut.seconds.toFixed(1)} s (${(cut.seconds / base.seconds).toFixed(2)}x the default build; goal <= 1.3x), peak RSS ${mib(cut.peak)} (goal < 2 GB; not file-backed: ${mib(cut.peakAnon)})`,
      );
    }
  } finally {
    if (keep) console.log(`kept for profiling: ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
}
