import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { demoWorld, tempDir } from "../support/stage-harness.js";
import { tinyWorld } from "../support/tiny-world.js";

const run = promisify(execFile);
const CLI = join(process.cwd(), "dist", "pipeline", "commands", "cli.js");
const arcforge = (args: string[]) => run(process.execPath, [CLI, ...args], { maxBuffer: 1 << 26 });

describe("the arcforge command line", () => {
  it("builds with --debug, showing per task what was kept or dropped and why", async () => {
    const { options } = await demoWorld();
    const cache = await tempDir();
    const { stdout, stderr } = await arcforge([
      "build",
      "--logs",
      options.logs[0]!,
      "--tasks",
      options.tasks!,
      "--out",
      options.out,
      "--cache-dir",
      cache,
      "--timeout",
      "0.5",
      "--debug",
      "--quiet",
    ]);
    expect(stdout).toMatch(/^log files: 13, kept 10/m);
    expect(stderr).toMatch(/^task arc-agi-1\/a1b2c3d4\n/m);
    expect(stderr).toMatch(/a1b2c3d4\.json#6: transductive_test_output at filter-transductive \(the test 0 output appears literally\)/);
    expect(stderr).toMatch(/b2c3d4e5_simple\.json#5: train_timeout at execute/);
    expect(stderr).toMatch(/log files left out\n[\s\S]*summary\.json: summary_file/);
  });

  it("prints the run summary as JSON", async () => {
    const { options } = await demoWorld();
    const { stdout } = await arcforge([
      "build",
      "--logs",
      options.logs[0]!,
      "--tasks",
      options.tasks!,
      "--out",
      options.out,
      "--cache-dir",
      await tempDir(),
      "--timeout",
      "0.5",
      "--json",
    ]);
    const summary = JSON.parse(stdout) as { attempts: { adds_up: boolean }; stages: unknown[] };
    expect(summary.attempts.adds_up).toBe(true);
    expect(summary.stages).toHaveLength(19);
  });

  it("reports and clears the cache", async () => {
    const { options } = await demoWorld();
    const cache = await tempDir();
    await arcforge(["build", "--logs", options.logs[0]!, "--tasks", options.tasks!, "--out", options.out, "--cache-dir", cache, "--timeout", "0.5", "--quiet"]);
    type PerFingerprint = Record<string, { outcomes: number; fingerprint: { backend: string; seeds: { random: number } } }>;
    const stats = JSON.parse((await arcforge(["cache", "stats", "--cache-dir", cache, "--json"])).stdout) as {
      stages: Record<string, { completed: number }>;
      executions: Record<string, PerFingerprint>;
    };
    // One entry per task for the task stages, one for a build-wide stage.
    const tasksRead = readFileSync(join(options.out, "tasks.jsonl"), "utf8").trim().split("\n").length;
    expect(stats.stages.execute!.completed).toBe(tasksRead);
    expect(stats.stages.balance!.completed).toBe(1);
    const execute = Object.values(stats.executions.execute!);
    expect(execute).toHaveLength(1);
    // 102 executions, of which 87 distinct (code, input) pairs (the demo repeats programs on purpose),
    // and 75 of those run: the rest follow a failure that had already decided their program.
    expect(execute[0]).toMatchObject({ outcomes: 75, fingerprint: { backend: "process", seeds: { random: 0 } } });
    expect(Object.values(stats.executions.revalidate!)[0]!.outcomes).toBeGreaterThan(0);
    expect((await arcforge(["cache", "clear", "--cache-dir", cache])).stdout).toMatch(/^cleared /);
    expect(existsSync(join(cache, "stages"))).toBe(false);
  });

  it("exits non-zero and writes no dataset when no program can be matched to a task, naming the remedy", async () => {
    const { options } = await tinyWorld({
      tasks: { aaaaaaaa: { train: [{ input: [[1]], output: [[1]] }], test: [{ input: [[1]], output: [[1]] }] } },
      programs: [{ task: "aaaaaaaa", code: "def transform(g):\n    return g" }],
    });
    const failure = await arcforge(["build", "--logs", options.logs[0]!, "--out", options.out, "--cache-dir", await tempDir(), "--quiet"]).catch(
      (e: { stderr: string; code: number }) => e,
    );
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toMatch(/no program could be matched to its ARC task.*task aaaaaaaa.*--tasks <root>.*ARC_DATA/);
    expect(existsSync(options.out)).toBe(false);
  });

  it("rewrites the report of a built dataset and prints its file URL", async () => {
    const { options } = await demoWorld();
    await arcforge([
      "build",
      "--logs",
      options.logs[0]!,
      "--tasks",
      options.tasks!,
      "--out",
      options.out,
      "--cache-dir",
      await tempDir(),
      "--timeout",
      "0.5",
      "--quiet",
    ]);
    const { stdout } = await arcforge(["report", options.out, "--open"]);
    expect(stdout.trim()).toBe(`file://${join(options.out, "report.html")}`);
    expect(existsSync(join(options.out, "report.html"))).toBe(true);
  });

  it("explains a missing option instead of failing obscurely", async () => {
    const failure = await arcforge(["exec", "/nonexistent.py"]).catch((e: { stderr: string; code: number }) => e);
    expect((failure as { code: number }).code).toBe(1);
    expect((failure as { stderr: string }).stderr).toBe("arcforge: InputError: cannot read the program /nonexistent.py: no such file\n");
    const noTask = await arcforge(["build", "--logs", "/nonexistent-logs"]).catch((e: { stderr: string }) => e);
    expect((noTask as { stderr: string }).stderr).toContain("cannot read the log folder /nonexistent-logs: it does not exist");
  });
});

describe("command-line conventions", () => {
  it("answers a mistyped flag with the error and where to look, not the whole help", async () => {
    const result = await arcforge(["build", "--lgos", "x"]).catch((e: { stderr: string; code: number }) => e);
    expect("code" in result && result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual(["error: unknown option '--lgos'", "(Did you mean --logs?)", "(see 'arcforge build --help')"]);
  });

  it("parses numbers as numbers with one error style, and says which option another needs", async () => {
    const bad = await arcforge(["sample", "--attempts", "abc", "--tasks", "x", "--subset", "y", "--model", "m", "--base-url", "u"]).catch(
      (e: { stderr: string }) => e,
    );
    expect(bad.stderr).toContain("error: option '--attempts <n>' argument 'abc' is invalid. expected a whole number, at least 1");
    const select = await arcforge(["build", "--logs", "x", "--select", "best"]).catch((e: { stderr: string }) => e);
    expect(select.stderr).toContain("--select chooses which programs --max-per-task keeps: give --max-per-task <n> too");
  });

  it("shows one default per option and none for a list that starts empty", async () => {
    const { stdout } = await arcforge(["build", "--help"]);
    expect(stdout).not.toContain("(default: [])");
    expect(stdout.match(/HF_ENDPOINT/g)).toHaveLength(1);
    const demo = (await arcforge(["demo", "--help"])).stdout;
    expect(demo.replace(/\s+/g, " ")).toContain('(default: "training_data/demo")');
  });

  it("says the same command resumes when a build is interrupted", async () => {
    const { options } = await demoWorld();
    const child = spawn(
      process.execPath,
      [CLI, "build", "--logs", options.logs[0]!, "--tasks", options.tasks!, "--out", options.out, "--cache-dir", await tempDir(), "--timeout", "0.5"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
    while (!stderr.includes("read-logs")) await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGINT");
    const [code] = await once(child, "exit");
    expect(code).toBe(130);
    expect(stderr).toContain("arcforge: interrupted (SIGINT): the same command resumes where this one stopped");
  });
});
