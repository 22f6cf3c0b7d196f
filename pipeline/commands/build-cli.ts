import { Option, type Command } from "commander";
import { DEFAULT_BUILD_OPTIONS, FORMATS, PAIR_SOURCES, SELECTIONS, type BuildOptions, type PairSource } from "../../schemas/build-options.js";
import { nameProblem } from "../../schemas/names.js";
import { byteSize, countOrFraction, dateYyyymmdd, hubLicense, similarityThreshold, wholeNumber } from "./number-options.js";
import { resolveRecipe } from "../recipe/builtin-recipes.js";
import { InputError } from "../common/errors.js";
import { findPython } from "../executor/find-python.js";
import { createProgressRenderer } from "../common/progress.js";
import { addSandboxOptions, resolveSandboxLimits, type SandboxCliOptions } from "./sandbox-options.js";
import { addHubOptions, tokenOf } from "./hub-options.js";
import { runPush, type PushCliOptions } from "./push-cli.js";
import type { BuildManifest, Fate } from "../../schemas/build-manifest.js";

/** What commander hands over: the build's own options under their CLI names, plus the CLI's. */
export interface BuildCliOptions
  extends SandboxCliOptions,
    PushCliOptions,
    Pick<
      BuildOptions,
      | "tasks"
      | "out"
      | "dataset"
      | "subset"
      | "license"
      | "fromLimit"
      | "maxLogBytes"
      | "decontaminate"
      | "recipeTimeout"
      | "balance"
      | "validationSize"
      | "pairs"
      | "pairsPerTask"
      | "dateFrom"
      | "dateTo"
      | "pattern"
      | "limit"
      | "format"
      | "cleanCode"
      | "transductionFilter"
      | "dedup"
      | "nearDedup"
      | "seed"
      | "generation"
      | "maxPerTask"
    >,
    Partial<Pick<BuildOptions, "select">>,
    Partial<Pick<BuildOptions, "validation" | "reasoning" | "keepTestFailures" | "dropIdentity" | "dropSingleColour">> {
  transduction: "literal" | "augment";
  recipe?: string;
  overwrite?: boolean;
  allowSandboxFailures?: boolean;
  logs?: string[];
  from?: string[];
  against?: string[];
  /** --max-shard-size, in bytes. */
  maxShardSize?: number;
  model?: BuildOptions["models"];
  push?: boolean;
  json?: boolean;
  debug?: boolean;
  cacheDir: string;
  fresh?: boolean;
  quiet?: boolean;
}

const collect = (value: string, previous: string[] = []) => [
  ...previous,
  ...value
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean),
];
const positiveInteger = wholeNumber(1);
const integer = wholeNumber(0);

/** A comma-separated list of pair sources. */
const pairList = (value: string): PairSource[] => {
  const list = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = list.filter((s) => !(PAIR_SOURCES as readonly string[]).includes(s));
  if (unknown.length || list.length === 0) throw new InputError(`--pairs takes ${PAIR_SOURCES.join(", ")} (comma-separated), not '${value}'`);
  return list as PairSource[];
};

/** `none`, or a comma-separated list of dataset/split. */
const splitList = (value: string): string[] =>
  value.trim() === "none"
    ? []
    : value
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);

