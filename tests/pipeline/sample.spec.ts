import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDataset, builtRows } from "../../pipeline/orchestrator/build-dataset.js";
import { DEFAULT_BUILD_OPTIONS } from "../../schemas/build-options.js";
import { DEMO_PROGRAMS, DEMO_TASKS } from "../../pipeline/orchestrator/demo-data.js";
import { createProcessExecutor } from "../../pipeline/executor/process-pool.js";
import type { Executor } from "../../pipeline/executor/types.js";
import { extractCode } from "../../pipeline/sample/extract-code.js";
import { runSample, type SampleOptions, type SampleSummary } from "../../pipeline/sample/run-sample.js";
import { selectTasks } from "../../pipeline/sample/subsets.js";
import { userPrompt } from "../../schemas/prompt.js";
import type { SampleLog } from "../../schemas/sample-log.js";
import { startOpenAiServer, type ChatRequest, type OpenAiServer, type Reply } from "../openai-server/openai-server.js";
import { demoWorld, tempDir } from "../support/stage-harness.js";

const API_KEY = "sk-arcforge-secret-key-91f2";
const code = (program: string, prose = "Here is my solution.") => ({ kind: "completion" as const, content: `${prose}\n\n\`\`\`python\n${program}\`\`\`\n` });

/** Per task, the replies its requests get in order (retries included); the last one repeats. */
const SCRIPT: Record<string, Reply[]> = {
  a1b2c3d4: [code(DEMO_PROGRAMS.flip), code(DEMO_PROGRAMS.identity)],
  b2c3d4e5: [
    { kind: "status", status: 429 },
    code(DEMO_PROGRAMS.recolor),
    { kind: "status", status: 500 },
    { kind: "completion", content: "I think the answer is to recolor, but I am not sure." },
  ],
  c3d4e5f6: [
    { ...code(DEMO_PROGRAMS.transpose), delayMs: 3000 },
    code(DEMO_PROGRAMS.transpose),
    { kind: "completion", content: "Let me think step by step about this grid. First", finishReason: "length" },
  ],
  d4e5f6a7: [code(DEMO_PROGRAMS.crash), { ...code(DEMO_PROGRAMS.count), reasoning: "Count the coloured cells." }],
  "0c1d2e3f": [{ kind: "status", status: 500 }],
  "9a8b7c6d": [{ kind: "hang" }],
};
const TASK_IDS = Object.keys(SCRIPT);

function scripted(): (request: ChatRequest) => Reply {
  const seen = new Map<string, number>();
  return (request) => {
    const user = request.messages.find((m) => m.role === "user")!.content;
    const taskId = TASK_IDS.find(
      (id) => user === userPrompt({ train: DEMO_TASKS[id]!.task.train, testInputs: DEMO_TASKS[id]!.task.test.map((e) => e.input) }),
    )!;
    const n = seen.get(taskId) ?? 0;
    seen.set(taskId, n + 1);
    const replies = SCRIPT[taskId]!;
    return replies[Math.min(n, replies.length - 1)]!;
  };
}

let server: OpenAiServer;
let executor: Executor;
let tasksRoot: string;
let subsetFile: string;

function options(out: string, overrides: Partial<SampleOptions> = {}): SampleOptions {
  return {
    tasks: tasksRoot,
    dataset: "arc-agi-1",
    subset: subsetFile,
    attempts: 2,
    workers: 4,
    baseUrl: server.url,
    apiKey: API_KEY,
    out,
    sampling: { model: "qwen3-4b-ft", temperature: 1, minP: 0.05, maxTokens: 2000, noThink: true },
    policy: { timeoutMs: 500, retries: 2, backoffMs: 50 },
    prices: { input: 1, output: 2 },
    ...overrides,
  };
}

beforeAll(async () => {
  server = await startOpenAiServer(scripted());
  executor = createProcessExecutor({ workers: 2, timeoutSeconds: 0.5 });
  const world = await demoWorld();
  tasksRoot = world.options.tasks!;
  subsetFile = join(world.dir, "subset.txt");
  await writeFile(subsetFile, `${TASK_IDS.join("\n")}\n`);
});
afterAll(async () => {
  await executor.close();
  await server.close();
});

