import type { StageMeta } from "../store/stage-store.js";
import { StageGraphError } from "../common/errors.js";
import type { AnyStage, Idle } from "./stage.js";

/** The stages of a list that are idle under these options (`Stage.idle`), by name. */
export function idleStages<O>(stages: readonly AnyStage<O>[], options: O): ReadonlyMap<string, Idle> {
  const idle = new Map<string, Idle>();
  for (const stage of stages) {
    const found = stage.idle?.(options);
    if (found) idle.set(stage.name, found);
  }
  return idle;
}

/**
 * A reader of stage outputs that makes an idle stage's where it is asked for (no drops, no counts;
 * its chain input's length, or none, and the idle data) and reads every other with `read`.
 * An idle stage's output is never stored, so no reader may look it up in the store.
 */
export function idleAware(params: {
  idle: ReadonlyMap<string, Idle>;
  /** A stage's upstream names, its chain input first. */
  after: (stage: string) => readonly string[];
  read: (stage: string) => StageMeta;
}): (stage: string) => StageMeta {
  const made = new Map<string, StageMeta>();
  const meta = (stage: string): StageMeta => {
    const idle = params.idle.get(stage);
    if (!idle) return params.read(stage);
    let found = made.get(stage);
    if (!found) {
      found =
        idle === "input"
          ? { drops: [], length: meta(chainInput(params.after, stage)).length, idle: "input" }
          : { drops: [], length: 0, data: idle.data, idle: "empty" };
      made.set(stage, found);
    }
    return found;
  };
  return meta;
}

/** An idle stage's chain input: the output whose records and key it hands on. */
export function chainInput(after: (stage: string) => readonly string[], stage: string): string {
  const input = after(stage)[0];
  // A reader has no chain input: `idle` is for stages that take one.
  if (!input) throw new StageGraphError(`stage ${stage} is idle but has no chain input to hand on: only a stage that takes one may be idle`);
  return input;
}
