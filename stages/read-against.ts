import type { BuildOptions } from "../schemas/build-options.js";
import type { Attempt } from "../schemas/run-log.js";
import { defineStage, type StageOutput } from "../pipeline/engine/stage.js";
import { readProgramSources, type ReadDatasetsData, sourcesKey } from "./read-datasets.js";

/** The sources in one order whatever the order of --against flags. */
const sortedTargets = (options: BuildOptions) => [...new Set(options.against ?? [])].sort();

/**
 * What is already published (`--against`): folders, Parquet files or Hub datasets read as --from
 * reads them, into task shards of their own. They are never part of the build: the against stage
 * drops the build's programs they already hold, and nothing on their side changes.
 */
export const readAgainstStage = defineStage<BuildOptions, never, Attempt, ReadDatasetsData>({
  name: "read-against",
  version: 2,
  reader: true,
  async key(options, _upstream, context) {
    const targets = sortedTargets(options);
    return targets.length ? { sources: await sourcesKey(targets, context), dataset: options.dataset ?? null } : { sources: [] };
  },
  async run({ options, context, dir }): Promise<StageOutput<Attempt, ReadDatasetsData>> {
    const targets = sortedTargets(options);
    if (targets.length === 0) return { records: [], kept: 0, drops: [], data: { sources: [], shards: [] } };
    return readProgramSources({ targets, options, context, dir, stage: "read-against", filter: false });
  },
});