describe("arcforge sample", () => {
  let summary: SampleSummary;
  let logs: SampleLog[];

  beforeAll(async () => {
    summary = await runSample({ options: options(await tempDir()), executor });
    logs = readdirSync(summary.runDir)
      .filter((f) => f !== "run.json")
      .map((f) => JSON.parse(readFileSync(join(summary.runDir, f), "utf8")) as SampleLog);
  });

  it("writes one all_attempts log per task, with the task embedded", () => {
    expect(logs.map((l) => l.task_id).sort()).toEqual([...TASK_IDS].sort());
    for (const log of logs) {
      expect(log.api_type).toBe("chat_completions_all_attempts");
      expect(log.task_data).toEqual(DEMO_TASKS[log.task_id]!.task);
      expect(log.attempt_details).toHaveLength(2);
    }
    expect(summary.runDir).toMatch(/\/\d{8}_\d{6}$/);
  });

  it("puts every attempt in exactly one category", () => {
    expect(summary.categories).toEqual({
      test_correct: 4,
      all_train_correct: 0,
      some_train_correct: 0,
      no_train_correct: 1,
      execution_error: 1,
      execution_timeout: 0,
      no_code: 1,
      max_length: 1,
      api_timeout: 2,
      api_failure: 2,
    });
  });

  it("retries 429s, 500s and timeouts, and a stuck request does not stall the run", () => {
    expect(summary.retries).toBe(11);
    const hung = logs.find((l) => l.task_id === "9a8b7c6d")!;
    expect(hung.attempt_details.every((a) => a.api_timeout && a.retries === 2)).toBe(true);
  });

  it("records a subset given as a file by its base name, not its path", () => {
    expect(new Set(logs.map((l) => l.subset))).toEqual(new Set(["subset"]));
  });

  it("reports the end summary figures", () => {
    expect(summary).toMatchObject({ tasks: 6, attempts: 12, tasksTestCorrect: 4, tasksAllTrainCorrect: 4, tasksSomeTrainCorrect: 4 });
    expect(summary.oracle).toBeCloseTo(4 / 6);
    expect(summary.maxLengthRate).toBeCloseTo(1 / 12);
    expect(summary.maxLengthWithCode + summary.categories.max_length).toBe(Math.round(summary.maxLengthRate * summary.attempts));
    expect(summary.timeoutRate).toBeCloseTo(2 / 12);
    expect(summary.apiFailureRate).toBeCloseTo(2 / 12);
    expect(summary.cost).toBeCloseTo((summary.inputTokens + 2 * summary.outputTokens) / 1e6);
  });

  it("sends min_p and the no-thinking switch whatever the model is called, and never logs the API key", () => {
    expect(server.requests[0]).toMatchObject({ model: "qwen3-4b-ft", min_p: 0.05, max_tokens: 2000, chat_template_kwargs: { enable_thinking: false } });
    for (const file of readdirSync(summary.runDir)) expect(readFileSync(join(summary.runDir, file), "utf8")).not.toContain(API_KEY);
  });

  it("writes logs that build turns into the expected rows", async () => {
    const dir = await tempDir();
    const out = join(dir, "out");
    const build = { ...DEFAULT_BUILD_OPTIONS, logs: [summary.runDir], out, reasoning: true, limits: { timeoutSeconds: 0.5, memoryBytes: 1 << 30 } };
    const manifest = await buildDataset({ options: build, cacheDir: dir });
    expect(manifest.attempts).toMatchObject({ total: 12, kept: 5, adds_up: true });
    expect(manifest.attempts.dropped).toEqual({ no_program: 6, train_error: 1 });
    const [train] = await builtRows({ options: build, cacheDir: dir });
    const solved = train!.formatted
      .filter((r) => (r.correct_test_input as boolean[]).every(Boolean))
      .map((r) => r.task_id)
      .sort();
    expect(solved).toEqual(["a1b2c3d4", "b2c3d4e5", "c3d4e5f6", "d4e5f6a7"]);
    expect(train!.formatted.find((r) => r.task_id === "d4e5f6a7")!.reasoning).toBe("Count the coloured cells.");
  });
});