/** The build options shared by `build` and `demo`. */
export function addBuildOptions(command: Command, defaults: { out: string } = { out: "training_data/dataset" }): Command {
  return addHubOptions(
    addSandboxOptions(
      command
        .option("--tasks <arc-data-root>", "folder holding <dataset>/{training,evaluation}/<id>.json", process.env.ARC_DATA)
        .option("--out <dir>", "output folder", defaults.out)
        .option("--model <name,...>", "keep logs of these models (repeatable, case-insensitive; default: every model)", collect)
        .option("--dataset <name>", "keep logs of this dataset (arc-agi-1, arc-agi-2)")
        .option("--subset <name>", "keep logs of this subset")
        .option("--date-from <YYYYMMDD>", "keep log files named from this date", dateYyyymmdd)
        .option("--date-to <YYYYMMDD>", "keep log files named up to this date", dateYyyymmdd)
        .option("--pattern <glob>", "keep log files whose name matches")
        .option("--limit <n>", "keep only the last n log files", integer)
        .option("--pairs <sources>", `with --format refinement*: where pairs come from (comma-separated: ${PAIR_SOURCES.join(",")}; default: all)`, pairList)
        .option("--pairs-per-task <n>", "with --format refinement*: pairs per task at most, every source together (default: 50)", integer)
        .option("--recipe <name|file.sql>", "cut the dataset from the program table with a SQL recipe (a built-in: see 'arcforge recipes', or a file)")
        .option("--recipe-timeout <seconds>", "stop a recipe that runs longer (default: 600)", integer)
        .option("--balance", "with --recipe and --validation: balance the groups as a default build does")
        .option("--no-balance", "with --validation: split without balancing the groups first")
        .option(
          "--validation-size <rows|fraction>",
          "with --validation: validation rows, as a count or a fraction of the rows (default: 10%, at most 32)",
          countOrFraction,
        )
        .option("--allow-sandbox-failures", "write the dataset even when the sandbox itself failed on some programs (they are left out, and retried next time)")
        .option("--overwrite", "write into a non-empty --out that is not an earlier arcforge output (only the files arcforge writes are replaced)")
        .option(
          "--decontaminate <splits>",
          "drop tasks whose inputs copy an evaluation task's (dataset/split,...; default: every evaluation split under --tasks; none: off)",
          splitList,
        )
        .option("--max-log-bytes <n>", "record a log file larger than this as malformed without reading it (default: 64 MiB)", integer)
        .option("--validation", "make a validation split (balances tasks first)")
        .addOption(new Option("--format <format>", "row format").choices(FORMATS).default("flat"))
        .option("--no-clean-code", "keep comments, docstrings and blank lines")
        .option("--no-transduction-filter", "keep programs that hard-code outputs")
        .option("--no-dedup", "keep duplicate programs")
        .option(
          "--max-shard-size <size>",
          "a split file holds at most this much (uncompressed, estimated), whole tasks each: 500MB, 64MiB, ... (default 500MB)",
          byteSize,
        )
        .option(
          "--near-dedup <threshold>",
          "also drop test-solving programs structurally like a kept one of their task: Jaccard of normalised token 5-grams at or above this (e.g. 0.9)",
          similarityThreshold,
        )
        .addOption(
          new Option("--transduction <rule>", "literal: outputs written in the code; augment: also programs invariant to none of flips and colour rotation")
            .choices(["literal", "augment"])
            .default("literal"),
        )
        .option("--keep-test-failures", "keep programs that fail on a test input (stored as [])")
        .option("--drop-identity", "drop programs whose output equals their input on every train example")
        .option("--drop-single-colour", "drop single-colour predictions where the real output has several colours")
        .option("--max-per-task <n>", "after dedup, keep at most n programs per task", positiveInteger)
        .addOption(
          new Option("--select <strategy>", `with --max-per-task: which programs to keep (default: ${DEFAULT_BUILD_OPTIONS.select})`).choices(SELECTIONS),
        )
        .option("--reasoning", "include reasoning text (only for programs that solve the test)")
        .option("--seed <n>", "seed for balancing and splitting", integer, DEFAULT_BUILD_OPTIONS.seed)
        .option("--generation <n>", "value of the generation column for every input (default: a dataset row's own, else 0)", integer)
        .option("--license <id>", "the dataset card's license (a Hub license id, e.g. apache-2.0, cc-by-4.0; 'other' for any other)", hubLicense)
        .option("--cache-dir <dir>", "stage and execution cache", ".arcforge-cache")
        .option("--fresh", "ignore every cache")
        .option("--json", "print the run summary as JSON")
        .option("--debug", "per-task detail: what was dropped and why; on a failure, the stack")
        .option("--quiet", "no progress output")
        .option("--push", "push the result to the Hub after building")
        .option("--repo <org/name>", "with --push: dataset repo")
        .option("--org <org>", "with --push: push to <org>/synth_<dataset>_<subset>_<YYYYMMDD_HHMMSS>")
        .option("--private", "with --push: create the repo private"),
    ),
  );
}

