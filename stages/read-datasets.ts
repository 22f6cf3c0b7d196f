import { pairMode, type BuildOptions } from "../schemas/build-options.js";
import { pairSources } from "./pair-programs.js";
import { modelCount } from "./read-logs.js";
import type { Drop } from "../schemas/drop.js";
import { datasetSchema, rowToAttempt } from "../schemas/program-dataset.js";
import type { Attempt } from "../schemas/run-log.js";
import { TaskShardWriter } from "../pipeline/engine/task-shards.js";
import { InputError } from "../pipeline/common/errors.js";
import { FileDigests } from "../pipeline/store/file-digests.js";
import { defineStage, type StageContext, type StageOutput } from "../pipeline/engine/stage.js";
import type { TaskShard } from "../pipeline/engine/task-shards.js";
import { ParquetRefusedError } from "../pipeline/parquet/check-parquet-bounds.js";
import { readParquetRows } from "../pipeline/parquet/read-parquet-rows.js";
import { datasetShards, type DatasetShards } from "../pipeline/sources/dataset-shards.js";
import type { SourceFate } from "../schemas/build-manifest.js";
import { countList } from "../pipeline/common/count-list.js";

const readsLinks = (options: BuildOptions) => pairMode(options) && pairSources(options).includes("refined");

/**
 * refined_from_id links across the whole input: a link whose parent is a row of another task is
 * no pair, and only the reader sees every task. Holds one id per row read (only for --pairs refined).
 */
class RefinedLinks {
  private readonly taskOf = new Map<string, string>();
  private readonly children: [string, string, string][] = [];

  add(attempt: Attempt): void {
    if (attempt.refined?.rowId) this.taskOf.set(attempt.refined.rowId, attempt.taskKey);
    if (attempt.refined?.from) this.children.push([attempt.id, attempt.refined.from, attempt.taskKey]);
  }

  /** By task: its attempts whose parent is a row of another task, and that task. */
  foreign(): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    for (const [child, from, taskKey] of this.children) {
      const parentTask = this.taskOf.get(from);
      if (parentTask && parentTask !== taskKey) (out[taskKey] ??= {})[child] = parentTask;
    }
    return out;
  }
}

/** The sources in one order whatever the order of --from flags. */
const sortedSources = (options: BuildOptions) => [...new Set(options.from)].sort();

/** read-datasets' data: each source's fate, the task shards it wrote, and rows whose parent is in another task. */
export interface ReadDatasetsData {
  sources: SourceFate[];
  shards: TaskShard[];
  foreignParents?: Record<string, Record<string, string>>;
}

/**
 * Program datasets as attempts (`--from`): arcforge flat, SOAR, or any Parquet with `code` and
 * `task_id`. Hub sources are read shard by shard with range requests, never whole; --from-limit
 * reads only the rows it needs. Every row is kept as an attempt or dropped with its reason.
 */
export const readDatasetsStage = defineStage<BuildOptions, never, Attempt, ReadDatasetsData>({
  name: "read-datasets",
  version: 7,
  reader: true,
  summary: ({ report }) =>
    report.counts.sources
      ? [`program datasets: ${report.counts.sources} sources, ${report.counts.rows} rows read, ${report.kept} programs (dropped: ${countList(report.dropped)})`]
      : [],
  async key(options, _upstream, context) {
    return {
      sources: await sourcesKey(sortedSources(options), context),
      limit: options.fromLimit ?? null,
      dataset: options.dataset ?? null,
      models: options.models.map((m) => m.toLowerCase()).sort(),
      ...(readsLinks(options) ? { refined: true } : {}),
    };
  },
  async run({ options, context, dir }): Promise<StageOutput<Attempt, ReadDatasetsData>> {
    const links = readsLinks(options) ? new RefinedLinks() : undefined;
    const read = await readProgramSources({
      targets: sortedSources(options),
      options,
      context,
      dir,
      stage: "read-datasets",
      limit: options.fromLimit,
      filter: true,
      links,
    });
    const foreignParents = links?.foreign();
    return { ...read, data: { ...read.data, ...(foreignParents ? { foreignParents } : {}) } };
  },
});

/**
 * Reads program datasets (folders, Parquet files, Hub datasets) into task shards in `dir`: every row
 * kept as an attempt or dropped with its reason. `filter` applies --dataset and --model.
 */
