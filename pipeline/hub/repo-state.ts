import { createHash } from "node:crypto";
import { type CommitOperation, listFiles } from "@huggingface/hub";
import { HubError } from "../common/errors.js";

type Credentials = { accessToken: string; hubUrl: string; fetch: typeof fetch };

/** The commit the repo's main branch points at. */
export async function headOf(params: { hubUrl: string; repo: string; token: string; fetch: typeof fetch }): Promise<string> {
  const response = await params.fetch(`${params.hubUrl}/api/datasets/${params.repo}/revision/main`, { headers: { Authorization: `Bearer ${params.token}` } });
  if (!response.ok) throw new HubError(`reading the head of ${params.repo} failed (HTTP ${response.status})`, response.status);
  return ((await response.json()) as { sha: string }).sha;
}

/** sha256 and git blob oid of a file's bytes (how the Hub identifies LFS and regular files), streamed. */
async function digests(content: Blob): Promise<{ sha256: string; gitOid: string }> {
  const sha = createHash("sha256");
  const git = createHash("sha1").update(`blob ${content.size}\0`);
  for await (const chunk of content.stream()) {
    sha.update(chunk);
    git.update(chunk);
  }
  return { sha256: sha.digest("hex"), gitOid: git.digest("hex") };
}

export type RemoteFiles = Map<string, { oid: string; lfs?: string }>;

export async function filesAt(params: { repo: string; revision: string; credentials: Credentials }): Promise<RemoteFiles> {
  const files: RemoteFiles = new Map();
  for await (const entry of listFiles({ repo: { type: "dataset", name: params.repo }, revision: params.revision, recursive: true, ...params.credentials })) {
    if (entry.type === "file") files.set(entry.path, { oid: entry.oid ?? "", lfs: entry.lfs?.oid });
  }
  return files;
}

const holds = async (found: { oid: string; lfs?: string } | undefined, content: Blob) => {
  if (!found) return false;
  const { sha256, gitOid } = await digests(content);
  return found.lfs === sha256 || found.oid === gitOid;
};

/**
 * The head already holds this build's data: the same card and data files, byte for byte, and no
 * other data file. Provenance (timings, where it was built) does not make a build another build.
 */
export async function sameData(params: { ours: CommitOperation[]; remote: RemoteFiles; dataPrefix: string }): Promise<boolean> {
  const data = params.ours.filter((o) => o.operation === "addOrUpdate" && (o.path === "README.md" || o.path.startsWith(params.dataPrefix)));
  const paths = new Set(data.map((o) => o.path));
  if ([...params.remote.keys()].some((path) => path.startsWith(params.dataPrefix) && !paths.has(path))) return false;
  for (const o of data) if (o.operation === "addOrUpdate" && !(await holds(params.remote.get(o.path), o.content as Blob))) return false;
  return true;
}

/**
 * After a failed commit: did it land anyway (its response lost on the way back)? It did when the
 * head moved off the parent we committed on and holds every file we sent, byte for byte.
 * Returns the head commit then, else null.
 */
export async function landed(params: { repo: string; parent: string; operations: CommitOperation[]; credentials: Credentials }): Promise<string | null> {
  const head = await headOf({ hubUrl: params.credentials.hubUrl, repo: params.repo, token: params.credentials.accessToken, fetch: params.credentials.fetch });
  if (head === params.parent) return null;
  const files = await filesAt({ repo: params.repo, revision: head, credentials: params.credentials });
  for (const operation of params.operations) {
    if (operation.operation === "delete" && files.has(operation.path)) return null;
    if (operation.operation === "addOrUpdate" && !(await holds(files.get(operation.path), operation.content as Blob))) return null;
  }
  return head;
}