describe("resuming", () => {
  it("skips the tasks an interrupted run already logged", async () => {
    const out = await tempDir();
    const slow = await startOpenAiServer((request) => ({ ...scripted()(request), delayMs: 150 }));
    const args = [
      join(process.cwd(), "dist", "pipeline", "commands", "cli.js"),
      "sample",
      "--tasks",
      tasksRoot,
      "--subset",
      subsetFile,
      "--model",
      "m",
      "--base-url",
      slow.url,
      "--attempts",
      "1",
      "--workers",
      "1",
      "--out",
      out,
      "--request-timeout",
      "0.4",
      "--retries",
      "0",
      "--timeout",
      "0.5",
      "--no-retry-failed",
    ];
    const env = { ...process.env, OPENAI_API_KEY: API_KEY };
    const first = spawn(process.execPath, args, { env, stdio: "ignore" });
    const logged = () => {
      const runs = existsSync(out) ? readdirSync(out) : [];
      return runs.length ? readdirSync(join(out, runs[0]!)).filter((f) => f.endsWith(".json") && f !== "run.json").length : 0;
    };
    const deadline = Date.now() + 60_000;
    while (logged() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    first.kill("SIGKILL");
    await new Promise((r) => first.once("exit", r));
    const before = logged();
    expect(before).toBeGreaterThanOrEqual(2);
    expect(before).toBeLessThan(6);

    // As if the kill had landed mid-write: a temporary file beside the finished logs.
    const runDir = join(out, readdirSync(out)[0]!);
    writeFileSync(join(runDir, `arc-agi-1_00000000.json.${first.pid}.tmp`), '{"trunc');
    const requestsBefore = slow.requests.length;
    const second = spawn(process.execPath, [...args, "--json"], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    second.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    second.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    expect(await new Promise((r) => second.once("exit", r))).toBe(0);
    await slow.close();
    expect(stderr).toContain("resuming");
    const result = JSON.parse(stdout) as SampleSummary;
    expect(result.tasksSkipped).toBe(before);
    expect(logged()).toBe(6);
    expect(readdirSync(out)).toHaveLength(1);
    // A log half-written when the first run was killed leaves no temporary file behind.
    expect(readdirSync(join(out, readdirSync(out)[0]!)).filter((f) => !f.endsWith(".json"))).toEqual([]);
    // Only the tasks left were asked for (one attempt each, no retries).
    expect(slow.requests.length - requestsBefore).toBe(6 - before);
    expect(stdout + stderr).not.toContain(API_KEY);
  });
});

describe("choosing tasks and reading answers", () => {
  it("selects the shortest, middle, longest and seeded random subsets by total grid cells", async () => {
    const shortest = await selectTasks({ root: tasksRoot, dataset: "arc-agi-1", subset: "shortest_training_2" });
    const longest = await selectTasks({ root: tasksRoot, dataset: "arc-agi-1", subset: "longest_training_2" });
    expect(shortest).toHaveLength(2);
    expect(longest).toHaveLength(2);
    expect(shortest.some((id) => longest.includes(id))).toBe(false);
    expect(await selectTasks({ root: tasksRoot, dataset: "arc-agi-1", subset: "middle_training_2" })).toHaveLength(2);
    const random = await selectTasks({ root: tasksRoot, dataset: "arc-agi-1", subset: "random_training_3_seed1" });
    expect(random).toEqual(await selectTasks({ root: tasksRoot, dataset: "arc-agi-1", subset: "random_training_3_seed1" }));
    expect(await selectTasks({ root: tasksRoot, dataset: "arc-agi-1", subset: "all_training" })).toHaveLength(6);
  });

  it("takes the last python block that defines transform", () => {
    const text =
      "Draft:\n```python\ndef transform(g):\n    return g\n```\nHelper:\n```python\nx = 1\n```\nFinal:\n```python\ndef transform(grid):\n    return grid[::-1]\n```\nDone.";
    expect(extractCode(text)).toBe("def transform(grid):\n    return grid[::-1]\n");
    expect(extractCode("no code here")).toBeNull();
  });
});

describe("failed requests", () => {
  const cli = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [join(process.cwd(), "dist", "pipeline", "commands", "cli.js"), "sample", ...args], {
        env: { ...process.env, OPENAI_API_KEY: API_KEY },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      child.on("exit", (code) => resolve({ code, stdout, stderr }));
    });
  const base = (out: string, url: string) => [
    "--tasks",
    tasksRoot,
    "--subset",
    subsetFile,
    "--model",
    "m",
    "--base-url",
    url,
    "--attempts",
    "1",
    "--workers",
    "4",
    "--out",
    out,
    "--request-timeout",
    "0.4",
    "--retries",
    "0",
    "--timeout",
    "0.5",
  ];

  it("exits non-zero when every request failed, saying the first error once; a resumed run samples them again", async () => {
    const out = await tempDir();
    // One endpoint, down and then back: the same command both times.
    let up = false;
    const answer = scripted();
    const endpoint = await startOpenAiServer((request) => (up ? answer(request) : { kind: "status", status: 503 }));
    const first = await cli(base(out, endpoint.url));
    expect(first.code).toBe(1);
    expect(first.stderr.match(/every request failed/g)).toHaveLength(1);
    expect(first.stderr).toMatch(/every request failed \(6 of 6\); the first error: HTTP 503/);
    up = true;
    const before = endpoint.requests.length;
    const again = await cli(base(out, endpoint.url));
    await endpoint.close();
    expect(again.stderr).toMatch(/resuming .*6 attempts to sample \(6 of them again: their request failed last time\)/);
    expect(endpoint.requests.length - before).toBeGreaterThanOrEqual(6);
    expect(again.stderr).toMatch(/warning: \d+ of 6 requests failed/);
    expect(again.code).toBe(0);
  });
});
