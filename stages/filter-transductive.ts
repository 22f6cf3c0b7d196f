import type { BuildOptions } from "../schemas/build-options.js";
import { applyFilter, defineStage, type StageOutput } from "../pipeline/engine/stage.js";
import type { Grid } from "../schemas/grid.js";
import type { Program } from "../schemas/program.js";
import type { ArcTask } from "../schemas/task.js";
import { loadTasksStage } from "./load-tasks.js";
import type { Verdict } from "../schemas/drop.js";
import { literalDigits } from "../schemas/literal-digits.js";
import { countList } from "../pipeline/common/count-list.js";

export const MAX_LINE_LENGTH = 200;
/** A literal this short matches by chance too easily to mean anything. */
const MIN_LITERAL_LENGTH = 3;
/** The digits rule looks for outputs of at least this many cells and two colours: smaller ones match by chance. */
const MIN_DIGITS_CELLS = 9;

const stripSpace = (text: string) => text.replace(/\s+/g, "");
const stripBrackets = (text: string) => text.replace(/[[\]()]/g, "");

/**
 * Is this program hard-coding answers? A line over 200 characters, or any train/test output of
 * its task written literally in the code: compared with all white space removed (so a literal
 * spread over several lines still matches), and also with brackets removed unless the task has
 * a 1x1 output (then every lone digit would match).
 */
export function transductionVerdict(params: { code: string; task: ArcTask }): Verdict {
  const { code, task } = params;
  // A loop, not Math.max(...lines): a program of a million lines must not overflow the stack.
  let longest = 0;
  for (const line of code.split("\n")) longest = Math.max(longest, line.length);
  if (longest > MAX_LINE_LENGTH) return { drop: "transductive_long_line", detail: `a line of ${longest} characters` };
  const outputs: [string, Grid][] = [
    ...task.test.flatMap((e, i): [string, Grid][] => (e.output ? [[`test ${i}`, e.output]] : [])),
    ...task.train.map((e, i): [string, Grid] => [`train ${i}`, e.output]),
  ];
  const has1x1 = outputs.some(([, g]) => g.length === 1 && g[0]!.length === 1);
  const compact = stripSpace(code);
  const bare = stripBrackets(compact);
  for (const [where, grid] of outputs) {
    const literal = JSON.stringify(grid);
    const reason = where.startsWith("test") ? "transductive_test_output" : "transductive_train_output";
    if (literal.length >= MIN_LITERAL_LENGTH && compact.includes(literal)) return { drop: reason, detail: `the ${where} output appears literally` };
    const bareLiteral = stripBrackets(literal);
    if (!has1x1 && bareLiteral.length >= MIN_LITERAL_LENGTH && bare.includes(bareLiteral)) {
      return { drop: reason, detail: `the ${where} output appears literally (brackets aside)` };
    }
  }
  return digitsVerdict({ code, outputs });
}

/**
 * Outputs hidden in another spelling: the row-major digits of an output (of 9 cells or more, two
 * colours or more) found in the digits of the code's string, bytes and number literals, joined in
 * source order. Computed or compressed encodings are not caught.
 */
function digitsVerdict(params: { code: string; outputs: [string, Grid][] }): Verdict {
  let digits: string | undefined;
  for (const [where, grid] of params.outputs) {
    const cells = grid.flat();
    if (cells.length < MIN_DIGITS_CELLS || new Set(cells).size < 2) continue;
    digits ??= literalDigits(params.code);
    if (digits.includes(cells.join(""))) return { drop: "transductive_digits", detail: `the ${where} output's digits appear in the code's literals` };
  }
  return "keep";
}

export const filterTransductiveStage = defineStage<BuildOptions, Program, Program, undefined>({
  name: "filter-transductive",
  version: 3,
  selects: true,
  sides: [loadTasksStage],
  summary: ({ report }) => [`transduction rejections: ${countList(report.dropped, "transductive_")}`],
  key: (options) => ({ enabled: options.transductionFilter }),
  async run({ options, upstream }): Promise<StageOutput<Program, undefined>> {
    const programs = upstream.input.records;
    if (!options.transductionFilter) return { records: programs, drops: [] };
    const { tasks } = upstream.side(loadTasksStage).data;
    return applyFilter({
      records: programs,
      id: (p) => p.id,
      taskId: (p) => p.taskId,
      verdict: (p) => transductionVerdict({ code: p.code, task: tasks[p.taskKey]! }),
    });
  },
});
