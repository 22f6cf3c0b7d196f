import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SHARED } from "./real-programs.js";
import type { BuildManifest } from "../schemas/build-manifest.js";

/**
 * Verdicts do not depend on the machine's load: the same cold build, once on a quiet machine and
 * once beside 4 busy loops and a second build of its own, must write the same bytes and fates,
 * with no sandbox failure. Exits non-zero when they differ. `.ci/run` runs it once.
 *   npm run bench:load [-- --logs <dir> ...]
 */
const CLI = join(import.meta.dirname, "..", "pipeline", "commands", "cli.js");
const flag = process.argv.indexOf("--logs");
const logs =
  flag >= 0
    ? process.argv.slice(flag + 1).filter((a) => !a.startsWith("--"))
    : ["middle-and-shortest-training-10", "soar-qwen-7b-simple"].map((f) => join(SHARED, "run-logs", f)).filter(existsSync);
const tasks = join(SHARED, "arc-data");
if (logs.length === 0 || !existsSync(tasks))
  throw new Error(`bench:load needs run logs and ${tasks} (../shared), or --logs <dir...> with ARC task files there`);

const dir = await mkdtemp(join(tmpdir(), "arcforge-bench-load-"));

function build(name: string): { done: Promise<{ seconds: number; manifest: BuildManifest; fates: string }> } {
  const out = join(dir, name);
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [CLI, "build", "--logs", ...logs, "--tasks", tasks, "--out", out, "--cache-dir", join(dir, `${name}-cache`), "--validation", "--quiet"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const done = once(child, "exit").then(([code]) => {
    if (code !== 0) throw new Error(`build ${name} failed (${code}): ${stderr.slice(-2000)}`);
    return {
      seconds: (performance.now() - started) / 1000,
      manifest: JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")) as BuildManifest,
      fates: readFileSync(join(out, "fates.jsonl"), "utf8"),
    };
  });
  return { done };
}

/** A CPU-bound loop that ends by itself after 15 minutes whatever happens to this script. */
const busyLoop = (): ChildProcess => spawn(process.execPath, ["-e", "const end = Date.now() + 900e3; while (Date.now() < end) {}"], { stdio: "ignore" });

const loops: ChildProcess[] = [];
try {
  const quiet = await build("quiet").done;
  console.log(`quiet build: ${quiet.seconds.toFixed(1)} s, ${quiet.manifest.attempts.total} attempts`);
  for (let i = 0; i < 4; i++) loops.push(busyLoop());
  const [loaded, second] = await Promise.all([build("loaded").done, build("concurrent").done]);
  console.log(`under 4 busy loops and a second build: ${loaded.seconds.toFixed(1)} s (the second build ${second.seconds.toFixed(1)} s)`);
  const hashes = (m: BuildManifest) => m.outputs.map((o) => `${o.split}:${o.sha256}`).join(" ");
  const failures = (fates: string) => fates.split("\n").filter((l) => l.includes("sandbox_failure")).length;
  const problems = [
    ...(hashes(loaded.manifest) !== hashes(quiet.manifest) ? [`dataset files differ: quiet ${hashes(quiet.manifest)}, loaded ${hashes(loaded.manifest)}`] : []),
    ...(hashes(second.manifest) !== hashes(quiet.manifest) ? ["the concurrent build's dataset files differ from the quiet build's"] : []),
    ...(loaded.fates !== quiet.fates ? ["fates.jsonl differs between the quiet and the loaded build"] : []),
    ...(second.fates !== quiet.fates ? ["fates.jsonl differs between the quiet and the concurrent build"] : []),
    ...[quiet, loaded, second].flatMap((b, i) =>
      failures(b.fates) ? [`${["quiet", "loaded", "concurrent"][i]} build: ${failures(b.fates)} sandbox failures`] : [],
    ),
  ];
  if (problems.length) {
    console.log(`VERDICTS DEPEND ON LOAD:\n  ${problems.join("\n  ")}`);
    process.exitCode = 1;
  } else {
    console.log("same bytes and fates quiet and under load; no sandbox failure");
  }
} finally {
  for (const loop of loops) loop.kill("SIGKILL");
  await rm(dir, { recursive: true, force: true });
}
