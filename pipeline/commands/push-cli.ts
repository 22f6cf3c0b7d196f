import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import cliProgress from "cli-progress";
import { HubError } from "../common/errors.js";
import type { PushEvent } from "../hub/push-dataset.js";
import { resolveToken, tokenFiles } from "../hub/hub-token.js";
import { addHubOptions, type HubCliOptions } from "./hub-options.js";
import type { BuildManifest } from "../../schemas/build-manifest.js";

export interface PushCliOptions extends HubCliOptions {
  repo?: string;
  org?: string;
  private?: boolean;
  config?: string;
}

/**
 * `<org>/synth_<dataset>_<subset>_<YYYYMMDD_HHMMSS>`: the dataset and subset the build filtered on,
 * else the one the kept logs all name, else "mixed".
 */
export function defaultRepoName(params: { org: string; manifest: Pick<BuildManifest, "options" | "source">; now?: Date }): string {
  const stamp = (params.now ?? new Date()).toISOString().replace(/[-:]/g, "").replace("T", "_").slice(0, 15);
  const clean = (s: string) => s.replace(/[^\w.-]+/g, "-");
  const one = (filter: string | undefined, seen: string[]) => clean(filter ?? (seen.length === 1 ? seen[0]! : "mixed"));
  const { options, source } = params.manifest;
  return `${params.org}/synth_${one(options.dataset, source.datasets)}_${one(options.subset, source.subsets)}_${stamp}`;
}

/** Pushes a built folder, rendering upload progress; prints the dataset URL at the end. */
export async function runPush(dir: string, options: PushCliOptions): Promise<string> {
  const found = resolveToken(options);
  if (!found)
    throw new HubError(`no Hugging Face token: give --token, set HF_TOKEN, or log in with 'huggingface-cli login' (looked in ${tokenFiles().join(", ")})`);
  process.stderr.write(`using the Hugging Face token from ${found.source}\n`);
  const token = found.token;
  let repo = options.repo;
  if (!repo) {
    if (!options.org) throw new HubError("say where to push: --repo org/name, or --org org for the default name");
    const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as BuildManifest;
    repo = defaultRepoName({ org: options.org, manifest });
  }
  const bars = new cliProgress.MultiBar(
    { format: "  {file} [{bar}] {percentage}% {state}", hideCursor: true, clearOnComplete: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  const fileBars = new Map<string, cliProgress.SingleBar>();
  const onEvent = (event: PushEvent) => {
    if (event.type === "repo") process.stderr.write(`${event.created ? "created" : "using"} dataset repo ${event.repo}\n`);
    else if (event.type === "retry") process.stderr.write(`retrying after ${event.reason} (attempt ${event.attempt}, waiting ${event.delayMs} ms)\n`);
    else if (event.type === "conflict") process.stderr.write("someone committed meanwhile: retrying on the new head\n");
    else if (event.type === "delete") process.stderr.write(`deleting what an earlier build left: ${event.paths.join(", ")}\n`);
    else if (event.type === "landed") process.stderr.write(`the commit's answer was lost, but the Hub holds it (${event.commit}): not committing again\n`);
    else if (event.type === "file" && process.stderr.isTTY) {
      let bar = fileBars.get(event.path);
      if (!bar) fileBars.set(event.path, (bar = bars.create(100, 0, { file: event.path, state: event.state })));
      bar.update(Math.round(event.progress * 100), { state: event.state });
    }
  };
  try {
    const { pushDataset } = await import("../hub/push-dataset.js");
    const result = await pushDataset({
      dir,
      repo,
      token,
      private: options.private,
      config: options.config,
      hubUrl: options.hubUrl,
      allowHttp: options.allowHttp,
      onEvent,
    });
    bars.stop();
    process.stdout.write(
      result.upToDate
        ? `up to date: ${result.url} already holds this build (commit ${result.commit})\n`
        : `pushed ${dir} to ${result.url} (commit ${result.commit})\n`,
    );
    return result.url;
  } finally {
    bars.stop();
  }
}

export function registerPushCommand(program: Command): void {
  addHubOptions(
    program
      .command("push")
      .description("push a built dataset folder (README.md + data/) to the Hub in one commit")
      .argument("<built-dir>", "a folder written by arcforge build")
      .option("--repo <org/name>", "dataset repo (created if missing)")
      .option("--org <org>", "push to <org>/synth_<dataset>_<subset>_<YYYYMMDD_HHMMSS>")
      .option("--private", "create the repo private")
      .option("--config <name>", "push as one named config (data/<name>/), beside the repo's other configs: load_dataset(repo, name)"),
  ).action(async (dir: string, options: PushCliOptions) => {
    await runPush(dir, options);
  });
}