export function toBuildOptions(cli: BuildCliOptions): BuildOptions {
  if (!cli.logs?.length && !cli.from?.length)
    throw new InputError("say what to build from: --logs <dir...> (run logs) and/or --from <source...> (program datasets)");
  const refinement = cli.format.startsWith("refinement");
  if ((cli.pairs !== undefined || cli.pairsPerTask !== undefined) && !refinement)
    throw new InputError("--pairs and --pairs-per-task write refinement pairs: add --format refinement, refinement-messages or refinement-openai");
  if (refinement && (cli.maxPerTask !== undefined || cli.recipe !== undefined))
    throw new InputError("a refinement build draws its own pairs per task: drop --max-per-task and --recipe (cap pairs with --pairs-per-task)");
  if (cli.select !== undefined && cli.maxPerTask === undefined)
    throw new InputError("--select chooses which programs --max-per-task keeps: give --max-per-task <n> too");
  if (cli.recipe !== undefined && cli.maxPerTask !== undefined)
    throw new InputError("--recipe chooses the rows per task itself: drop --max-per-task (write the limit in the recipe)");
  if (cli.balance === true && cli.recipe === undefined) throw new InputError("--balance goes with --recipe (a default --validation build balances already)");
  if ((cli.balance === false || cli.validationSize !== undefined) && !cli.validation)
    throw new InputError(`${cli.balance === false ? "--no-balance" : "--validation-size"} goes with --validation`);
  if (cli.against?.length && refinement)
    throw new InputError(
      "--against drops programs already published from a training set: refinement pairs are drawn from every verified program, so drop --against",
    );
  if (cli.nearDedup !== undefined && (!cli.dedup || cli.format === "programs" || refinement))
    throw new InputError(
      "--near-dedup refines dedup of a training set: it does not go with --no-dedup, --format programs (one row per code, cut near-copies in SQL) or refinement pairs",
    );
  if (cli.format === "programs" && (cli.validation || cli.maxPerTask !== undefined)) {
    throw new InputError(
      "--format programs writes every verified program, before dedup, selection, balance and split: drop --validation and --max-per-task (cut datasets from the table instead)",
    );
  }
  for (const [what, value] of [
    ["--dataset", cli.dataset],
    ["--subset", cli.subset],
  ] as const) {
    const problem = value === undefined ? null : nameProblem({ what, value });
    if (problem) throw new InputError(problem);
  }
  return {
    logs: cli.logs ?? [],
    from: cli.from ?? [],
    ...(cli.against?.length ? { against: cli.against } : {}),
    fromLimit: cli.fromLimit,
    tasks: cli.tasks,
    out: cli.out,
    models: cli.model ?? [],
    dataset: cli.dataset,
    subset: cli.subset,
    dateFrom: cli.dateFrom,
    dateTo: cli.dateTo,
    pattern: cli.pattern,
    limit: cli.limit,
    ...(cli.maxLogBytes !== undefined ? { maxLogBytes: cli.maxLogBytes } : {}),
    ...(cli.decontaminate !== undefined ? { decontaminate: cli.decontaminate } : {}),
    ...(cli.recipe !== undefined ? { recipe: resolveRecipe(cli.recipe) } : {}),
    ...(cli.recipeTimeout !== undefined ? { recipeTimeout: cli.recipeTimeout } : {}),
    ...(cli.balance !== undefined && (cli.balance === false || cli.recipe !== undefined) ? { balance: cli.balance } : {}),
    ...(cli.validationSize !== undefined ? { validationSize: cli.validationSize } : {}),
    ...(cli.pairs !== undefined ? { pairs: cli.pairs } : {}),
    ...(cli.pairsPerTask !== undefined ? { pairsPerTask: cli.pairsPerTask } : {}),
    validation: Boolean(cli.validation),
    format: cli.format,
    cleanCode: cli.cleanCode,
    transductionFilter: cli.transductionFilter,
    transductionAugment: cli.transduction === "augment",
    keepTestFailures: Boolean(cli.keepTestFailures),
    dropIdentity: Boolean(cli.dropIdentity),
    dropSingleColour: Boolean(cli.dropSingleColour),
    maxPerTask: cli.maxPerTask,
    select: cli.select ?? DEFAULT_BUILD_OPTIONS.select,
    dedup: cli.dedup,
    ...(cli.nearDedup !== undefined ? { nearDedup: cli.nearDedup } : {}),
    ...(cli.maxShardSize !== undefined ? { maxShardBytes: cli.maxShardSize } : {}),
    reasoning: Boolean(cli.reasoning),
    seed: cli.seed,
    generation: cli.generation,
    license: cli.license,
    limits: resolveSandboxLimits(cli),
  };
}

