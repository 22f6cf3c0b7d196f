import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gitBlobOid, lfsPointer, RepoStore, sha256Hex, type FileEntry, type Repo } from "./repo-store.js";

/** A fault to inject: the next `times` requests matching method and path get it. */
export interface Fault {
  method?: string;
  path: RegExp;
  /** "drop": the connection is cut before the request is handled; "drop-after": handled (a commit applied), then cut before the answer. */
  status: 429 | 500 | 503 | 412 | "drop" | "drop-after";
  times: number;
  /** Matching requests let through before the fault starts (default 0). */
  skip?: number;
}

export interface HubEmulator {
  url: string;
  store: RepoStore;
  faults: Fault[];
  /** Every request seen, as "METHOD path" with its headers (to check what clients send). */
  requests: { method: string; path: string; headers: IncomingMessage["headers"] }[];
  /** Bytes of file content served by resolve (GET), per repo path: what a streaming reader transferred. */
  served: Map<string, number>;
  /** Bytes of LFS objects received (uploads the Hub kept), over the emulator's life. */
  lfs: { bytes: number };
  close(): Promise<void>;
}

const TYPES: Record<string, Repo["type"]> = { datasets: "dataset", models: "model", spaces: "space" };
/** Files above this size, and every Parquet or Arrow file, go through LFS as on the real Hub. */
const LFS_MIN_SIZE = 10 * 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * A local Hugging Face Hub that the real clients (@huggingface/hub, huggingface_hub with
 * HF_HUB_DISABLE_XET=1, datasets) accept: repos, revisions, trees, preupload, LFS batch and
 * upload, NDJSON commits, resolve with Range. Test support only.
 */
