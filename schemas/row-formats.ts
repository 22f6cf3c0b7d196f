import type { Format } from "./build-options.js";
import type { Row } from "./program.js";
import { assistantAnswer, SYSTEM_PROMPT, userPrompt } from "./prompt.js";
import type { ArcTask } from "./task.js";
import { rowId } from "./program-identity.js";
import { programRow } from "./program-row.js";
import { repairPrompt } from "./repair-prompt.js";

export type ChatMessage = { role: "system" | "user" | "assistant"; content: string };

/**
 * One output row of the chosen format. Reasoning is written only when asked for, and only for
 * programs that solve the test: reasoning that led to a wrong answer is not worth learning.
 */
export function formatRow(params: { row: Row; task: ArcTask; format: Format; reasoning: boolean; augment?: boolean }): Record<string, unknown> {
  const { row, task } = params;
  const reasoning = params.reasoning && row.solvesTest && row.reasoning ? row.reasoning : "";
  switch (params.format) {
    case "programs":
      return programRow({ flat: formatRow({ ...params, format: "flat" }), row, task, augment: params.augment ?? false });
    case "flat":
      return {
        reasoning,
        code: row.code,
        correct_train_input: row.correctTrain,
        train_input: task.train.map((e) => e.input),
        train_output: task.train.map((e) => e.output),
        predicted_train_output: row.predictedTrain,
        correct_test_input: row.correctTest,
        test_input: task.test.map((e) => e.input),
        test_output: task.test.map((e) => e.output ?? []),
        predicted_test_output: row.predictedTest,
        task_id: row.taskId,
        model: row.model,
        generation: row.generation,
        dataset: row.dataset,
        attempt_id: row.provenance?.attemptId ?? row.id,
      };
    case "soar":
      return {
        code: row.code,
        correct_train_input: row.correctTrain,
        predicted_train_output: row.predictedTrain,
        correct_test_input: row.correctTest,
        predicted_test_output: row.predictedTest,
        task_id: row.taskId,
        model: row.model,
        generation: row.generation,
      };
    case "messages":
    case "openai":
      return { messages: chatMessages({ row, task, reasoning }) };
    case "refinement":
      return { ...formatRow({ ...params, format: "flat" }), ...parentColumns(row) };
    case "refinement-messages":
    case "refinement-openai":
      return { messages: repairMessages({ row, task, reasoning }) };
  }
}

/** A pair's parent beside the child: its code and outputs, its row_id, and where the pair came from. */
function parentColumns(row: Row): Record<string, unknown> {
  const { parent, source } = row.pair!;
  return {
    code_original: parent.code,
    predicted_train_output_original: parent.predictedTrain,
    predicted_test_output_original: parent.predictedTest,
    correct_train_input_original: parent.correctTrain,
    correct_test_input_original: parent.correctTest,
    refined_from_id: rowId({ dataset: parent.dataset, taskId: parent.taskId, code: parent.code }),
    pair_source: source,
  };
}

/** A repair example: the task and the parent's attempt with what it got wrong, then the child's code. */
export function repairMessages(params: { row: Row; task: ArcTask; reasoning: string }): ChatMessage[] {
  const { row, task } = params;
  const { parent } = row.pair!;
  return [
    { role: "system", content: SYSTEM_PROMPT },
    { role: "user", content: repairPrompt({ task, code: parent.code, predictedTrain: parent.predictedTrain, predictedTest: parent.predictedTest }) },
    { role: "assistant", content: assistantAnswer({ code: row.code, reasoning: params.reasoning }) },
  ];
}

/** The relabelled task as a chat: its train outputs are the program's own predictions. */
export function chatMessages(params: { row: Row; task: ArcTask; reasoning: string }): ChatMessage[] {
  const { row, task } = params;
  const train = task.train.map((e, i) => ({ input: e.input, output: row.predictedTrain[i]! }));
  return [
    { role: "system", content: SYSTEM_PROMPT },
    { role: "user", content: userPrompt({ train, testInputs: task.test.map((e) => e.input) }) },
    { role: "assistant", content: assistantAnswer({ code: row.code, reasoning: params.reasoning }) },
  ];
}
