import type { Drop } from "../../schemas/drop.js";
import type { LogFate, SourceFate, StageReport } from "../../schemas/build-manifest.js";
import type { TaskRun } from "./run-task-stages.js";
import type { Idle } from "../engine/stage.js";

/** What a build decided, with the way back to every row: small whatever the corpus. */
export interface BuildRun {
  reports: StageReport[];
  logs: LogFate[];
  sources: SourceFate[];
  source: { datasets: string[]; subsets: string[] };
  /** Attempt drops that name no task (a dataset row without a usable task id). */
  looseDrops: (Drop & { stage: string })[];
  tasks: TaskRun[];
  droppedTasks: Set<string>;
  validationTasks: Set<string>;
  /** The recipe's name, when the build was cut by one. */
  recipe?: string;
  /** A refinement build: its rows are pairs. */
  pairs?: boolean;
  /** The task stages idle under the build's options: their outputs are made where read (`idleStages`). */
  idle: ReadonlyMap<string, Idle>;
}

/** The recipe cut's name in the stage reports and the fates: it runs between the task and global stages, not as a stage. */
export const RECIPE_REPORT = "recipe";
