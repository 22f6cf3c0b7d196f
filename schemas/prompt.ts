import { gridToText, type Grid } from "./grid.js";

export const SYSTEM_PROMPT =
  "You are an expert at solving ARC (Abstraction and Reasoning Corpus) puzzles by writing Python. " +
  "Each puzzle shows input grids and the output grids a hidden rule produces from them. " +
  "Find the rule and write a function `def transform(grid)` that takes the input as a list of lists of ints 0-9 " +
  "and returns the output grid in the same form.";

function dims(grid: Grid): string {
  return `${grid.length}x${grid[0]?.length ?? 0}`;
}

/** The user turn: training pairs, then the test input(s); grids as rows of space-separated digits. */
export function userPrompt(params: { train: { input: Grid; output: Grid }[]; testInputs: Grid[] }): string {
  const parts = params.train.map(
    (pair, i) => `## Example ${i + 1}\nInput (${dims(pair.input)}):\n${gridToText(pair.input)}\nOutput (${dims(pair.output)}):\n${gridToText(pair.output)}`,
  );
  params.testInputs.forEach((input, i) => parts.push(`## Test input${params.testInputs.length > 1 ? ` ${i + 1}` : ""} (${dims(input)}):\n${gridToText(input)}`));
  return `Solve this ARC puzzle.\n\n${parts.join("\n\n")}\n\nWrite the rule as \`def transform(grid)\` in a single \`\`\`python code block.`;
}

/** The assistant turn: optional reasoning in <think> tags, then the code in a python block. */
export function assistantAnswer(params: { code: string; reasoning?: string | null }): string {
  const think = params.reasoning ? `<think>\n${params.reasoning.trim()}\n</think>\n\n` : "";
  return `${think}\`\`\`python\n${params.code.trimEnd()}\n\`\`\``;
}
