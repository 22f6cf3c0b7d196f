import type { Grid } from "./grid.js";
import type { Outcome } from "./outcome.js";
import type { Provenance } from "./program-identity.js";
import type { Attempt } from "./run-log.js";
import type { Twins } from "./twins.js";

/** An attempt bound to its task; from clean-code on, `code` is the cleaned code. */
export type Program = Omit<Attempt, "embeddedTask">;

/** A program with one outcome per input: train inputs first, then test inputs. */
export interface ExecutedProgram extends Program {
  outcomes: Outcome[];
}

/**
 * A hindsight-relabelled row in canonical form; the writer turns it into any output format.
 * predicted_* are the program's own outputs, i.e. the labels of the relabelled task.
 */
export interface Row {
  id: string;
  /** Where it came from: the order "first" means (see stages/dedup.ts stableOrder). */
  logFile: string;
  attemptNumber: number;
  taskKey: string;
  /** The ARC dataset of the task (arc-agi-1, arc-agi-2): task ids repeat across datasets. */
  dataset: string;
  taskId: string;
  model: string;
  generation: number;
  code: string;
  reasoning: string | null;
  predictedTrain: Grid[];
  correctTrain: boolean[];
  /** An empty grid ([]) where the program failed on a test input. */
  predictedTest: Grid[];
  correctTest: boolean[];
  /** Correct on every test input. */
  solvesTest: boolean;
  loggedTestCorrect: boolean | null;
  subset?: string | null;
  provenance?: Provenance;
  /** The program table's grouping (--format programs): how many attempts share this code, and their models. */
  copies?: number;
  models?: string[];
  turn?: number;
  /** Identical attempts this row stands for until dedup (see schemas/twins.ts). */
  twins?: Twins;
  refined?: Attempt["refined"];
  /** A refinement pair's child carries its parent and where the pair came from. */
  pair?: { parent: Row; source: string; bucket?: string };
}
