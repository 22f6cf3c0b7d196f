import { readFile } from "node:fs/promises";
import { Option, type Command } from "commander";
import cliProgress from "cli-progress";
import { InputError } from "../common/errors.js";
import { anyNumber, positiveNumber, wholeNumber } from "./number-options.js";
import type { SampleSummary } from "../sample/run-sample.js";
import { SUBSET_HELP } from "../sample/subset-help.js";
import type { Prices } from "../sample/sample-attempt.js";
import { addSandboxOptions, resolveSandboxLimits, type SandboxCliOptions } from "./sandbox-options.js";

interface SampleCliOptions extends SandboxCliOptions {
  retryFailed?: boolean;
  tasks: string;
  dataset: string;
  subset: string;
  model: string;
  baseUrl: string;
  apiKey?: string;
  attempts: number;
  workers: number;
  temperature?: number;
  topP?: number;
  minP?: number;
  maxTokens?: number;
  reasoningEffort?: "low" | "medium" | "high";
  think: boolean;
  limit?: number;
  out: string;
  prompt?: string;
  requestTimeout: number;
  retries: number;
  prices?: string;
  json?: boolean;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function formatSampleSummary(s: SampleSummary): string {
  const c = s.categories;
  return [
    `tasks: ${s.tasks} (${s.tasksSkipped} already logged), attempts: ${s.attempts}`,
    `test-correct tasks (any attempt, the oracle): ${s.tasksTestCorrect} (${pct(s.oracle)})`,
    `tasks with an all-train-correct attempt: ${s.tasksAllTrainCorrect}; with at least one train example right: ${s.tasksSomeTrainCorrect}`,
    `attempts: test correct ${c.test_correct}, all train correct ${c.all_train_correct}, some train correct ${c.some_train_correct}, none correct ${c.no_train_correct}, ` +
      `execution error ${c.execution_error}, execution timeout ${c.execution_timeout}, no code ${c.no_code}, max length ${c.max_length}, API timeout ${c.api_timeout}, API failure ${c.api_failure}`,
    `answers cut at max length: ${pct(s.maxLengthRate)} (${c.max_length} without code: category max_length; ${s.maxLengthWithCode} still held code and were executed), ` +
      `API timeouts: ${pct(s.timeoutRate)}, API failures: ${pct(s.apiFailureRate)}, retries: ${s.retries}`,
    `tokens: ${s.inputTokens} in, ${s.outputTokens} out; cost: $${s.cost.toFixed(4)}`,
    `logs: ${s.runDir}  (arcforge build --logs ${s.runDir})`,
  ].join("\n");
}

export function registerSampleCommand(program: Command): void {
  addSandboxOptions(
    program
      .command("sample")
      .description("sample programs from an OpenAI-compatible endpoint and write run logs that build reads")
      .requiredOption("--tasks <arc-data-root>", "folder holding <dataset>/{training,evaluation}/<id>.json", process.env.ARC_DATA)
      .option("--dataset <name>", "arc-agi-1 or arc-agi-2", "arc-agi-1")
      .requiredOption("--subset <subset>", SUBSET_HELP)
      .requiredOption("--model <name>", "model name as the endpoint knows it")
      .requiredOption("--base-url <url>", "OpenAI-compatible endpoint, e.g. http://localhost:8000/v1")
      .option("--api-key <key>", "API key (default: OPENAI_API_KEY); never printed or logged")
      .option("--attempts <n>", "independent attempts per task", wholeNumber(1), 8)
      .option("--workers <n>", "requests in flight at once", wholeNumber(1), 16)
      .option("--temperature <t>", "sampling temperature (default: the endpoint's)", anyNumber)
      .option("--top-p <p>", "nucleus sampling cut-off (default: the endpoint's)", anyNumber)
      .option("--min-p <p>", "sent as min_p (vLLM, sglang)", anyNumber)
      .option("--max-tokens <n>", "longest answer, in tokens (default: the endpoint's)", wholeNumber(1))
      .addOption(new Option("--reasoning-effort <effort>", "sent as reasoning_effort (reasoning models)").choices(["low", "medium", "high"]))
      .option("--no-think", "send chat_template_kwargs.enable_thinking=false (Qwen3), whatever the model is called")
      .option("--limit <n>", "only the first n tasks of the subset", wholeNumber(1))
      .option("--out <dir>", "logs go to <out>/<YYYYMMDD_HHMMSS>/", "logs")
      .option("--prompt <dir>", "system.md and user.md (with {{examples}} and {{test}}) replacing the built-in prompt")
      .option("--request-timeout <s>", "seconds before a request is abandoned and retried", positiveNumber, 600)
      .option("--retries <n>", "retries per request on 429, 5xx and timeouts", wholeNumber(0), 3)
      .option("--no-retry-failed", "when resuming, keep the attempts whose request failed instead of sampling them again")
      .option("--prices <file.json>", '{"<model>": {"input": USD per 1M tokens, "output": USD per 1M tokens}}')
      .option("--json", "print the summary as JSON"),
    { workersFlag: "--sandbox-workers" },
  ).action(async (cli: SampleCliOptions) => {
    const apiKey = cli.apiKey ?? process.env.OPENAI_API_KEY ?? "none";
    let prices: Prices | undefined;
    if (cli.prices) {
      const table = JSON.parse(await readFile(cli.prices, "utf8")) as Record<string, Prices>;
      prices = table[cli.model];
      if (!prices) throw new InputError(`${cli.prices} has no prices for model ${cli.model}`);
    }
    const [{ runSample }, { executorFactory }] = await Promise.all([import("../sample/run-sample.js"), import("./sandbox-executor.js")]);
    const executor = (await executorFactory(cli))({ limits: resolveSandboxLimits(cli), protect: [cli.tasks, cli.out] });
    const bar =
      process.stderr.isTTY && !cli.json
        ? new cliProgress.SingleBar(
            { format: "  sample [{bar}] {value}/{total} attempts | {rates}", hideCursor: true, clearOnComplete: true, stream: process.stderr },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
    try {
      const summary = await runSample({
        executor,
        options: {
          tasks: cli.tasks,
          dataset: cli.dataset,
          subset: cli.subset,
          limit: cli.limit,
          attempts: cli.attempts,
          workers: cli.workers,
          baseUrl: cli.baseUrl,
          apiKey,
          out: cli.out,
          promptDir: cli.prompt,
          retryFailed: cli.retryFailed !== false,
          prices,
          sampling: {
            model: cli.model,
            temperature: cli.temperature,
            topP: cli.topP,
            minP: cli.minP,
            maxTokens: cli.maxTokens,
            reasoningEffort: cli.reasoningEffort,
            noThink: !cli.think,
          },
          policy: { timeoutMs: cli.requestTimeout * 1000, retries: cli.retries, backoffMs: 1000 },
        },
        onEvent: (e) => {
          if (e.type === "start") {
            process.stderr.write(
              `${e.resumed ? "resuming" : "writing"} ${e.runDir}: ${e.tasks} tasks (${e.skipped} already logged), ${e.attempts} attempts to sample${e.retrying ? ` (${e.retrying} of them again: their request failed last time)` : ""}\n`,
            );
            bar?.start(e.attempts, 0, { rates: "" });
          } else if (e.type === "attempt") {
            const rates = Object.entries(e.counts)
              .filter(([, n]) => n > 0)
              .map(([k, n]) => `${k} ${((n / e.done) * 100).toFixed(0)}%`)
              .join(" ");
            bar?.update(e.done, { rates });
          }
        },
      });
      bar?.stop();
      process.stdout.write(cli.json ? `${JSON.stringify(summary, null, 2)}\n` : `${formatSampleSummary(summary)}\n`);
      const failed = summary.categories.api_failure + summary.categories.api_timeout;
      if (summary.attempts > 0 && failed === summary.attempts) {
        process.stderr.write(
          `arcforge sample: every request failed (${failed} of ${failed}); the first error: ${summary.firstApiError ?? "unknown"}. Check --base-url, the API key and the model; the same command retries them\n`,
        );
        process.exitCode = 1;
      } else if (failed > 0) {
        process.stderr.write(
          `arcforge sample: warning: ${failed} of ${summary.attempts} requests failed (first: ${summary.firstApiError ?? "unknown"}); the same command samples them again\n`,
        );
      }
    } finally {
      bar?.stop();
      await executor.close();
    }
  });
}
