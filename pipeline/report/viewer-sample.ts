import type { Grid } from "../../schemas/grid.js";
import { jsonLength } from "../common/json-length.js";
import type { ArcTask } from "../../schemas/task.js";

/** Rows per task and bytes of row data embedded: a million-attempt build's report stays small. */
export const VIEWER_ROWS_PER_TASK = 4;
export const VIEWER_BUDGET_BYTES = 2_500_000;

/** A written row as the row viewer shows it. */
export interface ViewerRow {
  split: string;
  code: string;
  trainInputs: Grid[];
  trainOutputs: Grid[];
  predictedTrain: Grid[];
  correctTrain: boolean[];
  testInputs: Grid[];
  testOutputs: Grid[];
  /** A chat-format row: its messages (the rows of that format hold no grids of their own). */
  messages?: { role: string; content: string }[];
  /** A refinement pair's parent: the program the row's code repairs, and where the pair came from. */
  parent?: { code: string; predictedTrain: Grid[]; correctTrain: boolean[]; predictedTest: Grid[]; correctTest: boolean[]; source: string };
  predictedTest: Grid[];
  correctTest: boolean[];
}

/**
 * The report's row viewer: the first written rows of each task, within a size budget, as the
 * rows are written (a build hands its rows over as it writes them) or read back from a folder.
 */
export class ViewerSample {
  private readonly viewer: Record<string, ViewerRow[]> = {};
  private bytes = 0;
  private skipped = 0;
  /** Grids measured, by identity: a task's own grids are the same arrays in each of its rows. */
  private readonly held = new WeakMap<object, number>();

  /** `refinement`: rows carry their parent program (the refinement format). */
  constructor(private readonly params: { refinement: boolean }) {}

  /** Whether a row of this task would still be shown: its task's sample is not full. */
  wants(key: string): boolean {
    return (this.viewer[key]?.length ?? 0) < VIEWER_ROWS_PER_TASK;
  }

  /** A written row of task `key`; `task` supplies the grids a SOAR row does not hold. */
  add(params: { split: string; key: string; row: Record<string, unknown>; task?: ArcTask }): void {
    const { split, row, task } = params;
    const list = (this.viewer[params.key] ??= []);
    if (list.length >= VIEWER_ROWS_PER_TASK) return;
    const entry: ViewerRow = row.messages
      ? {
          split,
          code: "",
          trainInputs: [],
          trainOutputs: [],
          predictedTrain: [],
          correctTrain: [],
          testInputs: [],
          testOutputs: [],
          predictedTest: [],
          correctTest: [],
          messages: row.messages as ViewerRow["messages"],
        }
      : {
          split,
          code: String(row.code),
          trainInputs: (row.train_input as Grid[] | undefined) ?? task?.train.map((e) => e.input) ?? [],
          trainOutputs: (row.train_output as Grid[] | undefined) ?? task?.train.map((e) => e.output) ?? [],
          predictedTrain: row.predicted_train_output as Grid[],
          correctTrain: row.correct_train_input as boolean[],
          testInputs: (row.test_input as Grid[] | undefined) ?? task?.test.map((e) => e.input) ?? [],
          testOutputs: (row.test_output as Grid[] | undefined) ?? task?.test.map((e) => e.output ?? []) ?? [],
          predictedTest: row.predicted_test_output as Grid[],
          correctTest: row.correct_test_input as boolean[],
          ...(this.params.refinement
            ? {
                parent: {
                  code: String(row.code_original),
                  predictedTrain: row.predicted_train_output_original as Grid[],
                  correctTrain: row.correct_train_input_original as boolean[],
                  predictedTest: row.predicted_test_output_original as Grid[],
                  correctTest: row.correct_test_input_original as boolean[],
                  source: String(row.pair_source),
                },
              }
            : {}),
        };
    const room = VIEWER_BUDGET_BYTES - this.bytes;
    // Once the budget is nearly spent, most rows are left out: what they hold of their task's own
    // grids (measured once, by identity) and their code's length already show it, and measuring
    // each one's predicted grids took ~1 s of a --no-dedup rebuild at 10^5 attempts.
    const atLeast =
      entry.code.length +
      jsonLength(entry.trainInputs, this.held) +
      jsonLength(entry.trainOutputs, this.held) +
      jsonLength(entry.testInputs, this.held) +
      jsonLength(entry.testOutputs, this.held);
    const size = atLeast > room ? undefined : jsonLength(entry, this.held);
    if (size === undefined || size > room) {
      this.skipped++;
      return;
    }
    this.bytes += size;
    list.push(entry);
  }

  result(): { viewer: Record<string, ViewerRow[]>; viewerNote: string } {
    const viewer = Object.fromEntries(Object.entries(this.viewer).filter(([, rows]) => rows.length > 0));
    const skipped = this.skipped ? `; ${this.skipped} more rows left out to keep the page small` : "";
    return { viewer, viewerNote: `up to ${VIEWER_ROWS_PER_TASK} rows per task${skipped}` };
  }
}
