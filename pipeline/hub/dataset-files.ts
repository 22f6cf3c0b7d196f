import { existsSync, openAsBlob, readFileSync, statSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { basename, isAbsolute, join, relative, resolve, sep } from "node:path";
import { gzipSync } from "node:zlib";
import type { CommitOperation } from "@huggingface/hub";
import { HubError } from "../common/errors.js";
import { fileSha256 } from "../common/sha256.js";
import { REPO_PLACEHOLDER } from "../writer/write-dataset.js";

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

/** Files a build's push owns at the repo's root beside data/: replaced or deleted by every push. */
export const PROVENANCE_FILES = ["manifest.json", "tasks.jsonl", "fates.jsonl", "fates.jsonl.gz", "report.html"];
/**
 * The paths a push owns: everything under data/ and the provenance at the root, or, for a config,
 * only data/<config>/ and <config>/ (other configs and a user's files are never touched).
 */
export const ownedBy = (config?: string) => (path: string) =>
  config
    ? path.startsWith(`data/${config}/`) || path.startsWith(`${config}/`)
    : path.startsWith("data/") || path.startsWith("provenance/") || PROVENANCE_FILES.includes(path);
/** fates.jsonl is pushed gzipped above this. */
const FATES_GZIP_BYTES = 10 * 2 ** 20;

/**
 * The card, every split file, and the build's provenance (its manifest with local paths redacted,
 * tasks.jsonl, fates.jsonl, the report) as one commit's operations.
 */
export async function datasetOperations(dir: string, target: { repo?: string; config?: string } = {}): Promise<CommitOperation[]> {
  const entries = await readdir(join(dir, "data"), { recursive: true, withFileTypes: true }).catch(() => {
    throw new HubError(`${dir} has no data/ folder: push a folder written by 'arcforge build'`);
  });
  const files = entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
  if (files.length === 0) throw new HubError(`${dir}/data holds no split files`);
  const operations: CommitOperation[] = [];
  const { repo, config } = target;
  const add = (path: string, content: Blob) => operations.push({ operation: "addOrUpdate", path, content });
  // A config's files live under data/<config>/ and its provenance under <config>/.
  const data = (path: string) => (config ? path.replace(/^data\//, `data/${config}/`) : path);
  const provenance = (name: string) => (config ? `${config}/${name}` : name);
  // The card's load snippet names the repo (and config) it is pushed to.
  const card = readFileSync(join(dir, "README.md"), "utf8");
  const load = `load_dataset(${[repo, config]
    .filter(Boolean)
    .map((s) => JSON.stringify(s))
    .join(", ")})`;
  add("README.md", new Blob([repo ? card.replaceAll(`load_dataset("${REPO_PLACEHOLDER}")`, load) : card]));
  for (const path of files) add(data(relative(dir, path)), await openAsBlob(path));
  add(provenance("manifest.json"), new Blob([redactedManifest(dir)]));
  for (const name of ["tasks.jsonl", "report.html", "provenance/train.jsonl", "provenance/validation.jsonl"])
    if (existsSync(join(dir, name))) add(provenance(name), await openAsBlob(join(dir, name)));
  const fates = join(dir, "fates.jsonl");
  if (existsSync(fates)) {
    if (statSync(fates).size > FATES_GZIP_BYTES) add(provenance("fates.jsonl.gz"), new Blob([gzipSync(readFileSync(fates))]));
    else add(provenance("fates.jsonl"), await openAsBlob(fates));
  }
  return operations;
}

/**
 * The manifest as published: every absolute local path is cut to its last part under `<local>/`
 * (the build folder itself to `.`), so a push says what was built, not where on whose disk.
 */
export function redactedManifest(dir: string): string {
  const root = resolve(dir);
  const redact = (value: unknown): unknown => {
    if (typeof value === "string" && isAbsolute(value)) {
      const full = resolve(value);
      if (full === root) return ".";
      if (full.startsWith(`${root}${sep}`)) return relative(root, full);
      return `<local>/${basename(full)}`;
    }
    if (Array.isArray(value)) return value.map(redact);
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v)]));
    return value;
  };
  return `${JSON.stringify(redact(JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"))), null, 2)}\n`;
}
