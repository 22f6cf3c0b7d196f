import { existsSync, openAsBlob } from "node:fs";
import { readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { commitIter, createRepo, HubApiError, repoExists, type CommitOperation } from "@huggingface/hub";
import { HubError } from "../common/errors.js";
import { hubError, retryingFetch, type RetryOptions } from "./hub-fetch.js";

export const DEFAULT_HUB_URL = "https://huggingface.co";

export type PushEvent =
  | { type: "repo"; created: boolean; repo: string }
  | { type: "phase"; phase: "preuploading" | "uploadingLargeFiles" | "committing" }
  | { type: "file"; path: string; progress: number; state: "hashing" | "uploading" | "error" }
  | { type: "retry"; reason: string; attempt: number; delayMs: number }
  | { type: "conflict"; attempt: number };

export interface PushParams {
  /** A folder written by `arcforge build`: README.md and data/. */
  dir: string;
  repo: string;
  token: string;
  private?: boolean;
  hubUrl?: string;
  commitTitle?: string;
  fetch?: typeof fetch;
  retry?: Partial<Omit<RetryOptions, "fetch" | "onRetry">>;
  onEvent?: (event: PushEvent) => void;
}

/** The card, the build report (when there is one) and every split file of a built dataset, as one commit's operations. */
export async function datasetOperations(dir: string): Promise<CommitOperation[]> {
  const entries = await readdir(join(dir, "data"), { recursive: true, withFileTypes: true }).catch(() => {
    throw new HubError(`${dir} has no data/ folder: push a folder written by 'arcforge build'`);
  });
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
  if (files.length === 0) throw new HubError(`${dir}/data holds no split files`);
  const operations: CommitOperation[] = [];
  const report = join(dir, "report.html");
  for (const path of [join(dir, "README.md"), ...(existsSync(report) ? [report] : []), ...files]) {
    operations.push({ operation: "addOrUpdate", path: relative(dir, path), content: await openAsBlob(path) });
  }
  return operations;
}

/**
 * Creates the dataset repo if it is missing, then pushes the card and the splits in ONE commit
 * on the head it read: a push that fails leaves the repo at its previous revision, and a
 * conflict (412: someone committed meanwhile) is retried on the new head.
 */
export async function pushDataset(params: PushParams): Promise<{ url: string; commit: string }> {
  if (!params.token.startsWith("hf_")) throw new HubError("the token must start with hf_ (give --token or set HF_TOKEN)");
  if (!/^[\w.-]+\/[\w.-]+$/.test(params.repo)) throw new HubError(`repo '${params.repo}' is not of the form org/name`);
  const hubUrl = (params.hubUrl ?? DEFAULT_HUB_URL).replace(/\/$/, "");
  const emit = params.onEvent ?? (() => undefined);
  const fetchWithRetry = retryingFetch({
    attempts: params.retry?.attempts ?? 5,
    baseDelayMs: params.retry?.baseDelayMs ?? 500,
    fetch: params.fetch,
    onRetry: (r) => emit({ type: "retry", reason: r.reason, attempt: r.attempt, delayMs: r.delayMs }),
  });
  const repo = { type: "dataset" as const, name: params.repo };
  const credentials = { accessToken: params.token, hubUrl, fetch: fetchWithRetry };
  const operations = await datasetOperations(params.dir);

  try {
    if (!(await repoExists({ repo, ...credentials }))) {
      await createRepo({ repo, private: params.private ?? false, ...credentials }).catch((error: unknown) => {
        if (!(error instanceof HubApiError && error.statusCode === 409)) throw error;
      });
      emit({ type: "repo", created: true, repo: params.repo });
    } else {
      emit({ type: "repo", created: false, repo: params.repo });
    }
  } catch (error) {
    throw hubError(`creating dataset repo ${params.repo} on ${hubUrl}`, error, params.token);
  }

  for (let attempt = 1; ; attempt++) {
    const head = await headOf({ hubUrl, repo: params.repo, token: params.token, fetch: fetchWithRetry });
    try {
      const iterator = commitIter({ repo, operations, title: params.commitTitle ?? "Upload dataset built by arcforge", parentCommit: head, useXet: false, ...credentials });
      let next = await iterator.next();
      while (!next.done) {
        const event = next.value;
        if (event.event === "phase") emit({ type: "phase", phase: event.phase });
        else emit({ type: "file", path: event.path, progress: event.progress, state: event.state });
        next = await iterator.next();
      }
      const oid = next.value?.commit.oid;
      if (!oid) throw new HubError(`the Hub accepted the commit to ${params.repo} but returned no commit id`);
      return { url: `${hubUrl}/datasets/${params.repo}`, commit: oid };
    } catch (error) {
      if (error instanceof HubApiError && error.statusCode === 412 && attempt < 4) {
        emit({ type: "conflict", attempt });
        continue;
      }
      throw hubError(`committing to ${params.repo}`, error, params.token);
    }
  }
}

async function headOf(params: { hubUrl: string; repo: string; token: string; fetch: typeof fetch }): Promise<string> {
  const response = await params.fetch(`${params.hubUrl}/api/datasets/${params.repo}/revision/main`, { headers: { Authorization: `Bearer ${params.token}` } });
  if (!response.ok) throw new HubError(`reading the head of ${params.repo} failed (HTTP ${response.status})`, response.status);
  return ((await response.json()) as { sha: string }).sha;
}
