import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from "node:fs";
import { join } from "node:path";

export interface FileEntry {
  /** The git blob id: of the content, or of the LFS pointer for LFS files. */
  oid: string;
  size: number;
  /** sha256 of the content: the key of the object store. */
  sha256: string;
  lfs?: { oid: string; size: number; pointerSize: number };
}

export interface Commit {
  oid: string;
  parent: string | null;
  summary: string;
  date: string;
  files: Record<string, FileEntry>;
}

export interface Repo {
  id: string;
  type: "dataset" | "model" | "space";
  private: boolean;
  commits: Commit[];
}

const GITATTRIBUTES = "*.parquet filter=lfs diff=lfs merge=lfs -text\n*.arrow filter=lfs diff=lfs merge=lfs -text\n";

export const gitBlobOid = (data: Uint8Array) => createHash("sha1").update(`blob ${data.length}\0`).update(data).digest("hex");
export const sha256Hex = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

export function lfsPointer(sha256: string, size: number): string {
  return `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${size}\n`;
}

/** Repos with real revisions and a content-addressed object store, persisted under `dir`. */
export class RepoStore {
  private repos = new Map<string, Repo>();
  private readonly objects: string;
  private readonly statePath: string;

  constructor(dir: string) {
    this.objects = join(dir, "objects");
    this.statePath = join(dir, "state.json");
    mkdirSync(this.objects, { recursive: true });
    if (existsSync(this.statePath)) {
      for (const repo of JSON.parse(readFileSync(this.statePath, "utf8")) as Repo[]) this.repos.set(`${repo.type}/${repo.id}`, repo);
    }
  }

  private save(): void {
    const tmp = `${this.statePath}.tmp`;
    writeFileSync(tmp, JSON.stringify([...this.repos.values()]));
    renameSync(tmp, this.statePath);
  }

  get(type: string, id: string): Repo | undefined {
    return this.repos.get(`${type}/${id}`);
  }

  create(type: Repo["type"], id: string, isPrivate: boolean): Repo {
    const content = Buffer.from(GITATTRIBUTES);
    const sha = this.putObject(content);
    const repo: Repo = { id, type, private: isPrivate, commits: [] };
    repo.commits.push(this.makeCommit(null, "initial commit", { ".gitattributes": { oid: gitBlobOid(content), size: content.length, sha256: sha } }));
    this.repos.set(`${type}/${id}`, repo);
    this.save();
    return repo;
  }

  head(repo: Repo): Commit {
    return repo.commits[repo.commits.length - 1]!;
  }

  /** main, HEAD or a commit id (full or at least 7 characters). */
  resolve(repo: Repo, revision: string): Commit | undefined {
    if (revision === "main" || revision === "HEAD") return this.head(repo);
    if (/^[0-9a-f]{7,40}$/.test(revision)) return repo.commits.find((c) => c.oid.startsWith(revision));
    return undefined;
  }

  putObject(data: Uint8Array): string {
    const sha = sha256Hex(data);
    const path = join(this.objects, sha);
    if (!existsSync(path)) writeFileSync(path, data);
    return sha;
  }

  hasObject(sha: string): boolean {
    return existsSync(join(this.objects, sha));
  }

  readObject(sha: string): Buffer {
    return readFileSync(join(this.objects, sha));
  }

  commit(repo: Repo, summary: string, changes: { add: Record<string, FileEntry>; remove: string[] }): Commit {
    const files = { ...this.head(repo).files, ...changes.add };
    for (const path of changes.remove) delete files[path];
    const commit = this.makeCommit(this.head(repo).oid, summary, files);
    repo.commits.push(commit);
    this.save();
    return commit;
  }

  private makeCommit(parent: string | null, summary: string, files: Record<string, FileEntry>): Commit {
    const oid = createHash("sha1")
      .update(JSON.stringify({ parent, summary, files, salt: randomBytes(8).toString("hex") }))
      .digest("hex");
    return { oid, parent, summary, date: new Date().toISOString(), files };
  }
}
