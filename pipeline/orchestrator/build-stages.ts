import { againstStage } from "../../stages/against.js";
import { balanceStage, TASK_SUMMARIES } from "../../stages/balance.js";
import { cleanCodeStage } from "../../stages/clean-code.js";
import { decontaminateStage } from "../../stages/decontaminate.js";
import { dedupStage } from "../../stages/dedup.js";
import { executeStage } from "../../stages/execute.js";
import { filterAugmentStage } from "../../stages/filter-augment.js";
import { filterDegenerateStage } from "../../stages/filter-degenerate.js";
import { filterTransductiveStage } from "../../stages/filter-transductive.js";
import { ATTEMPTS, loadTasksStage } from "../../stages/load-tasks.js";
import { nearDedupStage } from "../../stages/near-dedup.js";
import { pairProgramsStage } from "../../stages/pair-programs.js";
import { readAgainstStage } from "../../stages/read-against.js";
import { readDatasetsStage } from "../../stages/read-datasets.js";
import { readLogsStage } from "../../stages/read-logs.js";
import { relabelStage } from "../../stages/relabel.js";
import { revalidateStage } from "../../stages/revalidate.js";
import { selectStage } from "../../stages/select.js";
import { splitStage } from "../../stages/split.js";
import type { BuildOptions } from "../../schemas/build-options.js";
import type { Attempt } from "../../schemas/run-log.js";
import { wireStages } from "../engine/wire-stages.js";
import { type AnyStage, Chain } from "../engine/stage.js";

/** The readers: they stream the corpus into one shard per task. */
export const INGEST_STAGES: readonly AnyStage<BuildOptions>[] = [readLogsStage, readDatasetsStage, readAgainstStage];

/**
 * Run once per task shard, each task's chain cached on its own: memory holds a few tasks, never
 * the corpus. Each stage takes the records of the one before it; the compiler checks their types.
 */
export const TASK_CHAIN = Chain.from<BuildOptions, Attempt>(ATTEMPTS)
  .pipe(loadTasksStage)
  .pipe(decontaminateStage)
  .pipe(cleanCodeStage)
  .pipe(filterTransductiveStage)
  .pipe(executeStage)
  .pipe(filterAugmentStage)
  .pipe(relabelStage)
  .pipe(revalidateStage)
  .pipe(filterDegenerateStage)
  .pipe(dedupStage)
  .pipe(nearDedupStage)
  .pipe(againstStage)
  .pipe(selectStage)
  .pipe(pairProgramsStage);

export const TASK_STAGES = TASK_CHAIN.stages;

/** Each task stage's upstream names, checked once when this module loads. */
export const TASK_WIRING = wireStages({ stages: TASK_STAGES, sources: [], from: ATTEMPTS.name });

/** Across tasks, on per-task summaries only. */
export const GLOBAL_CHAIN = Chain.from<BuildOptions, never>(TASK_SUMMARIES).pipe(balanceStage).pipe(splitStage);

export const BUILD_STAGES: readonly AnyStage<BuildOptions>[] = [...INGEST_STAGES, ...TASK_STAGES, ...GLOBAL_CHAIN.stages];
