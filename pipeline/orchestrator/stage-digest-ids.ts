import type { BuildOptions } from "../../schemas/build-options.js";
import { cacheKey } from "../common/canonical-json.js";
import type { AnyStage, KeyInputs, StageContext } from "../engine/stage.js";
import { partsOf } from "../engine/stage-keys.js";
import { reportKey } from "../engine/sum-reports.js";
import { TASK_WIRING } from "./build-stages.js";
import { digestOf } from "./task-digests.js";

/** Bumped when how a chained digest id is made changes: digests stored under older ids never match. */
const CHAIN_VERSION = 1;

/** Thrown by the probe's inputs: the key read them, so it differs from task to task. */
class ReadsInputs extends Error {}

/**
 * What a stage's key holds of the build's options, when the key reads nothing of the stage's
 * inputs (so every task gets the same): undefined when it reads them, or fails (then each task's
 * key is computed, and fails, where it always did). Asked once per build and stage, not per task.
 */
export async function optionParts(params: {
  stage: AnyStage<BuildOptions>;
  options: BuildOptions;
  context: StageContext;
}): Promise<{ parts: unknown } | undefined> {
  let read = false;
  const reads = (): never => {
    read = true;
    throw new ReadsInputs();
  };
  const probe: KeyInputs = {
    get input() {
      return reads();
    },
    side: reads,
  };
  try {
    const parts = await params.stage.key(params.options, probe, params.context);
    return read ? undefined : { parts };
  } catch {
    return undefined;
  }
}

/**
 * Where a stage's digest over every task is stored. A stage whose key reads only the options has
 * each task's key follow from that task's upstream keys (`keyParts`), so its digest is found from
 * its upstreams' digest ids and its option parts, with no key computed per task; its value lists
 * the tasks' keys. Any other stage's is found from its tasks' keys (`digestOf`).
 */
export function stageDigestId(params: {
  stage: AnyStage<BuildOptions>;
  options?: { parts: unknown };
  /** The digest ids found so far, by stage (the source's: `sourceDigestId`): its upstreams' are read. */
  ids: Record<string, string>;
  /** The stage's tasks' keys; read only for a stage whose key reads its inputs. */
  keys: () => [string, string][];
}): string {
  const { stage } = params;
  if (!params.options) return digestOf(reportKey(params.keys()));
  // Made as each task's key is made (`partsOf`), with the upstreams' digests for their keys: a change to how keys are made changes these too.
  const upstream = Object.fromEntries((TASK_WIRING.get(stage.name) ?? []).map((name) => [name, params.ids[name]!]));
  return digestOf(cacheKey({ chain: CHAIN_VERSION, parts: partsOf({ stage, options: params.options.parts, upstream }) }));
}

/** The task stages' source stands for its tasks' keys: a chained digest of a stage reading it starts from them. */
export const sourceDigestId = (keys: [string, string][]) => digestOf(reportKey(keys));