export async function runBuildCommand(cli: BuildCliOptions, title?: string): Promise<BuildManifest> {
  // The runtime's probe (a Python start of ~0.2 s) runs while the build's modules load: every
  // build keys its cache on the runtime's fingerprint. Docker probes its image instead.
  if (cli.executor !== "docker") findPython().catch(() => undefined);
  // Loaded when a build runs: --help and --version stay light.
  const [{ buildDataset, buildFolders, readFates }, { executorFactory }] = await Promise.all([
    import("../orchestrator/build-dataset.js"),
    import("./sandbox-executor.js"),
  ]);
  const executorFromOptions = await executorFactory(cli);
  const renderer = createProgressRenderer({ quiet: cli.quiet || cli.json });
  const options = toBuildOptions(cli);
  const manifest = await buildDataset({
    options,
    cacheDir: cli.cacheDir,
    fresh: cli.fresh,
    overwrite: cli.overwrite,
    allowSandboxFailures: cli.allowSandboxFailures,
    title,
    onEvent: renderer.onEvent,
    hub: { hubUrl: cli.hubUrl, token: tokenOf(cli), allowHttp: cli.allowHttp },
    createExecutor: (onEvent, seed) => executorFromOptions({ limits: options.limits, onEvent, seed, protect: buildFolders(options, cli.cacheDir) }),
  });
  if (cli.debug) process.stderr.write(`${debugReport({ manifest, fates: readFates(cli.out) })}\n`);
  if (cli.json) {
    const { logs: _logs, ...summary } = manifest;
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } else {
    process.stdout.write(`${manifest.summary.join("\n")}\n`);
    process.stdout.write(
      `wrote ${manifest.outputs.map((o) => `${cli.out}/${o.path}`).join(", ")}, ${cli.out}/manifest.json (fates.jsonl, tasks.jsonl beside it) and ${cli.out}/report.html\n`,
    );
    if (!manifest.attempts.adds_up) process.stdout.write("warning: the manifest's attempt fates do not add up; please report this\n");
  }
  return manifest;
}

/** Per task: every attempt with what became of it and why. */
export function debugReport(params: { manifest: BuildManifest; fates: Fate[] }): string {
  const { manifest } = params;
  const byTask = new Map<string, string[]>();
  for (const fate of params.fates) {
    const task = fate.task_id ? `${fate.dataset ? `${fate.dataset}/` : ""}${fate.task_id}` : "(task unknown)";
    const line = `  ${fate.attempt_id}: ${fate.fate}${fate.stage ? ` at ${fate.stage}` : ""}${fate.detail ? ` (${fate.detail})` : ""}`;
    byTask.set(task, [...(byTask.get(task) ?? []), line]);
  }
  const files = manifest.logs.filter((l) => !l.kept).map((l) => `  ${l.file}: ${l.reason}${l.detail ? ` (${l.detail})` : ""}`);
  return [
    ...[...byTask].sort(([a], [b]) => (a < b ? -1 : 1)).flatMap(([task, lines]) => [`task ${task}`, ...lines]),
    ...(files.length ? ["log files left out", ...files] : []),
  ].join("\n");
}

export function registerBuildCommand(program: Command): void {
  addBuildOptions(
    program
      .command("build")
      .description("run logs and program datasets -> verified, deduplicated, balanced, task-split dataset")
      .option("--logs <dir...>", "folders of run logs (searched recursively)")
      .option("--from <source...>", "program datasets: a Parquet file or folder, a built arcforge folder, or a Hub dataset owner/name[@revision][:split]")
      .option(
        "--against <source...>",
        "already published datasets (read as --from reads them): drop this build's programs they hold (already_published); they are not changed",
      )
      .option("--from-limit <n>", "read at most n rows of each --from source", integer),
  ).action(async (cli: BuildCliOptions) => {
    await runBuildCommand(cli);
    if (cli.push) await runPush(cli.out, cli);
  });
}
