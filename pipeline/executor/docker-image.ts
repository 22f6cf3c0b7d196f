import { execFile, spawn } from "node:child_process";
import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync, statSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";
import type Dockerode from "dockerode";
import { DockerError } from "../common/errors.js";
import { RUNNER_DIR } from "../common/paths.js";
import { RUNNER_HASH } from "./runtime-fingerprint.js";
import type { PythonRuntime } from "./find-python.js";
import { cacheKey } from "../common/canonical-json.js";

const run = promisify(execFile);
const RUNNER_DIR_IN_IMAGE = "/arcforge";
export const RUNNER_IN_IMAGE = `${RUNNER_DIR_IN_IMAGE}/runner.py`;
/** Packages the runner imports or programs commonly use; the rest of site-packages stays out. */
const PACKAGES = ["numpy", "numpy.libs", "scipy", "scipy.libs"];
const STDLIB_SKIP = new Set(["site-packages", "test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "__pycache__"]);

/** The image tag: changes when the runner, the interpreter or numpy change. */
export function sandboxImageTag(python: PythonRuntime): string {
  return `arcforge-sandbox:${cacheKey({ runner: RUNNER_HASH, python: python.version, numpy: python.numpy }).slice(0, 16)}`;
}

function soFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.so(\.|$)/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

/**
 * A library path as the image must hold it: the entry in its physical folder (a symlink stays a
 * symlink: /lib is often a link to usr/lib) and the file it finally points at.
 */
function physical(path: string): string[] {
  if (!existsSync(path)) return [];
  return [join(realpathSync(dirname(path)), basename(path)), realpathSync(path)];
}

/** The shared libraries `ldd` names for these binaries. */
async function sharedLibraries(binaries: string[]): Promise<Set<string>> {
  const libs = new Set<string>();
  for (const binary of binaries) {
    const { stdout } = await run("ldd", [binary]).catch(() => ({ stdout: "" }));
    for (const match of stdout.matchAll(/(?:=>\s*)?(\/[^\s]+)\s+\(0x/g)) for (const p of physical(match[1]!)) libs.add(p);
  }
  return libs;
}

/** Every path the image needs from the host: interpreter, stdlib, numpy (and scipy), their libraries. */
export async function imageFiles(python: PythonRuntime): Promise<string[]> {
  const prefix = python.prefixes.find((p) => python.executable.startsWith(p)) ?? dirname(dirname(python.executable));
  const stdlib = join(prefix, "lib", `python${python.version.split(".").slice(0, 2).join(".")}`);
  const site = python.sitePaths.find((p) => existsSync(join(p, "numpy")));
  if (!site) throw new DockerError(`numpy was not found in ${python.sitePaths.join(", ")}: the sandbox image needs it`);
  const paths = new Set<string>([python.executable]);
  for (const name of readdirSync(join(prefix, "lib"))) if (name.startsWith("libpython")) paths.add(join(prefix, "lib", name));
  for (const name of readdirSync(stdlib)) if (!STDLIB_SKIP.has(name)) paths.add(join(stdlib, name));
  for (const name of PACKAGES) if (existsSync(join(site, name))) paths.add(join(site, name));
  const binaries = [python.executable, ...[...paths].flatMap((p) => (statSync(p).isDirectory() ? soFiles(p) : /\.so/.test(p) ? [p] : []))];
  const libs = await sharedLibraries(binaries);
  for (const lib of ["libseccomp.so.2"]) {
    const { stdout } = await run("sh", ["-c", `ldconfig -p | grep -m1 '${lib} ' | sed 's/.*=> //'`]).catch(() => ({ stdout: "" }));
    const path = stdout.trim();
    for (const p of path ? physical(path) : []) libs.add(p);
  }
  // tar packs folders whole: a library inside an included folder (numpy.libs) must not come twice.
  const folders = [...paths].filter((p) => statSync(p).isDirectory());
  const outside = [...libs].filter((lib) => !paths.has(lib) && !folders.some((f) => lib.startsWith(`${f}/`)));
  return [...paths, ...outside].sort();
}

/**
 * Builds the sandbox image offline with `docker import` from the host's own Python and numpy
 * (no registry is needed), unless an image with this tag exists already.
 */
export async function buildSandboxImage(params: {
  docker: Dockerode;
  python: PythonRuntime;
  force?: boolean;
  onProgress?: (text: string) => void;
}): Promise<string> {
  const tag = sandboxImageTag(params.python);
  if (!params.force) {
    const found = await params.docker
      .getImage(tag)
      .inspect()
      .catch(() => null);
    if (found) return tag;
  }
  const files = await imageFiles(params.python);
  const staging = await mkdtemp(join(tmpdir(), "arcforge-image-"));
  try {
    await mkdir(join(staging, "arcforge"));
    for (const name of readdirSync(RUNNER_DIR).filter((n) => n.endsWith(".py")))
      await copyFile(join(RUNNER_DIR, name), join(staging, RUNNER_DIR_IN_IMAGE, name));
    for (const dir of ["tmp", "etc"]) await mkdir(join(staging, dir));
    const links: string[] = [];
    for (const top of ["lib", "lib64", "bin"]) {
      if (existsSync(`/${top}`) && lstatSync(`/${top}`).isSymbolicLink()) {
        await symlink(readlinkSync(`/${top}`), join(staging, top));
        links.push(top);
      }
    }
    await writeFile(join(staging, "etc", "passwd"), "root:x:0:0:root:/:/bin/false\nnobody:x:65534:65534:nobody:/:/bin/false\n");
    const list = join(staging, "files.txt");
    await writeFile(list, `${files.map((f) => f.slice(1)).join("\n")}\n`);
    params.onProgress?.(`packing ${files.length} paths from the host into ${tag}`);
    const tar = spawn("tar", ["-cf", "-", "--hard-dereference", "-C", "/", "--files-from", list, "-C", staging, "arcforge", "tmp", "etc", ...links], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    tar.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const [repo, version] = tag.split(":") as [string, string];
    const stream = await params.docker.importImage(tar.stdout as unknown as string, { repo, tag: version });
    await new Promise<void>((resolve, reject) => params.docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve())));
    const code = await new Promise<number | null>((resolve) => (tar.exitCode !== null ? resolve(tar.exitCode) : tar.once("close", resolve)));
    if (code !== 0) throw new DockerError(`packing the sandbox image failed: ${stderr.trim().split("\n").slice(-2).join(" | ")}`);
    return tag;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
