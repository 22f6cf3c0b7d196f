import { existsSync, openAsBlob, statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { listFiles } from "@huggingface/hub";
import { HubError, InputError } from "../common/errors.js";
import { guardEndpoint } from "../hub/endpoint-guard.js";
import { hubError } from "../hub/hub-fetch.js";
import { RangeBlob, type TransferMeter } from "../hub/range-blob.js";
import { cardConfigFiles } from "./card-configs.js";
import type { BlobLike } from "../parquet/held-blob.js";

/** One Parquet file of a dataset, opened only when read. */
export interface Shard {
  split: string;
  /** Path inside the folder or repo. */
  path: string;
  open(): Promise<BlobLike>;
  /** What identifies its content for cache keys: a Hub LFS oid, or size and mtime of a local file. */
  identity: string;
}

export interface DatasetShards {
  /** The source as the user named it, without a split suffix: part of every row's id. */
  source: string;
  /** The Hub commit read (a Hub source), so the same name at another time is another input. */
  revision?: string;
  shards: Shard[];
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

/** `owner/name[@revision][:split]`, or null when the target is not of that form. */
export function parseHubTarget(target: string): { repo: string; revision: string; split?: string } | null {
  const m = /^([\w.-]+\/[\w.-]+)(?:@([\w.\-/]+?))?(?::([\w-]+))?$/.exec(target);
  return m ? { repo: m[1]!, revision: m[2] ?? "main", ...(m[3] ? { split: m[3] } : {}) } : null;
}

/**
 * The Parquet shards of a local file, a local folder (a built arcforge dataset reads its data/),
 * or a Hub dataset repo: listed, never downloaded whole; a shard's bytes are read when its rows are.
 */
export async function datasetShards(params: {
  target: string;
  hubUrl: string;
  token?: string;
  allowHttp?: boolean;
  fetch?: typeof fetch;
  meter?: TransferMeter;
}): Promise<DatasetShards> {
  const { target } = params;
  const local = target.replace(/\/+$/, "");
  if (existsSync(local)) {
    const stat = statSync(local);
    const files = stat.isFile() ? [local] : await parquetFilesIn(existsSync(join(local, "manifest.json")) ? join(local, "data") : local);
    if (files.length === 0) throw new InputError(`${target} holds no .parquet files`);
    return {
      source: local,
      shards: files.map((file) => ({
        split: splitOf(file),
        path: file,
        identity: `${statSync(file).size}:${statSync(file).mtimeMs}`,
        open: () => openAsBlob(file),
      })),
    };
  }
  const hub = parseHubTarget(target);
  if (!hub) throw new InputError(`'${target}' is neither a local file or folder nor a Hub dataset (owner/name[@revision][:split])`);
  guardEndpoint({ url: params.hubUrl, token: params.token, allowHttp: params.allowHttp });
  const fetchImpl = params.fetch ?? fetch;
  const headers: Record<string, string> = params.token ? { Authorization: `Bearer ${params.token}` } : {};
  const info = await fetchImpl(`${params.hubUrl}/api/datasets/${hub.repo}/revision/${encodeURIComponent(hub.revision)}`, { headers });
  if (!info.ok)
    throw new HubError(
      `reading ${hub.repo}@${hub.revision} on ${params.hubUrl} failed (HTTP ${info.status})${info.status === 401 || info.status === 404 ? ": check the name, the revision and your token" : ""}`,
      info.status,
    );
  const sha = ((await info.json()) as { sha: string }).sha;
  const entries: { path: string; oid: string }[] = [];
  let hasCard = false;
  try {
    for await (const entry of listFiles({
      repo: { type: "dataset", name: hub.repo },
      revision: sha,
      recursive: true,
      hubUrl: params.hubUrl,
      accessToken: params.token,
      fetch: params.fetch,
    })) {
      if (entry.type === "file" && entry.path.endsWith(".parquet")) entries.push({ path: entry.path, oid: entry.lfs?.oid ?? entry.oid ?? "" });
      if (entry.type === "file" && entry.path === "README.md") hasCard = true;
    }
  } catch (error) {
    throw hubError(`listing the files of ${hub.repo} on ${params.hubUrl}`, error, params.token);
  }
  const resolveUrl = (path: string) => `${params.hubUrl}/datasets/${hub.repo}/resolve/${sha}/${path.split("/").map(encodeURIComponent).join("/")}`;
  // The card's configs say which files are the dataset: a stray file elsewhere in the repo is not read.
  const card = hasCard ? await fetchImpl(resolveUrl("README.md"), { headers }) : undefined;
  const configs = card?.ok ? cardConfigFiles(await card.text()) : null;
  const splitIn = (path: string) => (configs ? configs.splits.find((s) => s.patterns.some((p) => p.test(path)))?.split : splitOf(path));
  const shards = entries
    .sort((a, b) => (a.path < b.path ? -1 : 1))
    .flatMap((e) => {
      const split = splitIn(e.path);
      return split === undefined ? [] : [{ ...e, split }];
    })
    .map((e) => ({
      split: e.split,
      path: e.path,
      identity: e.oid,
      open: () =>
        RangeBlob.open({
          url: resolveUrl(e.path),
          headers,
          fetch: params.fetch,
          meter: params.meter,
        }),
    }))
    .filter((s) => !hub.split || s.split === hub.split);
  if (shards.length === 0)
    throw new HubError(
      `${hub.repo}@${hub.revision} on ${params.hubUrl} holds no .parquet files${hub.split ? ` of split ${hub.split}` : ""}${configs ? ` in the data files its card's config ${configs.config} declares` : ""}`,
    );
  return { source: `${hub.repo}${hub.revision === "main" ? "" : `@${hub.revision}`}`, revision: sha, shards };
}

async function parquetFilesIn(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".parquet"))
    .map((e) => resolve(join(e.parentPath, e.name)))
    .sort();
}
