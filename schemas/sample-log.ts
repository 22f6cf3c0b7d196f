import type { Grid } from "./grid.js";
import type { ArcTask } from "./task.js";

/** What happened to one sampled attempt; exactly one per attempt. */
export const ATTEMPT_CATEGORIES = [
  "test_correct",
  "all_train_correct",
  "some_train_correct",
  "no_train_correct",
  "execution_error",
  "execution_timeout",
  "no_code",
  "max_length",
  "api_timeout",
  "api_failure",
] as const;
export type AttemptCategory = (typeof ATTEMPT_CATEGORIES)[number];

export interface TrainResult {
  predicted: Grid | null;
  expected: Grid;
  correct: boolean;
  error: string | null;
  timed_out: boolean;
}

/** An attempt in the `all_attempts` layout of the run-log formats, plus its category. */
export interface SampledAttempt {
  attempt_number: number;
  timestamp: string;
  input_tokens: number;
  output_tokens: number;
  attempt_cost: number;
  program_extracted: boolean;
  program: string;
  is_transductive: boolean;
  transduction_reason: string | null;
  train_results: TrainResult[];
  train_accuracy: number;
  train_exec_errors: number;
  train_exec_timeouts: number;
  test_predicted: (Grid | null)[];
  test_expected: (Grid | null)[];
  test_correct: boolean;
  test_error: string | null;
  test_timed_out: boolean;
  raw_response: unknown;
  full_prompt: { system: string; user: string };
  sampling_params: Record<string, unknown>;
  api_success: boolean;
  api_timeout: boolean;
  empty_response: boolean;
  hit_max_tokens: boolean;
  error: string | null;
  retries: number;
  category: AttemptCategory;
}

/** One task's log file: `arcforge build --logs` reads it like any other `all_attempts` log. */
export interface SampleLog {
  task_id: string;
  model: string;
  api_type: "chat_completions_all_attempts";
  dataset: string;
  subset: string;
  timestamp: string;
  reasoning_effort: string | null;
  task_data: ArcTask;
  attempt_details: SampledAttempt[];
  all_responses: unknown[];
  tokens_used: number;
  request_cost: number;
  max_attempts: number;
}
