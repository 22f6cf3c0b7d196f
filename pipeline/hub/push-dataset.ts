import { commitIter, createRepo, HubApiError, repoExists, type CommitOperation } from "@huggingface/hub";
import { HubError } from "../common/errors.js";
import { configCard } from "./config-card.js";
import { checkAgainstManifest, datasetOperations, ownedBy } from "./dataset-files.js";
import { filesAt, headOf, landed, type RemoteFiles, sameData } from "./repo-state.js";
import { DEFAULT_HUB_URL, guardEndpoint } from "./endpoint-guard.js";
import { hubError, retryingFetch, type RetryOptions } from "./hub-fetch.js";

export { DEFAULT_HUB_URL };

export type PushEvent =
  | { type: "repo"; created: boolean; repo: string }
  | { type: "phase"; phase: "preuploading" | "uploadingLargeFiles" | "committing" }
  | { type: "file"; path: string; progress: number; state: "hashing" | "uploading" | "error" }
  | { type: "retry"; reason: string; attempt: number; delayMs: number }
  | { type: "conflict"; attempt: number }
  | { type: "landed"; commit: string }
  | { type: "delete"; paths: string[] }
  | { type: "up-to-date"; commit: string };

export interface PushParams {
  /** A folder written by `arcforge build`: README.md and data/. */
  dir: string;
  repo: string;
  token: string;
  private?: boolean;
  hubUrl?: string;
  commitTitle?: string;
  /** Push as this named config of the repo (data/<config>/, provenance under <config>/), beside its other configs. */
  config?: string;
  /** Send the token over plain http to a host other than this machine. */
  allowHttp?: boolean;
  fetch?: typeof fetch;
  retry?: Partial<Omit<RetryOptions, "fetch" | "onRetry">>;
  onEvent?: (event: PushEvent) => void;
}

/**
 * Creates the dataset repo if it is missing, then pushes the card and the splits in ONE commit
 * on the head it read: a push that fails leaves the repo at its previous revision, and a
 * conflict (412: someone committed meanwhile) is retried on the new head.
 */
export async function pushDataset(params: PushParams): Promise<{ url: string; commit: string; upToDate?: boolean }> {
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
  if (params.config !== undefined && (!/^[\w.-]+$/.test(params.config) || params.config === "default" || params.config === "data"))
    throw new HubError(`config '${params.config}' cannot be used: a config name is letters, digits, '.', '_' or '-', and not 'default' or 'data'`);
  const built = await datasetOperations(params.dir, { repo: params.repo, config: params.config });
  const owned = ownedBy(params.config);
  let created = false;

  try {
    if (!(await repoExists({ repo, ...credentials }))) {
      created = true;
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
    const remote = await filesAt({ repo: params.repo, revision: head, credentials });
    const ours = params.config
      ? await withConfigCard({ operations: built, config: params.config, remote, head, hubUrl, repo: params.repo, token: params.token, fetch: fetchWithRetry })
      : built;
    if (!created && (await sameData({ ours, remote, dataPrefix: params.config ? `data/${params.config}/` : "data/" }))) {
      emit({ type: "up-to-date", commit: head });
      return { url: `${hubUrl}/datasets/${params.repo}`, commit: head, upToDate: true };
    }
    // The repo holds exactly this build: what an earlier build left under arcforge's paths goes.
    const kept = new Set(ours.map((o) => o.path));
    const deletes = [...remote.keys()].filter((path) => owned(path) && !kept.has(path)).sort();
    if (deletes.length) emit({ type: "delete", paths: deletes });
    const operations: CommitOperation[] = [...ours, ...deletes.map((path) => ({ operation: "delete" as const, path }))];
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

/** The operations with the card merged into the repo's: this config's entry added or replaced, the rest kept. */
async function withConfigCard(params: {
  operations: CommitOperation[];
  config: string;
  remote: RemoteFiles;
  head: string;
  hubUrl: string;
  repo: string;
  token: string;
  fetch: typeof fetch;
}): Promise<CommitOperation[]> {
  let remoteCard: string | undefined;
  if (params.remote.has("README.md")) {
    const response = await params.fetch(`${params.hubUrl}/datasets/${params.repo}/resolve/${params.head}/README.md`, {
      headers: { Authorization: `Bearer ${params.token}` },
    });
    if (!response.ok) throw new HubError(`reading the card of ${params.repo} failed (HTTP ${response.status})`, response.status);
    remoteCard = await response.text();
  }
  return Promise.all(
    params.operations.map(async (o) =>
      o.operation === "addOrUpdate" && o.path === "README.md"
        ? { ...o, content: new Blob([configCard({ ours: await (o.content as Blob).text(), remote: remoteCard, config: params.config })]) }
        : o,
    ),
  );
}
