import { renameSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { isJsonl, type BuildOptions } from "../../schemas/build-options.js";
import type { ParquetEncoder } from "../parquet/parquet-encoder.js";
import { startParquet } from "../parquet/parquet-writer.js";
import { rowBytes } from "../parquet/row-bytes.js";
import { DatasetsByteCount } from "../parquet/datasets-bytes.js";
import { JsonLinesWriter, writeJsonLinesSync } from "../common/json-lines.js";
import { fileSha256 } from "../common/sha256.js";
import { arrowSchema, type ColumnKind, COLUMNS } from "../../schemas/arrow.js";
import { formatRow } from "../../schemas/row-formats.js";
import type { ArcTask } from "../../schemas/task.js";
import type { Row } from "../../schemas/program.js";
import type { SplitRow } from "../../stages/split.js";
import { writeFileAtomic } from "../common/write-file-atomic.js";
import type { ViewerSample } from "../report/viewer-sample.js";
import { type SplitName, splitTotals, type WrittenSplit } from "../../schemas/build-manifest.js";

/** 500 MB, where `datasets` itself shards: a split larger than this is written as several files. */
export const DEFAULT_SHARD_BYTES = 500 * 10 ** 6;

export const shardFileName = (params: { split: SplitName; format: BuildOptions["format"]; index: number; count: number }) =>
  `data/${params.split}-${String(params.index).padStart(5, "0")}-of-${String(params.count).padStart(5, "0")}.${isJsonl(params.format) ? "jsonl" : "parquet"}`;

/** Each format's columns: the Parquet ones, or the one `messages` of a JSONL line. */
const columnsOf = (format: BuildOptions["format"]): [string, ColumnKind][] => (isJsonl(format) ? [["messages", "messages"]] : COLUMNS[format]);

/** One split's tasks, each with its rows in output order, tasks in task-key order: read as they are written. */
export interface SplitSource {
  split: SplitName;
  tasks: () => Iterable<{ task: ArcTask; rows: Row[] }>;
}

/** What each model contributed to the written rows, and which ARC datasets they hold: the card's table and title. */
export class ModelTally {
  private readonly models = new Map<string, { rows: number; solved: number; tasks: Set<string> }>();
  readonly datasets = new Set<string>();

  add(row: Row): void {
    const entry = this.models.get(row.model) ?? { rows: 0, solved: 0, tasks: new Set<string>() };
    entry.rows++;
    if (row.solvesTest) entry.solved++;
    entry.tasks.add(row.taskKey);
    this.models.set(row.model, entry);
    this.datasets.add(row.dataset);
  }

  /** Most rows first, then by name. */
  table(): { model: string; rows: number; solved: number; tasks: number }[] {
    return [...this.models]
      .map(([model, e]) => ({ model, rows: e.rows, solved: e.solved, tasks: e.tasks.size }))
      .sort((a, b) => b.rows - a.rows || (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
  }
}

/** Chat rows hold only messages (the OpenAI fine-tuning format refuses other keys): where each came from is written beside them. */
const chatFormat = (format: BuildOptions["format"]) => format === "messages" || format === "refinement-messages" || isJsonl(format);

/** Outside data/, so no loader takes it for rows. */
export const provenanceFileName = (split: SplitName) => `provenance/${split}.jsonl`;

/** One task's rows, formatted, with their size as the file will hold them: a shard is cut between tasks by it. */
function* formattedTasks(params: {
  source: SplitSource;
  options: BuildOptions;
  tally?: ModelTally;
  /** Chat formats: line i says where row i of the split (across its shards, in order) came from. */
  sidecar?: JsonLinesWriter;
  viewer?: ViewerSample;
  /** Each row's size, kept for the Parquet writer's row groups (measured once: a row's grids are most of a build's writing). */
  sizes?: WeakMap<object, number>;
}): Generator<{ rows: Record<string, unknown>[]; bytes: number }> {
  const { options, sizes } = params;
  const measure = isJsonl(options.format) ? (row: unknown) => Buffer.byteLength(JSON.stringify(row)) + 1 : rowBytes;
  const size = (row: Record<string, unknown>) => {
    const bytes = measure(row);
    sizes?.set(row, bytes);
    return bytes;
  };
  for (const { task, rows } of params.source.tasks()) {
    if (rows.length === 0) continue;
    const formatted = rows.map((row) => {
      params.tally?.add(row);
      params.sidecar?.write({ attempt_id: row.provenance?.attemptId ?? row.id, dataset: row.dataset, task_id: row.taskId });
      const out = formatRow({ row, task, format: options.format, reasoning: options.reasoning, augment: options.transductionAugment });
      params.viewer?.add({ split: params.source.split, key: row.taskKey, row: out, task });
      return out;
    });
    yield { rows: formatted, bytes: formatted.reduce((n, row) => n + size(row), 0) };
  }
}

/** Each split's rows, formatted as they are written (to check files against). */
export function formatSplits(params: {
  splits: SplitSource[];
  options: BuildOptions;
}): { split: SplitName; rows: SplitRow[]; formatted: Record<string, unknown>[] }[] {
  const { options } = params;
  return params.splits
    .map((source) => {
      const tasks = [...source.tasks()];
      const rows = tasks.flatMap(({ rows }) => rows.map((r) => ({ ...r, split: source.split })));
      const formatted = tasks.flatMap(({ task, rows }) =>
        rows.map((row) => formatRow({ row, task, format: options.format, reasoning: options.reasoning, augment: options.transductionAugment })),
      );
      return { split: source.split, rows, formatted };
    })
    .filter((s) => s.rows.length > 0);
}

/**
 * Writes each split that has rows under <out>/data/ as one or more shards, whole tasks each, a shard
 * ending before the task that would take it past `maxShardBytes` (a larger task is a shard alone).
 * Rows stream from the task stages' outputs a task at a time; the files are the same bytes for the
 * same rows. Shards are written under temporary names and named `-of-<count>` once all are known.
 * Resolves once every row is read and handed to the `encoder` (the tally and viewer are complete);
 * `finished` once every file is complete and named, so a caller can write other outputs meanwhile.
 */
export async function writeSplits(params: {
  out: string;
  splits: (SplitSource & { rows: number })[];
  options: BuildOptions;
  encoder: ParquetEncoder;
  tally?: ModelTally;
  /** The report's row viewer, sampled as the rows are written (the report need not read them back). */
  viewer?: ViewerSample;
}): Promise<{ finished: Promise<WrittenSplit[]> }> {
  const { out, options } = params;
  const maxBytes = options.maxShardBytes ?? DEFAULT_SHARD_BYTES;
  // The previous build's files were removed by the build (only those its manifest lists).
  await mkdir(join(out, "data"), { recursive: true });
  const splits: HandedSplit[] = [];
  for (const source of params.splits) {
    // An empty split is never written nor listed.
    if (source.rows === 0) continue;
    if (chatFormat(options.format)) await mkdir(join(out, "provenance"), { recursive: true });
    const sidecar = chatFormat(options.format) ? new JsonLinesWriter(join(out, provenanceFileName(source.split))) : undefined;
    const sizes = isJsonl(options.format) ? undefined : new WeakMap<object, number>();
    const tasks = formattedTasks({ source, options, tally: params.tally, sidecar, viewer: params.viewer, sizes });
    let next = tasks.next();
    const byteCount = new DatasetsByteCount(columnsOf(options.format));
    const shards: HandedSplit["shards"] = [];
    while (!next.done) {
      const shard = { temporary: join(out, "data", `.${source.split}-${shards.length}.partial`), rows: 0, tasks: 0, numBytes: 0, finished: Promise.resolve() };
      let bytes = 0;
      const rows = function* () {
        while (!next.done && (shard.tasks === 0 || bytes + next.value.bytes <= maxBytes)) {
          bytes += next.value.bytes;
          shard.tasks++;
          shard.rows += next.value.rows.length;
          yield* next.value.rows;
          next = tasks.next();
        }
      };
      if (isJsonl(options.format)) {
        // A chat row's bytes do not depend on how `datasets` batches the lines.
        const counted = function* () {
          for (const row of rows()) {
            byteCount.addTable([row]);
            yield row;
          }
        };
        writeJsonLinesSync(shard.temporary, counted());
      } else {
        const { finished } = await startParquet({
          path: shard.temporary,
          schema: arrowSchema(options.format),
          kinds: COLUMNS[options.format].map(([, kind]) => kind),
          rows: rows(),
          sizeOf: (row) => sizes?.get(row) ?? rowBytes(row),
          byteCount,
          encoder: params.encoder,
        });
        shard.finished = finished;
      }
      if (next.done) byteCount.flush();
      shard.numBytes = byteCount.take();
      shards.push(shard);
    }
    sidecar?.close();
    splits.push({ split: source.split, shards });
  }
  const finished = nameShards({ out, format: options.format, splits });
  // Raised where the caller awaits it; a failure of its own before then must not go unhandled.
  finished.catch(() => undefined);
  return { finished };
}

/** A split whose rows are all handed over: its shards, each complete once `finished` resolves. */
interface HandedSplit {
  split: SplitName;
  shards: { temporary: string; rows: number; tasks: number; numBytes: number; finished: Promise<void> }[];
}

/** Once its files are complete, each split's shards under their final names, with their digests. */
async function nameShards(params: { out: string; format: BuildOptions["format"]; splits: HandedSplit[] }): Promise<WrittenSplit[]> {
  const { out, format } = params;
  // Every file's outcome is awaited, so none fails unobserved; the first failure is raised.
  await Promise.all(params.splits.flatMap((s) => s.shards.map((shard) => shard.finished)));
  const written: WrittenSplit[] = [];
  for (const { split, shards } of params.splits) {
    for (const [index, shard] of shards.entries()) {
      const relative = shardFileName({ split, format, index, count: shards.length });
      renameSync(shard.temporary, join(out, relative));
      written.push({
        split,
        path: relative,
        rows: shard.rows,
        tasks: shard.tasks,
        num_bytes: shard.numBytes,
        sha256: await fileSha256(join(out, relative)),
      });
    }
  }
  return written;
}

const COLUMN_DOCS: Record<string, string> = {
  reasoning: "the model's reasoning text; empty unless built with --reasoning, and then only for programs that solve the test",
  code: "the program (comments, docstrings and blank lines stripped unless built with --no-clean-code)",
  correct_train_input: "per train example: does the program's output equal the task's real output",
  train_input: "the task's train inputs",
  train_output: "the task's REAL train outputs",
  predicted_train_output: "the program's own outputs on the train inputs: the labels of the relabelled task",
  correct_test_input: "per test example: does the program's output equal the task's real output",
  test_input: "the task's test inputs",
  test_output: "the task's REAL test outputs",
  predicted_test_output: "the program's outputs on the test inputs ([] where it failed on one: only with --keep-test-failures)",
  task_id: "the ARC task id (bare; the dataset column says which ARC dataset it belongs to)",
  dataset: "the ARC dataset the task belongs to (arc-agi-1, arc-agi-2): ids repeat across datasets with different content",
  model: "the model that wrote the program",
  generation: "the sampling round",
  row_id: "the program's identity: the first 32 hex of sha256 over the canonical JSON of [dataset, task_id, code]",
  attempt_id:
    "the attempt the row came from (the first copy's, in the program table): <log file>#<attempt>, or <source>:<split>:<row> for a dataset row (kept through --from); fates.jsonl says what became of every attempt by this id",
  copies: "how many attempts sampled this code for this task (summed when tables are merged)",
  models: "every model that sampled it, sorted",
  source: "the first copy's log file, or dataset source and split",
  run_timestamp: "YYYYMMDD_HHMMSS of the first copy's sampling run (from its log file name), or null",
  subset: "the first copy's subset, or null",
  train_correct: "train examples whose output equals the real one",
  test_correct: "test examples whose output equals the real one",
  all_train_correct: "every train output right",
  all_test_correct: "every test output right",
  code_length: "the code's length in code points",
  max_predicted_height: "rows of the largest predicted grid (train and test)",
  max_predicted_width: "columns of the largest predicted grid (train and test)",
  identity: "its output equals its input on every train example",
  single_colour: "a single-colour prediction where the real train output has several colours",
  fails_augment: "null unless built with --transduction augment (then false: programs that fail it are dropped)",
  code_original: "the parent's code: the program the child repairs",
  predicted_train_output_original: "the parent's outputs on the train inputs",
  predicted_test_output_original: "the parent's outputs on the test inputs",
  correct_train_input_original: "per train example: is the parent's output the real one",
  correct_test_input_original: "per test example: is the parent's output the real one",
  refined_from_id: "the parent's row_id (sha256 of [dataset, task_id, code], first 32 hex)",
  pair_source:
    "where the pair came from: multiturn (a later turn of one conversation), refined (a refined_from_id link), hindsight (a solving program paired with a partial one)",
  messages:
    "system, user (the relabelled task: train inputs with the program's own outputs, then the test input), assistant (optional <think> reasoning, then the code in a python block); grids as rows of space-separated digits, an empty row written [EMPTY_ROW]",
};

/** The dataset card: YAML configs naming the splits, then how the data was made. No timestamps: same build, same bytes. */
/** Each column kind as `datasets` writes a feature in a card's YAML (its `_to_yaml_dict`). */
const FEATURE_YAML: Record<ColumnKind, string[]> = {
  string: ["dtype: string"],
  "string?": ["dtype: string"],
  strings: ["list: string"],
  int: ["dtype: int64"],
  "int?": ["dtype: int64"],
  bool: ["dtype: bool"],
  "bool?": ["dtype: bool"],
  bools: ["list: bool"],
  grids: ["list:", "  list:", "    list: int64"],
  messages: ["list:", "  - dtype: string", "    name: role", "  - dtype: string", "    name: content"],
};

/**
 * The card's `dataset_info`: the features (what `datasets` would infer from the files, declared so
 * the viewer and loaders need not) and each split's rows, which `load_dataset` checks, and bytes.
 */
function datasetInfo(params: { format: BuildOptions["format"]; splits: { split: string; rows: number; num_bytes: number }[] }): string[] {
  const columns = columnsOf(params.format);
  return [
    "dataset_info:",
    "  features:",
    ...columns.flatMap(([name, kind]) => [`  - name: ${name}`, ...FEATURE_YAML[kind].map((line) => `    ${line}`)]),
    "  splits:",
    ...params.splits.flatMap((s) => [`  - name: ${s.split}`, `    num_bytes: ${s.num_bytes}`, `    num_examples: ${s.rows}`]),
  ];
}

/** Every model that wrote a program read, with what became rows: most rows first, then most programs, then by name. */
function modelRows(models: ReturnType<ModelTally["table"]>, programs: Record<string, number>) {
  const byModel = new Map(models.map((m) => [m.model, { ...m, programs: programs[m.model] ?? 0 }]));
  for (const [model, n] of Object.entries(programs)) if (!byModel.has(model)) byModel.set(model, { model, rows: 0, solved: 0, tasks: 0, programs: n });
  return [...byModel.values()].sort((a, b) => b.rows - a.rows || b.programs - a.programs || (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
}

/** Written where the repo id goes in the card's load snippet; a push puts the repo's id there. */
export const REPO_PLACEHOLDER = "<this repo>";

/** "ARC-AGI-1 programs by qwen3-4b", "ARC-AGI-1 and ARC-AGI-2 programs by 4 models". */
export function cardTitle(tally: ModelTally): string {
  const datasets = [...tally.datasets].sort().map((d) => d.toUpperCase());
  const models = tally
    .table()
    .map((m) => m.model)
    .sort();
  const by = models.length === 0 ? "" : models.length <= 3 ? ` by ${models.join(", ")}` : ` by ${models.length} models`;
  return `${datasets.length ? datasets.join(" and ") : "ARC"} programs${by}`;
}

export function datasetCard(params: {
  title: string;
  options: BuildOptions;
  splits: WrittenSplit[];
  summary: string[];
  models: ReturnType<ModelTally["table"]>;
  /** Programs read per model (the readers' counts), whether or not any became a row. */
  programs?: Record<string, number>;
}): string {
  const { options } = params;
  const splits = splitTotals(params.splits);
  const rows = splits.reduce((n, s) => n + s.rows, 0);
  const yaml = [
    "---",
    ...(options.license ? [`license: ${options.license}`] : []),
    `pretty_name: ${JSON.stringify(params.title)}`,
    "task_categories:",
    "- text-generation",
    "size_categories:",
    `- ${sizeCategory(rows)}`,
    "configs:",
    "- config_name: default",
    "  data_files:",
    ...splits.flatMap((s) => [`  - split: ${s.split}`, `    path: data/${s.split}-*`]),
    ...datasetInfo({ format: options.format, splits }),
    "tags:",
    "- arc-agi",
    "- program-synthesis",
    "- arcforge",
    "---",
  ];
  const columns = columnsOf(options.format).map(([name]) => name);
  return [
    ...yaml,
    `# ${params.title}`,
    "",
    "Programs written by language models for ARC-AGI tasks, executed in a sandbox and hindsight-relabelled by",
    "arcforge: every program that runs cleanly on all train inputs becomes a row whose task is",
    "the task's inputs paired with the program's own outputs. A wrong program is a right answer to that relabelled task.",
    "",
    "The build report (`report.html` beside this card) shows where every program went, the sandbox's health, a per-task table and the rows as ARC grids.",
    "",
    "Provenance, beside this card: [`manifest.json`](manifest.json) (options, every stage's counts, the sandboxes behind the labels), " +
      "[`fates.jsonl`](fates.jsonl) (what became of every attempt, by its id; `fates.jsonl.gz` when over 10 MB) and " +
      "[`tasks.jsonl`](tasks.jsonl) (per task: programs read, executed, kept, solved).",
    ...(chatFormat(options.format)
      ? ["Chat rows hold only their messages: line i of `provenance/<split>.jsonl` gives row i's `attempt_id`, `dataset` and `task_id`."]
      : []),
    "",
    "## Splits",
    "",
    "| split | rows | tasks |",
    "| --- | --- | --- |",
    ...splits.map((s) => `| ${s.split} | ${s.rows} | ${s.tasks} |`),
    "",
    options.validation ? "Validation holds whole tasks: no task is in both splits." : "",
    "",
    "## Models",
    "",
    "| model | programs read | rows | test-solving rows | tasks |",
    "| --- | --- | --- | --- | --- |",
    ...modelRows(params.models, params.programs ?? {}).map(
      (m) => `| ${m.model.replaceAll("|", "\\|")} | ${m.programs} | ${m.rows} | ${m.solved} | ${m.tasks} |`,
    ),
    "",
    "## Load",
    "",
    "```python",
    "from datasets import load_dataset",
    "",
    `ds = load_dataset("${REPO_PLACEHOLDER}")`,
    "```",
    "",
    `## Columns (format: ${options.format})`,
    "",
    ...columns.map((c) => `- \`${c}\`: ${COLUMN_DOCS[c] ?? ""}`),
    "",
    "## How it was built",
    "",
    "```",
    ...params.summary,
    "```",
    "",
    `Options: clean code ${options.cleanCode ? "on" : "off"}, transduction filter ${options.transductionFilter ? "on" : "off"}, ` +
      `dedup ${options.dedup ? "on" : "off"}, validation ${options.validation ? "on" : "off"}${splitOptions(options)}, seed ${options.seed}, ` +
      `timeout ${options.limits.timeoutSeconds} s CPU per input, memory ${Math.round(options.limits.memoryBytes / 2 ** 20)} MiB.`,
    "",
  ].join("\n");
}

/** Said only when set, so a default card stays the same bytes. */
function splitOptions(options: BuildOptions): string {
  const parts = [
    ...(options.balance === false ? ["not balanced (--no-balance)"] : []),
    ...(options.validationSize !== undefined ? [`validation size ${options.validationSize}`] : []),
  ];
  return parts.length ? ` (${parts.join(", ")})` : "";
}

/** The Hub's size_categories bucket for a row count. */
export function sizeCategory(rows: number): string {
  const buckets: [number, string][] = [
    [1e3, "n<1K"],
    [1e4, "1K<n<10K"],
    [1e5, "10K<n<100K"],
    [1e6, "100K<n<1M"],
    [1e7, "1M<n<10M"],
    [1e8, "10M<n<100M"],
  ];
  return buckets.find(([limit]) => rows < limit)?.[1] ?? "100M<n<1B";
}

export async function writeCard(params: { out: string; card: string }): Promise<void> {
  writeFileAtomic(join(params.out, "README.md"), params.card);
}
