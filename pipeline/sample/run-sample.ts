import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import OpenAI from "openai";
import pLimit from "p-limit";
import { ATTEMPT_CATEGORIES, type AttemptCategory, type SampledAttempt, type SampleLog } from "../../schemas/sample-log.js";
import { SYSTEM_PROMPT, userPrompt, USER_TEMPLATE } from "../../schemas/prompt.js";
import type { ArcTask } from "../../schemas/task.js";
import { InputError } from "../common/errors.js";
import type { Executor } from "../executor/types.js";
import { loadTask } from "../sources/load-task.js";
import { sampleAttempt, type Prices, type RequestPolicy, type SamplingParams } from "./sample-attempt.js";
import { selectTasks, subsetName } from "./subsets.js";
import { cacheKey } from "../common/canonical-json.js";
import { writeFileAtomic } from "../common/write-file-atomic.js";

export interface SampleOptions {
  tasks: string;
  dataset: string;
  subset: string;
  limit?: number;
  attempts: number;
  workers: number;
  baseUrl: string;
  apiKey: string;
  out: string;
  sampling: SamplingParams;
  policy: RequestPolicy;
  prices?: Prices;
  /** A folder with system.md and/or user.md ({{examples}}, {{test}}) replacing the built-in prompt. */
  promptDir?: string;
  /** A resumed run samples again the attempts whose request failed (default); false keeps them. */
  retryFailed?: boolean;
}

export type SampleEvent =
  | { type: "start"; runDir: string; tasks: number; skipped: number; attempts: number; resumed: boolean; retrying: number }
  | { type: "attempt"; taskId: string; category: AttemptCategory; done: number; total: number; counts: Record<AttemptCategory, number> }
  | { type: "task"; taskId: string; file: string };

export interface SampleSummary {
  runDir: string;
  tasks: number;
  tasksSkipped: number;
  attempts: number;
  categories: Record<AttemptCategory, number>;
  /** Tasks where some attempt solved the test (the oracle, pass@attempts). */
  tasksTestCorrect: number;
  oracle: number;
  tasksAllTrainCorrect: number;
  tasksSomeTrainCorrect: number;
  /** Every answer cut at max tokens, with or without code. */
  maxLengthRate: number;
  /** Cut answers that still held a program: they were executed and counted in their category, not as max_length. */
  maxLengthWithCode: number;
  timeoutRate: number;
  apiFailureRate: number;
  retries: number;
  inputTokens: number;
  outputTokens: number;
  cost: number;
  /** The first failed request's error (status and message), when any failed. */
  firstApiError: string | null;
}

/** The options that make two runs "the same command", so the second resumes the first. */
function runKey(options: SampleOptions, prompt: { system: string; user: string }): string {
  const { tasks, dataset, subset, limit, attempts, baseUrl, sampling } = options;
  return cacheKey({ tasks, dataset, subset, limit, attempts, baseUrl, sampling, prompt });
}

function findRunDir(out: string, key: string): string | undefined {
  if (!existsSync(out)) return undefined;
  for (const name of readdirSync(out).sort().reverse()) {
    const path = join(out, name, "run.json");
    if (existsSync(path) && (JSON.parse(readFileSync(path, "utf8")) as { key: string }).key === key) return join(out, name);
  }
  return undefined;
}

const stampOf = (date: Date) => date.toISOString().replace(/[-:]/g, "").replace("T", "_").slice(0, 15);

async function loadPrompt(dir?: string): Promise<{ system: string; user: string }> {
  if (!dir) return { system: SYSTEM_PROMPT, user: USER_TEMPLATE };
  const read = (name: string, fallback: string) => readFile(join(dir, name), "utf8").catch(() => fallback);
  const prompt = { system: (await read("system.md", SYSTEM_PROMPT)).trim(), user: (await read("user.md", USER_TEMPLATE)).trim() };
  if (!prompt.user.includes("{{examples}}") || !prompt.user.includes("{{test}}")) throw new InputError(`${dir}/user.md must contain {{examples}} and {{test}}`);
  return prompt;
}

