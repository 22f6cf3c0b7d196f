import type { BuildOptions } from "../../schemas/build-options.js";
import { ATTEMPTS } from "../../stages/load-tasks.js";
import { reportKey, type StageTotals } from "../engine/sum-reports.js";
import type { StageContext } from "../engine/stage.js";
import type { SourceOutput } from "../engine/stage-records.js";
import { stageKey } from "../engine/stage-keys.js";
import { idleStages } from "../engine/idle-stages.js";
import type { StageStore } from "../store/stage-store.js";
import { TASK_STAGES, TASK_WIRING } from "./build-stages.js";
import { optionParts, sourceDigestId, stageDigestId } from "./stage-digest-ids.js";
import type { StageDigest, TaskExtract } from "./task-digests.js";

/**
 * The first task stages whose output is unchanged for every task, decided stage by stage in one
 * lookup each: of a digest over the tasks' keys for the stage (each task's key computed, running
 * nothing), or, for a stage whose key reads only the options, of a digest chained from its
 * upstreams' (its tasks' keys then come from the digest). A stage decided so is reported from its
 * digest and its task entries are read only if needed. Returns each decided stage's digest id too.
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
}): Promise<{ stages: number; keys: Record<string, string>[]; ids: Record<string, string> }> {
  const { tasks, store } = params;
  const sources = tasks.map(params.sourceOf);
  const keys: Record<string, string>[] = sources.map((source) => ({ [ATTEMPTS.name]: source.key }));
  const pairsOf = (name: string) => tasks.map((t, i): [string, string] => [t.taskKey, keys[i]![name]!]);
  const ids: Record<string, string> = { [ATTEMPTS.name]: sourceDigestId(pairsOf(ATTEMPTS.name)) };
  let stages = 0;
  const idle = idleStages(TASK_STAGES, params.options);
  for (const stage of TASK_STAGES) {
    if (tasks.length === 0) break;
    const started = performance.now();
    const upstream = TASK_WIRING.get(stage.name) ?? [];
    // An idle stage is unchanged when its input is: its key and digest are its input's.
    if (idle.has(stage.name)) {
      const input = upstream[0]!;
      for (const k of keys) k[stage.name] = k[input]!;
      const kept = idle.get(stage.name) === "input" ? params.totals.sumOf(input).kept : 0;
      params.totals.decided({ stage: stage.name, key: reportKey(pairsOf(stage.name)), sum: { kept, dropped: {}, counts: {}, tasks: tasks.length }, ms: 0 });
      ids[stage.name] = ids[input]!;
      stages++;
      continue;
    }
    const options = await optionParts({ stage, options: params.options, context: params.context });
    let found: (string | undefined)[] | undefined;
    if (!options) {
      const keyOf = (i: number) =>
        stageKey({
          stage,
          upstream,
          idle,
          wiring: TASK_WIRING,
          keys: keys[i]!,
          sources: { [ATTEMPTS.name]: sources[i]! },
          options: params.options,
          store,
          context: params.context,
          scope: `task ${tasks[i]!.taskKey}`,
        });
      // A few tasks at a time: most keys are computed at once, a task file's digest is read from disk.
      found = [];
      for (let i = 0; i < tasks.length; i += params.concurrency)
        found.push(...(await Promise.all(tasks.slice(i, i + params.concurrency).map((_, j) => keyOf(i + j)))));
      if (found.some((k) => k === undefined)) break;
    }
    const computed = found;
    const id = stageDigestId({
      stage,
      options,
      ids,
      keys: () => tasks.map((t, i) => [t.taskKey, computed![i]!]),
    });
    const digest = store.readDigest<StageDigest>(stage.name, id);
    if (!digest) break;
    // A chained digest lists its tasks' keys: the tasks of its source, so every task is there.
    found ??= tasks.map((t) => digest.keys?.[t.taskKey]);
    if (found.some((k) => k === undefined)) break;
    found.forEach((k, i) => (keys[i]![stage.name] = k!));
    params.totals.decided({ stage: stage.name, key: reportKey(pairsOf(stage.name)), sum: digest, ms: Math.round(performance.now() - started) });
    params.extracts.set(stage.name, digest.extracts);
    ids[stage.name] = id;
    stages++;
  }
  return { stages, keys, ids };
}
