import type { BuildOptions } from "../../schemas/build-options.js";
import { ATTEMPTS } from "../../stages/load-tasks.js";
import { reportKey, type StageTotals } from "../engine/sum-reports.js";
import type { StageContext } from "../engine/stage.js";
import type { SourceOutput } from "../engine/stage-records.js";
import { stageKey } from "../engine/stage-keys.js";
import type { StageStore } from "../store/stage-store.js";
import { TASK_STAGES, TASK_WIRING } from "./build-stages.js";
import { digestOf, type StageDigest, type TaskExtract } from "./task-digests.js";

/**
 * The first task stages whose output is unchanged for every task, decided stage by stage: each
 * task's key for the stage (running nothing), then one lookup of the digest over those keys. A
 * stage decided so is reported from its digest and its task entries are read only if needed.
 */
export async function decideUnchanged<T extends { taskKey: string }>(params: {
  tasks: T[];
  /** A task's attempts, whose key and data the first stages' keys read (their records are not read). */
  sourceOf: (task: T) => SourceOutput;
  options: BuildOptions;
  store: StageStore;
  context: StageContext;
  concurrency: number;
  totals: StageTotals;
  extracts: Map<string, Record<string, TaskExtract>>;
}): Promise<{ stages: number; keys: Record<string, string>[] }> {
  const { tasks, store } = params;
  const sources = tasks.map(params.sourceOf);
  const keys: Record<string, string>[] = sources.map((source) => ({ [ATTEMPTS.name]: source.key }));
  let stages = 0;
  for (const stage of TASK_STAGES) {
    if (tasks.length === 0) break;
    const started = performance.now();
    const keyOf = (i: number) =>
      stageKey({
        stage,
        upstream: TASK_WIRING.get(stage.name) ?? [],
        keys: keys[i]!,
        sources: { [ATTEMPTS.name]: sources[i]! },
        options: params.options,
        store,
        context: params.context,
        scope: `task ${tasks[i]!.taskKey}`,
      });
    // A few tasks at a time: most keys are computed at once, a task file's digest is read from disk.
    const found: (string | undefined)[] = [];
    for (let i = 0; i < tasks.length; i += params.concurrency)
      found.push(...(await Promise.all(tasks.slice(i, i + params.concurrency).map((_, j) => keyOf(i + j)))));
    if (found.some((k) => k === undefined)) break;
    const pairs = tasks.map((t, i): [string, string] => [t.taskKey, found[i]!]);
    const summed = reportKey(pairs);
    const digest = store.readDigest<StageDigest>(stage.name, digestOf(summed));
    if (!digest) break;
    found.forEach((k, i) => (keys[i]![stage.name] = k!));
    params.totals.decided({ stage: stage.name, key: summed, sum: digest, ms: Math.round(performance.now() - started) });
    params.extracts.set(stage.name, digest.extracts);
    stages++;
  }
  return { stages, keys };
}