/**
 * Samples `attempts` programs per task from an OpenAI-compatible endpoint, executes and
 * categorises each, and writes one `all_attempts` log per task into <out>/<YYYYMMDD_HHMMSS>/.
 * Running the same command again resumes that folder, skipping tasks already logged.
 */
export async function runSample(params: {
  options: SampleOptions;
  executor: Executor;
  client?: OpenAI;
  onEvent?: (event: SampleEvent) => void;
}): Promise<SampleSummary> {
  const { options } = params;
  const emit = params.onEvent ?? (() => undefined);
  const prompt = await loadPrompt(options.promptDir);
  const key = runKey(options, prompt);
  const existing = findRunDir(options.out, key);
  const runDir = existing ?? join(options.out, stampOf(new Date()));
  await mkdir(runDir, { recursive: true });
  if (!existing) writeFileAtomic(join(runDir, "run.json"), JSON.stringify({ key, options: { ...options, apiKey: undefined } }, null, 2));
  const stamp = runDir.split("/").pop()!;

  const ids = (await selectTasks({ root: options.tasks, dataset: options.dataset, subset: options.subset })).slice(0, options.limit);
  // A run killed mid-write leaves a temporary file beside the logs; it is never a log, so it goes.
  const entries = await readdir(runDir);
  await Promise.all(entries.filter((f) => f.endsWith(".tmp")).map((f) => rm(join(runDir, f), { force: true })));
  const logFiles = entries.filter((f) => f.endsWith(".json") && f !== "run.json");
  const logged = new Set(logFiles.map((f) => f.slice(-13, -5)));
  const todo = ids.filter((id) => !logged.has(id));
  // A resumed run samples again the attempts whose request failed (the endpoint may be back).
  const failed = options.retryFailed === false ? [] : await failedAttempts({ runDir, files: logFiles });
  const client = params.client ?? new OpenAI({ baseURL: options.baseUrl, apiKey: options.apiKey, maxRetries: 0 });
  const limit = pLimit(options.workers);
  const counts = Object.fromEntries(ATTEMPT_CATEGORIES.map((c) => [c, 0])) as Record<AttemptCategory, number>;
  const total = todo.length * options.attempts + failed.reduce((n, f) => n + f.numbers.length, 0);
  let done = 0;
  emit({
    type: "start",
    runDir,
    tasks: ids.length,
    skipped: ids.length - todo.length,
    attempts: total,
    resumed: Boolean(existing),
    retrying: failed.reduce((n, f) => n + f.numbers.length, 0),
  });
  const sampleOne = (p: { task: ArcTask; taskId: string; user: string; number: number }) =>
    limit(async () => {
      const attempt = await sampleAttempt({
        client,
        sampling: options.sampling,
        policy: options.policy,
        prices: options.prices,
        prompt: { system: prompt.system, user: p.user },
        task: p.task,
        taskId: p.taskId,
        number: p.number,
        executor: params.executor,
      });
      counts[attempt.category]++;
      emit({ type: "attempt", taskId: p.taskId, category: attempt.category, done: ++done, total, counts: { ...counts } });
      return attempt;
    });
  await Promise.all(
    failed.map(async ({ file, log, numbers }) => {
      const user = userPrompt({ train: log.task_data.train, testInputs: log.task_data.test.map((e) => e.input), template: prompt.user });
      const again = await Promise.all(numbers.map((number) => sampleOne({ task: log.task_data, taskId: log.task_id, user, number })));
      const byNumber = new Map(again.map((a) => [a.attempt_number, a]));
      const attempts = log.attempt_details.map((a) => byNumber.get(a.attempt_number) ?? a);
      writeFileAtomic(join(runDir, file), JSON.stringify({ ...log, attempt_details: attempts, all_responses: attempts.map((a) => a.raw_response) }));
    }),
  );

  await Promise.all(
    todo.map(async (taskId) => {
      const found = await loadTask({ root: options.tasks, dataset: options.dataset, taskId });
      if (!found) throw new InputError(`task ${taskId} is not in ${options.tasks}/${options.dataset}`);
      const task = found.task;
      const user = userPrompt({ train: task.train, testInputs: task.test.map((e) => e.input), template: prompt.user });
      const attempts = await Promise.all(Array.from({ length: options.attempts }, (_, i) => sampleOne({ task, taskId, user, number: i + 1 })));
      const log: SampleLog = {
        task_id: taskId,
        model: options.sampling.model,
        api_type: "chat_completions_all_attempts",
        dataset: options.dataset,
        subset: subsetName(options.subset),
        timestamp: new Date().toISOString(),
        reasoning_effort: options.sampling.reasoningEffort ?? null,
        task_data: task,
        attempt_details: attempts,
        all_responses: attempts.map((a) => a.raw_response),
        tokens_used: attempts.reduce((n, a) => n + a.input_tokens + a.output_tokens, 0),
        request_cost: attempts.reduce((n, a) => n + a.attempt_cost, 0),
        max_attempts: options.attempts,
      };
      const file = join(runDir, `${stamp}_${String(ids.indexOf(taskId)).padStart(6, "0")}_0_${taskId}.json`);
      writeFileAtomic(file, JSON.stringify(log));
      emit({ type: "task", taskId, file });
    }),
  );
  return summarise(runDir, ids.length, ids.length - todo.length);
}

