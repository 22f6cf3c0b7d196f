import { gridToText, type Grid } from "./grid.js";

export const SYSTEM_PROMPT =
  "You are an expert at solving ARC (Abstraction and Reasoning Corpus) puzzles by writing Python. " +
  "Each puzzle shows input grids and the output grids a hidden rule produces from them. " +
  "Find the rule and write a function `def transform(grid)` that takes the input as a list of lists of ints 0-9 " +
  "and returns the output grid in the same form.";

function dims(grid: Grid): string {
  return `${grid.length}x${grid[0]?.length ?? 0}`;
}

export const USER_TEMPLATE = "Solve this ARC puzzle.\n\n{{examples}}\n\n{{test}}\n\nWrite the rule as `def transform(grid)` in a single ```python code block.";

/**
 * The user turn: training pairs, then the test input(s); grids as rows of space-separated
 * digits. A template (from `--prompt <dir>/user.md`) places them with {{examples}} and {{test}}.
 */
export function userPrompt(params: { train: { input: Grid; output: Grid }[]; testInputs: Grid[]; template?: string }): string {
  const examples = params.train
    .map(
      (pair, i) => `## Example ${i + 1}\nInput (${dims(pair.input)}):\n${gridToText(pair.input)}\nOutput (${dims(pair.output)}):\n${gridToText(pair.output)}`,
    )
    .join("\n\n");
  const test = params.testInputs
    .map((input, i) => `## Test input${params.testInputs.length > 1 ? ` ${i + 1}` : ""} (${dims(input)}):\n${gridToText(input)}`)
    .join("\n\n");
  return (params.template ?? USER_TEMPLATE).replace("{{examples}}", examples).replace("{{test}}", test);
}

/** The assistant turn: optional reasoning in <think> tags, then the code in a python block. */
export function assistantAnswer(params: { code: string; reasoning?: string | null }): string {
  const think = params.reasoning ? `<think>\n${params.reasoning.trim()}\n</think>\n\n` : "";
  return `${think}\`\`\`python\n${params.code.trimEnd()}\n\`\`\``;
}
