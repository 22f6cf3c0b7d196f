import type OpenAI from "openai";
import { APIConnectionTimeoutError, APIError } from "openai";
import { gridsEqual } from "../../schemas/grid.js";
import type { Outcome } from "../../schemas/outcome.js";
import type { AttemptCategory, SampledAttempt, TrainResult } from "../../schemas/sample-log.js";
import { taskInputs, type ArcTask } from "../../schemas/task.js";
import { transductionVerdict } from "../../stages/filter-transductive.js";
import type { Executor } from "../executor/types.js";
import { extractCode } from "./extract-code.js";

export interface SamplingParams {
  model: string;
  temperature?: number;
  topP?: number;
  minP?: number;
  maxTokens?: number;
  reasoningEffort?: "low" | "medium" | "high";
  /** Qwen3-style chat-template switch, sent whatever the model is called. */
  noThink: boolean;
}

export interface RequestPolicy {
  timeoutMs: number;
  retries: number;
  backoffMs: number;
}

export interface Prices {
  /** USD per million tokens. */
  input: number;
  output: number;
}

/** The request body: extra parameters go where OpenAI-compatible servers (vLLM, sglang, OpenRouter) read them. */
export function requestBody(params: SamplingParams, messages: { role: "system" | "user"; content: string }[]): Record<string, unknown> {
  return {
    model: params.model,
    messages,
    ...(params.temperature !== undefined ? { temperature: params.temperature } : {}),
    ...(params.topP !== undefined ? { top_p: params.topP } : {}),
    ...(params.minP !== undefined ? { min_p: params.minP } : {}),
    ...(params.maxTokens !== undefined ? { max_tokens: params.maxTokens } : {}),
    ...(params.reasoningEffort ? { reasoning_effort: params.reasoningEffort } : {}),
    ...(params.noThink ? { chat_template_kwargs: { enable_thinking: false } } : {}),
  };
}

type Completion = OpenAI.Chat.Completions.ChatCompletion;

/** One chat completion with our own retry loop (so retries are counted): 429, 5xx and timeouts are retried. */
async function complete(params: {
  client: OpenAI;
  body: Record<string, unknown>;
  policy: RequestPolicy;
}): Promise<{ completion?: Completion; error?: string; timedOut: boolean; retries: number }> {
  let retries = 0;
  for (;;) {
    try {
      const completion = (await params.client.chat.completions.create(params.body as never, { timeout: params.policy.timeoutMs, maxRetries: 0 })) as Completion;
      return { completion, timedOut: false, retries };
    } catch (error) {
      const timedOut = error instanceof APIConnectionTimeoutError;
      const status = error instanceof APIError ? error.status : undefined;
      const retryable = timedOut || status === undefined || status === 429 || status >= 500;
      if (!retryable || retries >= params.policy.retries)
        return { error: `${status ? `HTTP ${status}: ` : ""}${(error as Error).message}`.slice(0, 500), timedOut, retries };
      retries++;
      await new Promise((r) => setTimeout(r, params.policy.backoffMs * 2 ** (retries - 1)));
    }
  }
}

const errorText = (o: Outcome) => ("message" in o ? o.message : "reason" in o ? `invalid output: ${o.reason}` : o.status);

/** Samples, extracts, executes and categorises one attempt. Never throws for what the model or API did. */
export async function sampleAttempt(params: {
  client: OpenAI;
  sampling: SamplingParams;
  policy: RequestPolicy;
  prices?: Prices;
  prompt: { system: string; user: string };
  task: ArcTask;
  taskId: string;
  number: number;
  executor: Executor;
}): Promise<SampledAttempt> {
  const { task } = params;
  const body = requestBody(params.sampling, [
    { role: "system", content: params.prompt.system },
    { role: "user", content: params.prompt.user },
  ]);
  const { model: _model, messages: _messages, ...samplingParams } = body;
  const response = await complete({ client: params.client, body, policy: params.policy });
  const usage = (response.completion?.usage ?? {}) as { prompt_tokens?: number; completion_tokens?: number; cost?: number };
  const inputTokens = usage.prompt_tokens ?? 0;
  const outputTokens = usage.completion_tokens ?? 0;
  const choice = response.completion?.choices?.[0];
  const content = choice?.message?.content ?? "";
  const code = extractCode(content);
  const base: SampledAttempt = {
    attempt_number: params.number,
    timestamp: new Date().toISOString(),
    input_tokens: inputTokens,
    output_tokens: outputTokens,
    attempt_cost: usage.cost ?? (params.prices ? (inputTokens * params.prices.input + outputTokens * params.prices.output) / 1e6 : 0),
    program_extracted: Boolean(code),
    program: code ?? "",
    is_transductive: false,
    transduction_reason: null,
    train_results: [],
    train_accuracy: 0,
    train_exec_errors: 0,
    train_exec_timeouts: 0,
    test_predicted: [],
    test_expected: task.test.map((e) => e.output ?? null),
    test_correct: false,
    test_error: null,
    test_timed_out: false,
    raw_response: response.completion ?? null,
    full_prompt: params.prompt,
    sampling_params: samplingParams,
    api_success: Boolean(response.completion),
    api_timeout: response.timedOut,
    empty_response: Boolean(response.completion) && !content.trim(),
    hit_max_tokens: choice?.finish_reason === "length",
    error: response.error ?? null,
    retries: response.retries,
    category: "api_failure",
  };
  if (!response.completion) return { ...base, category: response.timedOut ? "api_timeout" : "api_failure" };
  if (!code) return { ...base, category: base.hit_max_tokens ? "max_length" : "no_code" };

  const verdict = transductionVerdict({ code, task });
  let outcomes: Outcome[] = [];
  for await (const result of params.executor.run([{ programId: `${params.taskId}#${params.number}`, code, inputs: taskInputs(task) }]))
    outcomes = result.outcomes;
  const train = outcomes.slice(0, task.train.length);
  const test = outcomes.slice(task.train.length);
  const trainResults: TrainResult[] = train.map((o, i) => ({
    predicted: o.status === "ok" ? o.grid : null,
    expected: task.train[i]!.output,
    correct: o.status === "ok" && gridsEqual(o.grid, task.train[i]!.output),
    error: o.status === "ok" ? null : errorText(o),
    timed_out: o.status === "timeout",
  }));
  const testCorrect = test.length > 0 && test.every((o, i) => o.status === "ok" && gridsEqual(o.grid, task.test[i]!.output));
  const failedTest = test.find((o) => o.status !== "ok");
  const correctCount = trainResults.filter((r) => r.correct).length;
  const category: AttemptCategory = train.some((o) => o.status === "timeout")
    ? "execution_timeout"
    : train.some((o) => o.status !== "ok")
      ? "execution_error"
      : testCorrect
        ? "test_correct"
        : correctCount === train.length
          ? "all_train_correct"
          : correctCount > 0
            ? "some_train_correct"
            : "no_train_correct";
  return {
    ...base,
    is_transductive: verdict !== "keep",
    transduction_reason: verdict === "keep" ? null : verdict.drop,
    train_results: trainResults,
    train_accuracy: train.length ? correctCount / train.length : 0,
    train_exec_errors: train.filter((o) => o.status !== "ok" && o.status !== "timeout").length,
    train_exec_timeouts: train.filter((o) => o.status === "timeout").length,
    test_predicted: test.map((o) => (o.status === "ok" ? o.grid : null)),
    test_correct: testCorrect,
    test_error: failedTest ? errorText(failedTest) : null,
    test_timed_out: test.some((o) => o.status === "timeout"),
    category,
  };
}
