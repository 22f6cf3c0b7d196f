import type { AnyStage } from "./stage.js";
import { StageGraphError } from "../common/errors.js";

/**
 * Each stage's upstream names, its chain input first: the stage before it (or the phase's source),
 * then its side inputs. A side input that is not an earlier stage or a source fails here, before
 * anything runs.
 */
export function wireStages(params: { stages: readonly AnyStage<unknown>[]; sources: string[]; from?: string }): Map<string, string[]> {
  const known = new Set([...params.sources, ...(params.from ? [params.from] : [])]);
  const wiring = new Map<string, string[]>();
  let previous = params.from;
  for (const stage of params.stages) {
    if (known.has(stage.name)) throw new StageGraphError(`two stages or sources are named ${stage.name}: give the new stage a name of its own`);
    const chain = stage.reader ? [] : previous ? [previous] : undefined;
    if (!chain)
      throw new StageGraphError(`stage ${stage.name} is first in its phase, which has no source to read: give the phase a source or put the stage after one`);
    for (const side of stage.sides ?? [])
      if (!known.has(side.name))
        throw new StageGraphError(
          `stage ${stage.name} reads ${side.name}, which is not an earlier stage of its phase or one of its sources: move ${stage.name} after it`,
        );
    wiring.set(stage.name, [...chain, ...(stage.sides ?? []).map((s) => s.name).filter((name) => !chain.includes(name))]);
    known.add(stage.name);
    if (!stage.reader) previous = stage.name;
  }
  return wiring;
}