export async function startHubEmulator(params: { dataDir: string; port?: number; log?: (line: string) => void }): Promise<HubEmulator> {
  const store = new RepoStore(params.dataDir);
  const faults: Fault[] = [];
  const requests: HubEmulator["requests"] = [];
  const served = new Map<string, number>();
  const lfs = { bytes: 0 };
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const e = error instanceof HttpError ? error : new HttpError(500, (error as Error).message);
      if (!res.headersSent) {
        res.writeHead(e.status, { "Content-Type": "application/json", ...(e.code ? { "X-Error-Code": e.code } : {}) });
      }
      res.end(JSON.stringify({ error: e.message }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = decodeURIComponent(url.pathname);
    requests.push({ method: req.method ?? "GET", path: url.pathname + url.search, headers: req.headers });
    params.log?.(`${req.method} ${url.pathname}${url.search}`);
    let fault = faults.find((f) => f.times > 0 && (!f.method || f.method === req.method) && f.path.test(url.pathname));
    if (fault?.skip) {
      fault.skip--;
      fault = undefined;
    }
    if (fault?.status === "drop-after") {
      fault.times--;
      // Handle it for real, then cut the connection instead of answering.
      res.writeHead = (() => res) as unknown as typeof res.writeHead;
      res.end = (() => {
        req.socket.destroy();
        return res;
      }) as unknown as typeof res.end;
    } else if (fault) {
      fault.times--;
      await body(req);
      if (fault.status === "drop") return void req.socket.destroy();
      throw new HttpError(fault.status, `injected fault ${fault.status}`, fault.status === 412 ? "PreconditionFailed" : undefined);
    }
    const base = `http://${req.headers.host}`;
    let m: RegExpExecArray | null;

    if (req.method === "POST" && path === "/api/repos/create") {
      auth(req);
      const b = JSON.parse((await body(req)).toString()) as { name: string; organization?: string; type?: string; private?: boolean; visibility?: string };
      const id = b.organization ? `${b.organization}/${b.name}` : b.name.includes("/") ? b.name : `user/${b.name}`;
      const type = (b.type ?? "model") as Repo["type"];
      if (store.get(type, id)) throw new HttpError(409, "You already created this repo", "RepoExists");
      // huggingface_hub sends `private`, @huggingface/hub sends `visibility`.
      store.create(type, id, Boolean(b.private) || b.visibility === "private");
      return json(res, 200, { url: `${base}/${type === "model" ? "" : `${type}s/`}${id}`, id, name: id });
    }
    if (path === "/api/whoami-v2") {
      auth(req);
      return json(res, 200, { type: "user", name: "user", fullname: "Emulated User", orgs: [], auth: { accessToken: { role: "write" } } });
    }
    if (path === "/api/validate-yaml") return json(res, 200, { errors: [], warnings: [] });
    if (path === "/api/agent-harnesses") throw new HttpError(404, "Not found", "EntryNotFound");

    if ((m = /^\/api\/(datasets|models|spaces)\/([^/]+\/[^/]+)(?:\/(.*))?$/.exec(path))) {
      const [, typeSegment, id, rest = ""] = m;
      const repo = repoOrThrow(req, TYPES[typeSegment!]!, id!);
      if (rest === "") return json(res, 200, repoInfo(repo, store.head(repo)));
      if ((m = /^revision\/(.+)$/.exec(rest))) return json(res, 200, repoInfo(repo, commitOrThrow(repo, m[1]!)));
      if ((m = /^tree\/([^/]+)(?:\/(.*))?$/.exec(rest)))
        return json(
          res,
          200,
          tree(commitOrThrow(repo, m[1]!), m[2] ?? "", url.searchParams.get("recursive") === "true" || url.searchParams.get("recursive") === "1"),
        );
      if (req.method === "POST" && (m = /^paths-info\/(.+)$/.exec(rest)))
        return json(res, 200, pathsInfo(commitOrThrow(repo, m[1]!), await body(req), req.headers["content-type"] ?? ""));
      if (req.method === "POST" && (m = /^preupload\/(.+)$/.exec(rest))) {
        auth(req);
        const b = JSON.parse((await body(req)).toString()) as { files: { path: string; size: number }[] };
        return json(res, 200, { files: b.files.map((f) => ({ path: f.path, uploadMode: isLfs(f.path, f.size) ? "lfs" : "regular", shouldIgnore: false })) });
      }
      if (req.method === "POST" && (m = /^commit\/(.+)$/.exec(rest))) {
        auth(req);
        return json(res, 200, commit(repo, commitOrThrow(repo, m[1]!), await body(req), base));
      }
      throw new HttpError(404, `no route for ${path}`, "EntryNotFound");
    }

    if (req.method === "POST" && (m = /^\/(?:(datasets|spaces)\/)?([^/]+\/[^/]+)\.git\/info\/lfs\/objects\/batch$/.exec(path))) {
      auth(req);
      repoOrThrow(req, TYPES[m[1] ?? "models"]!, m[2]!);
      const b = JSON.parse((await body(req)).toString()) as { objects: { oid: string; size: number }[] };
      const objects = b.objects.map((o) =>
        store.hasObject(o.oid)
          ? { oid: o.oid, size: o.size }
          : { oid: o.oid, size: o.size, authenticated: true, actions: { upload: { href: `${base}/lfs-upload/${o.oid}`, header: {} } } },
      );
      res.setHeader("Content-Type", "application/vnd.git-lfs+json");
      return json(res, 200, { transfer: "basic", objects });
    }
    if (req.method === "PUT" && (m = /^\/lfs-upload\/([0-9a-f]{64})$/.exec(path))) {
      const data = await body(req);
      if (sha256Hex(data) !== m[1]) throw new HttpError(400, "uploaded bytes do not match their sha256");
      store.putObject(data);
      lfs.bytes += data.length;
      return json(res, 200, {});
    }
    if ((m = /^\/(?:(datasets|spaces)\/)?([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path)) && (req.method === "GET" || req.method === "HEAD")) {
      const repo = repoOrThrow(req, TYPES[m[1] ?? "models"]!, m[2]!);
      const commitFound = commitOrThrow(repo, m[3]!);
      const entry = commitFound.files[m[4]!];
      if (!entry) throw new HttpError(404, `Entry not found: ${m[4]}`, "EntryNotFound");
      const filePath = m[4]!;
      return resolveFile(req, res, commitFound.oid, entry, (n) => served.set(filePath, (served.get(filePath) ?? 0) + n));
    }
    throw new HttpError(404, `no route for ${req.method} ${path}`, "RepoNotFound");
  }

  function auth(req: IncomingMessage): void {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (!token?.startsWith("hf_")) throw new HttpError(401, "Invalid credentials in Authorization header");
  }

  function repoOrThrow(req: IncomingMessage, type: Repo["type"], id: string): Repo {
    const repo = store.get(type, id);
    if (!repo) throw new HttpError(404, `Repository not found: ${id}`, "RepoNotFound");
    if (repo.private) {
      try {
        auth(req);
      } catch {
        throw new HttpError(404, `Repository not found: ${id}`, "RepoNotFound");
      }
    }
    return repo;
  }

  function commitOrThrow(repo: Repo, revision: string) {
    const found = store.resolve(repo, decodeURIComponent(revision));
    if (!found) throw new HttpError(404, `Revision not found: ${revision}`, "RevisionNotFound");
    return found;
  }

  function repoInfo(repo: Repo, c: ReturnType<RepoStore["head"]>) {
    return {
      _id: repo.id,
      id: repo.id,
      sha: c.oid,
      private: repo.private,
      gated: false,
      disabled: false,
      lastModified: c.date,
      createdAt: repo.commits[0]!.date,
      tags: [],
      downloads: 0,
      likes: 0,
      cardData: {},
      siblings: Object.entries(c.files).map(([rfilename, f]) => ({
        rfilename,
        size: f.size,
        ...(f.lfs ? { lfs: { sha256: f.lfs.oid, size: f.lfs.size, pointerSize: f.lfs.pointerSize } } : {}),
      })),
    };
  }

  function treeEntry(path: string, f: FileEntry) {
    return { type: "file", oid: f.oid, size: f.size, path, ...(f.lfs ? { lfs: f.lfs } : {}), lastCommit: undefined };
  }

  function tree(c: ReturnType<RepoStore["head"]>, dir: string, recursive: boolean) {
    const prefix = dir ? `${dir.replace(/\/$/, "")}/` : "";
    const entries: unknown[] = [];
    const dirs = new Set<string>();
    for (const [path, f] of Object.entries(c.files).sort()) {
      if (!path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length);
      const slash = rest.indexOf("/");
      if (slash === -1 || recursive) {
        if (recursive) for (let i = rest.indexOf("/"); i !== -1; i = rest.indexOf("/", i + 1)) dirs.add(prefix + rest.slice(0, i));
        entries.push(treeEntry(path, f));
      } else {
        dirs.add(prefix + rest.slice(0, slash));
      }
    }
    if (prefix && entries.length === 0 && dirs.size === 0) throw new HttpError(404, `Entry not found: ${dir}`, "EntryNotFound");
    return [...[...dirs].sort().map((path) => ({ type: "directory", oid: gitBlobOid(Buffer.from(path)), size: 0, path })), ...entries];
  }

  function pathsInfo(c: ReturnType<RepoStore["head"]>, raw: Buffer, contentType: string) {
    const paths = contentType.includes("json")
      ? (JSON.parse(raw.toString()) as { paths: string[] }).paths
      : new URLSearchParams(raw.toString()).getAll("paths");
    const out: unknown[] = [];
    for (const path of paths) {
      const f = c.files[path];
      if (f) out.push(treeEntry(path, f));
      else if (Object.keys(c.files).some((p) => p.startsWith(`${path}/`))) out.push({ type: "directory", oid: gitBlobOid(Buffer.from(path)), size: 0, path });
    }
    return out;
  }

  function isLfs(path: string, size: number): boolean {
    return size >= LFS_MIN_SIZE || /\.(parquet|arrow)$/.test(path);
  }

  function commit(repo: Repo, target: ReturnType<RepoStore["head"]>, raw: Buffer, base: string) {
    const lines = raw
      .toString()
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { key: string; value: Record<string, unknown> });
    const header = lines.find((l) => l.key === "header")?.value ?? {};
    const head = store.head(repo);
    if (target.oid !== head.oid) throw new HttpError(400, "commits go on the head of main only");
    if (header.parentCommit && header.parentCommit !== head.oid)
      throw new HttpError(412, `parent commit ${String(header.parentCommit)} is not the head ${head.oid}`, "PreconditionFailed");
    const add: Record<string, FileEntry> = {};
    const remove: string[] = [];
    for (const { key, value } of lines) {
      if (key === "file") {
        const data = Buffer.from(String(value.content), value.encoding === "base64" ? "base64" : "utf8");
        add[String(value.path)] = { oid: gitBlobOid(data), size: data.length, sha256: store.putObject(data) };
      } else if (key === "lfsFile") {
        const oid = String(value.oid);
        if (!store.hasObject(oid)) throw new HttpError(422, `LFS object ${oid} for ${String(value.path)} was never uploaded`);
        const pointer = Buffer.from(lfsPointer(oid, Number(value.size)));
        add[String(value.path)] = {
          oid: gitBlobOid(pointer),
          size: Number(value.size),
          sha256: oid,
          lfs: { oid, size: Number(value.size), pointerSize: pointer.length },
        };
      } else if (key === "deletedFile") {
        remove.push(String(value.path));
      }
    }
    const created = store.commit(repo, String(header.summary ?? "commit"), { add, remove });
    return { success: true, commitOid: created.oid, commitUrl: `${base}/${repo.type}s/${repo.id}/commit/${created.oid}`, hookOutput: "" };
  }

  function resolveFile(req: IncomingMessage, res: ServerResponse, commitOid: string, entry: FileEntry, count: (bytes: number) => void): void {
    const data = store.readObject(entry.sha256);
    const headers: Record<string, string> = {
      "X-Repo-Commit": commitOid,
      ETag: `"${entry.lfs ? entry.sha256 : entry.oid}"`,
      "Accept-Ranges": "bytes",
      "Content-Type": "application/octet-stream",
    };
    if (entry.lfs) {
      headers["X-Linked-Etag"] = `"${entry.sha256}"`;
      headers["X-Linked-Size"] = String(entry.size);
    }
    const range = /^bytes=(\d*)-(\d*)$/.exec(String(req.headers.range ?? ""));
    let status = 200;
    let slice = data;
    if (range) {
      const start = range[1] === "" ? Math.max(0, data.length - Number(range[2])) : Number(range[1]);
      const end = range[1] === "" || range[2] === "" ? data.length - 1 : Math.min(Number(range[2]), data.length - 1);
      if (start >= data.length) {
        res.writeHead(416, { "Content-Range": `bytes */${data.length}` });
        return void res.end();
      }
      status = 206;
      slice = data.subarray(start, end + 1);
      headers["Content-Range"] = `bytes ${start}-${end}/${data.length}`;
    }
    headers["Content-Length"] = String(slice.length);
    if (req.method === "GET") count(slice.length);
    res.writeHead(status, headers);
    res.end(req.method === "HEAD" ? undefined : slice);
  }

  server.listen(params.port ?? 0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    store,
    faults,
    requests,
    served,
    lfs,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  if (!res.hasHeader("Content-Type")) res.setHeader("Content-Type", "application/json");
  res.writeHead(status, { "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