export async function readProgramSources(params: {
  targets: string[];
  options: BuildOptions;
  context: StageContext;
  dir: string;
  stage: string;
  limit?: number;
  filter: boolean;
  links?: RefinedLinks;
}): Promise<StageOutput<Attempt, ReadDatasetsData> & { data: ReadDatasetsData }> {
  const { options, context, links } = params;
  const shards = new TaskShardWriter(params.dir);
  let kept = 0;
  const dropped: Record<string, number> = {};
  // Rows that name no task cannot go to a task's shard: they stay here (few, and small).
  const drops: Drop[] = [];
  const drop = (dataset: string, d: Drop & { taskId: string }) => {
    shards.drop({ dataset, drop: d });
    dropped[d.reason] = (dropped[d.reason] ?? 0) + 1;
  };
  const sources: SourceFate[] = [];
  const byModel: Record<string, number> = {};
  for (const target of params.targets) {
    const found: DatasetShards = await datasetShards({ target, ...context.hub });
    const fate: SourceFate = {
      source: found.source,
      ...(found.revision ? { revision: found.revision } : {}),
      schema: "",
      shards: found.shards.length,
      rows: 0,
    };
    const perSplit = new Map<string, number>();
    for (const shard of found.shards) {
      const left = params.limit === undefined ? undefined : params.limit - fate.rows;
      if (left !== undefined && left <= 0) break;
      // Lazy: the stored outputs are never used, so they are never converted.
      const rows = readParquetRows({ blob: await shard.open(), name: shard.path, limit: left, lazy: true });
      const onRefused = (reason: string) => {
        (fate.refused ??= []).push({ shard: shard.path, reason });
        context.emit({
          type: "message",
          level: "warn",
          text: `${shard.path} of ${found.source} is refused before decoding (${reason}): none of its rows is read`,
        });
      };
      for await (const row of refusable(rows, onRefused)) {
        if (!fate.schema) {
          const schema = datasetSchema(Object.keys(row));
          if ("missing" in schema)
            throw new InputError(
              `${target} (${shard.path}) is not a program dataset: it has no column ${schema.missing.join(" or ")} (it has: ${Object.keys(row).join(", ")})`,
            );
          fate.schema = schema.schema;
        }
        const index = perSplit.get(shard.split) ?? 0;
        perSplit.set(shard.split, index + 1);
        fate.rows++;
        const attempt = rowToAttempt({
          row,
          source: found.source,
          split: shard.split,
          index,
          defaultDataset: options.dataset ?? "arc-agi-1",
          refined: Boolean(links),
        });
        if (links && !("reason" in attempt)) links.add(attempt);
        if ("reason" in attempt) drops.push(attempt);
        else if (params.filter && options.dataset && attempt.dataset !== options.dataset)
          drop(attempt.dataset, { id: attempt.id, taskId: attempt.taskId, reason: "filtered_dataset", detail: attempt.dataset });
        else if (params.filter && options.models.length > 0 && !options.models.some((m) => m.toLowerCase() === attempt.model.toLowerCase()))
          drop(attempt.dataset, { id: attempt.id, taskId: attempt.taskId, reason: "filtered_model", detail: attempt.model });
        else {
          shards.attempt(attempt);
          byModel[modelCount(attempt.model)] = (byModel[modelCount(attempt.model)] ?? 0) + 1;
          kept++;
        }
        if (fate.rows % 5000 === 0) context.emit({ type: "progress", stage: params.stage, done: fate.rows, total: 0 });
      }
    }
    sources.push(fate);
  }
  const refused = sources.reduce((n, s) => n + (s.refused?.length ?? 0), 0);
  return {
    records: [],
    kept,
    drops,
    dropped,
    data: { sources, shards: shards.close() },
    counts: { rows: sources.reduce((n, s) => n + s.rows, 0), sources: sources.length, ...(refused ? { refused_shards: refused } : {}), ...byModel },
  };
}

/** Each source's digest: its shards' Hub identities, or their files' sha256. */
export async function sourcesKey(targets: string[], context: StageContext) {
  const sources = [];
  const known = new FileDigests({ cacheDir: context.cacheDir, fresh: context.fresh });
  for (const target of targets) {
    const found = await datasetShards({ target, ...context.hub });
    const shards = await Promise.all(found.shards.map(async (s) => [s.path, found.revision ? s.identity : await known.sha256(s.path)]));
    sources.push({ source: found.source, revision: found.revision ?? null, shards });
  }
  return sources;
}

/** The rows of a shard, or none when the shard is refused before decoding (recorded, and the build goes on). */
async function* refusable(rows: AsyncGenerator<Record<string, unknown>>, onRefused: (reason: string) => void): AsyncGenerator<Record<string, unknown>> {
  try {
    yield* rows;
  } catch (error) {
    if (!(error instanceof ParquetRefusedError)) throw error;
    onRefused(error.why);
  }
}
