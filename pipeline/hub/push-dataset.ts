import { createHash } from "node:crypto";
import { existsSync, openAsBlob, readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join, relative } from "node:path";
import { commitIter, createRepo, HubApiError, listFiles, repoExists, type CommitOperation } from "@huggingface/hub";
import { HubError } from "../common/errors.js";
import { fileSha256, sha256 } from "../common/sha256.js";
import { DEFAULT_HUB_URL, guardEndpoint } from "./endpoint-guard.js";
import { hubError, retryingFetch, type RetryOptions } from "./hub-fetch.js";

export { DEFAULT_HUB_URL };

export type PushEvent =
  | { type: "repo"; created: boolean; repo: string }
  | { type: "phase"; phase: "preuploading" | "uploadingLargeFiles" | "committing" }
  | { type: "file"; path: string; progress: number; state: "hashing" | "uploading" | "error" }
  | { type: "retry"; reason: string; attempt: number; delayMs: number }
  | { type: "conflict"; attempt: number }
  | { type: "landed"; commit: string };

export interface PushParams {
  /** A folder written by `arcforge build`: README.md and data/. */
  dir: string;
  repo: string;
  token: string;
  private?: boolean;
  hubUrl?: string;
  commitTitle?: string;
  /** Send the token over plain http to a host other than this machine. */
  allowHttp?: boolean;
  fetch?: typeof fetch;
  retry?: Partial<Omit<RetryOptions, "fetch" | "onRetry">>;
  onEvent?: (event: PushEvent) => void;
}

/**
 * A built folder must be what its manifest says it wrote: a split file changed or replaced since
 * the build is not pushed under that build's card.
 */
export async function checkAgainstManifest(dir: string): Promise<void> {
  const path = join(dir, "manifest.json");
  if (!existsSync(path)) throw new HubError(`${dir} has no manifest.json: push a folder written by 'arcforge build'`);
  const manifest = JSON.parse(readFileSync(path, "utf8")) as { outputs: { path: string; sha256: string }[] };
  const listed = new Set(manifest.outputs.map((o) => o.path));
  for (const output of manifest.outputs) {
    const file = join(dir, output.path);
    if (!existsSync(file)) throw new HubError(`${dir}/${output.path} is missing: the folder is not what its manifest.json says was built`);
    const digest = await fileSha256(file);
    if (digest !== output.sha256)
      throw new HubError(
        `${dir}/${output.path} differs from the file the build wrote (sha256 ${digest.slice(0, 12)}, manifest ${output.sha256.slice(0, 12)}): rebuild it, or push the folder the build wrote`,
      );
  }
  const extra = (await readdir(join(dir, "data"), { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .filter((p) => !listed.has(p));
  if (extra.length) throw new HubError(`${dir} holds split files its manifest.json does not list: ${extra.join(", ")}`);
}

/** The card, the build report (when there is one) and every split file of a built dataset, as one commit's operations. */
export async function datasetOperations(dir: string): Promise<CommitOperation[]> {
  const entries = await readdir(join(dir, "data"), { recursive: true, withFileTypes: true }).catch(() => {
    throw new HubError(`${dir} has no data/ folder: push a folder written by 'arcforge build'`);
  });
  const files = entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
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
  guardEndpoint({ url: hubUrl, token: params.token, allowHttp: params.allowHttp });
  await checkAgainstManifest(params.dir);
  const emit = params.onEvent ?? (() => undefined);
  const fetchWithRetry = retryingFetch({
    attempts: params.retry?.attempts ?? 5,
    baseDelayMs: params.retry?.baseDelayMs ?? 500,
    fetch: params.fetch,
    onRetry: (r) => emit({ type: "retry", reason: r.reason, attempt: r.attempt, delayMs: r.delayMs }),
    // A commit whose answer is lost may have been applied: never re-send it blindly (see landed()).
    resendAfterNetworkError: (url, init) => !(init?.method === "POST" && /\/commit\//.test(url)),
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
      const iterator = commitIter({
        repo,
        operations,
        title: params.commitTitle ?? "Upload dataset built by arcforge",
        parentCommit: head,
        useXet: false,
        ...credentials,
      });
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
      const ours = await landed({ repo: params.repo, parent: head, operations, credentials }).catch(() => null);
      if (ours) {
        emit({ type: "landed", commit: ours });
        return { url: `${hubUrl}/datasets/${params.repo}`, commit: ours };
      }
      if (error instanceof HubApiError && error.statusCode === 412 && attempt < 4) {
        emit({ type: "conflict", attempt });
        continue;
      }
      // The connection failed and the commit did not land: commit again on the head as it is now.
      if (!(error instanceof HubApiError) && attempt < 4) {
        emit({ type: "retry", reason: (error as Error).message, attempt, delayMs: 0 });
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

/** sha256 and git blob oid of a file's bytes: how the Hub identifies LFS and regular files. */
async function digests(content: Blob): Promise<{ sha256: string; gitOid: string }> {
  const bytes = new Uint8Array(await content.arrayBuffer());
  const gitOid = createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
  return { sha256: sha256(bytes), gitOid };
}

/**
 * After a failed commit: did it land anyway (its response lost on the way back)? It did when the
 * head moved off the parent we committed on and holds every file we sent, byte for byte.
 * Returns the head commit then, else null.
 */
async function landed(params: {
  repo: string;
  parent: string;
  operations: CommitOperation[];
  credentials: { accessToken: string; hubUrl: string; fetch: typeof fetch };
}): Promise<string | null> {
  const head = await headOf({ hubUrl: params.credentials.hubUrl, repo: params.repo, token: params.credentials.accessToken, fetch: params.credentials.fetch });
  if (head === params.parent) return null;
  const files = new Map<string, { oid: string; lfs?: string }>();
  for await (const entry of listFiles({ repo: { type: "dataset", name: params.repo }, revision: head, recursive: true, ...params.credentials })) {
    files.set(entry.path, { oid: entry.oid ?? "", lfs: entry.lfs?.oid });
  }
  for (const operation of params.operations) {
    if (operation.operation !== "addOrUpdate") continue;
    const found = files.get(operation.path);
    const { sha256, gitOid } = await digests(operation.content as Blob);
    if (!found || (found.lfs !== sha256 && found.oid !== gitOid)) return null;
  }
  return head;
}