const FAILED: AttemptCategory[] = ["api_failure", "api_timeout"];

/** The logged attempts whose request failed, by log file. */
async function failedAttempts(params: { runDir: string; files: string[] }): Promise<{ file: string; log: SampleLog; numbers: number[] }[]> {
  const found = [];
  for (const file of params.files.sort()) {
    const log = JSON.parse(await readFile(join(params.runDir, file), "utf8")) as SampleLog;
    const numbers = log.attempt_details.filter((a) => FAILED.includes(a.category)).map((a) => a.attempt_number);
    if (numbers.length && log.task_data) found.push({ file, log, numbers });
  }
  return found;
}

/** The summary of everything in the run folder, including tasks logged by an earlier, interrupted run. */
export async function summarise(runDir: string, tasks: number, skipped: number): Promise<SampleSummary> {
  const logs: SampleLog[] = [];
  for (const file of (await readdir(runDir)).filter((f) => f.endsWith(".json") && f !== "run.json").sort())
    logs.push(JSON.parse(await readFile(join(runDir, file), "utf8")) as SampleLog);
  const attempts: SampledAttempt[] = logs.flatMap((l) => l.attempt_details);
  const categories = Object.fromEntries(ATTEMPT_CATEGORIES.map((c) => [c, attempts.filter((a) => a.category === c).length])) as Record<AttemptCategory, number>;
  const rate = (n: number) => (attempts.length ? n / attempts.length : 0);
  const tasksTestCorrect = logs.filter((l) => l.attempt_details.some((a) => a.test_correct)).length;
  return {
    runDir,
    tasks,
    tasksSkipped: skipped,
    attempts: attempts.length,
    categories,
    tasksTestCorrect,
    oracle: logs.length ? tasksTestCorrect / logs.length : 0,
    tasksAllTrainCorrect: logs.filter((l) => l.attempt_details.some((a) => a.train_results.length > 0 && a.train_results.every((r) => r.correct))).length,
    tasksSomeTrainCorrect: logs.filter((l) => l.attempt_details.some((a) => a.train_results.some((r) => r.correct))).length,
    maxLengthRate: rate(attempts.filter((a) => a.hit_max_tokens).length),
    maxLengthWithCode: attempts.filter((a) => a.hit_max_tokens && a.category !== "max_length").length,
    timeoutRate: rate(categories.api_timeout),
    apiFailureRate: rate(categories.api_failure),
    retries: attempts.reduce((n, a) => n + a.retries, 0),
    inputTokens: attempts.reduce((n, a) => n + a.input_tokens, 0),
    outputTokens: attempts.reduce((n, a) => n + a.output_tokens, 0),
    cost: attempts.reduce((n, a) => n + a.attempt_cost, 0),
    firstApiError: attempts.find((a) => FAILED.includes(a.category))?.error ?? null,
  };
}
