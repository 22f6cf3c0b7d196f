import { balanceStage } from "../../stages/balance.js";
import { cleanCodeStage } from "../../stages/clean-code.js";
import { decontaminateStage } from "../../stages/decontaminate.js";
import { dedupStage } from "../../stages/dedup.js";
import { executeStage } from "../../stages/execute.js";
import { filterAugmentStage } from "../../stages/filter-augment.js";
import { filterDegenerateStage } from "../../stages/filter-degenerate.js";
import { filterTransductiveStage } from "../../stages/filter-transductive.js";
import { loadTasksStage } from "../../stages/load-tasks.js";
import { pairProgramsStage } from "../../stages/pair-programs.js";
import { readDatasetsStage } from "../../stages/read-datasets.js";
import { readLogsStage } from "../../stages/read-logs.js";
import { relabelStage } from "../../stages/relabel.js";
import { revalidateStage } from "../../stages/revalidate.js";
import { selectStage } from "../../stages/select.js";
import { splitStage } from "../../stages/split.js";
import type { BuildOptions } from "../../schemas/build-options.js";
import type { Stage } from "../engine/stage.js";

/** The readers: they stream the corpus into one shard per task. */
export const INGEST_STAGES: Stage<BuildOptions>[] = [readLogsStage, readDatasetsStage];

/** Run once per task shard, each task's chain cached on its own: memory holds a few tasks, never the corpus. */
export const TASK_STAGES: Stage<BuildOptions>[] = [
  loadTasksStage,
  decontaminateStage,
  cleanCodeStage,
  filterTransductiveStage,
  executeStage,
  filterAugmentStage,
  relabelStage,
  revalidateStage,
  filterDegenerateStage,
  dedupStage,
  selectStage,
  pairProgramsStage,
];

/** Across tasks, on per-task summaries only. */
export const GLOBAL_STAGES: Stage<BuildOptions>[] = [balanceStage, splitStage];

export const BUILD_STAGES: Stage<BuildOptions>[] = [...INGEST_STAGES, ...TASK_STAGES, ...GLOBAL_STAGES];
