import { existsSync, statSync } from "node:fs";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import { downloadFile, listFiles } from "@huggingface/hub";
import { HubError, InputError } from "../common/errors.js";
import { hubError } from "../hub/hub-fetch.js";

export interface SplitFiles {
  split: string;
  /** Local Parquet shards, in name order. */
  files: string[];
}

/**
 * The split a shard belongs to, from the Hub's naming conventions:
 * `data/train-00000-of-00002.parquet`, `train/0000.parquet`, `default/validation/0.parquet`.
 */
export function splitOf(path: string): string {
  const name = basename(path).replace(/\.parquet$/, "");
  const prefix = /^([a-z]+)(?:[-_.]|$)/.exec(name)?.[1];
  if (prefix && ["train", "validation", "test", "valid", "dev", "eval"].includes(prefix)) return prefix;
  const folder = basename(dirname(path));
  return folder && folder !== "data" && folder !== "." ? folder : "train";
}

function group(paths: string[]): SplitFiles[] {
  const splits = new Map<string, string[]>();
  for (const path of [...paths].sort()) splits.set(splitOf(path), [...(splits.get(splitOf(path)) ?? []), path]);
  return [...splits].map(([split, files]) => ({ split, files }));
}

/** A local Parquet file, a local folder, or a Hub dataset repo (downloaded into `workDir`). */
export async function resolveDataset(params: { target: string; workDir: string; hubUrl: string; token?: string; fetch?: typeof fetch }): Promise<SplitFiles[]> {
  const { target } = params;
  if (existsSync(target)) {
    if (statSync(target).isFile()) return [{ split: splitOf(target), files: [target] }];
    const entries = await readdir(target, { recursive: true, withFileTypes: true });
    const files = entries.filter((e) => e.isFile() && e.name.endsWith(".parquet")).map((e) => join(e.parentPath, e.name));
    if (files.length === 0) throw new InputError(`${target} holds no .parquet files`);
    return group(files);
  }
  if (!/^[\w.-]+\/[\w.-]+$/.test(target)) throw new InputError(`'${target}' is neither a local file or folder nor a Hub dataset id (org/name)`);
  const repo = { type: "dataset" as const, name: target };
  const credentials = { hubUrl: params.hubUrl, accessToken: params.token, fetch: params.fetch };
  const remote: string[] = [];
  try {
    for await (const entry of listFiles({ repo, recursive: true, ...credentials })) {
      if (entry.type === "file" && entry.path.endsWith(".parquet")) remote.push(entry.path);
    }
  } catch (error) {
    throw hubError(`listing the files of ${target} on ${params.hubUrl}`, error, params.token);
  }
  if (remote.length === 0) throw new HubError(`${target} on ${params.hubUrl} holds no .parquet files`);
  const local: string[] = [];
  for (const path of remote.sort()) {
    const blob = await downloadFile({ repo, path, ...credentials }).catch((error: unknown) => {
      throw hubError(`downloading ${path} of ${target}`, error, params.token);
    });
    if (!blob) throw new HubError(`${path} of ${target} disappeared while downloading`);
    const destination = join(params.workDir, relative(".", path));
    await mkdir(dirname(destination), { recursive: true });
    await writeFile(destination, new Uint8Array(await blob.arrayBuffer()));
    local.push(destination);
  }
  return group(local);
}
