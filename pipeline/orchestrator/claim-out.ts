import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../common/errors.js";
import { lockFolder } from "../store/cache-lock.js";

const LOCK = ".arcforge-lock";
/** Left by a build that failed while writing (its manifest not written): the folder stays arcforge's. */
const INCOMPLETE = ".arcforge-incomplete";
const SPLIT_FILE = /^(train|validation)-\d{5}-of-\d{5}\.(parquet|jsonl)$/;

/** What arcforge writes beside the split files: a rebuild replaces these and the splits, nothing else. */
const OWN_FILES = ["manifest.json", "README.md", "fates.jsonl", "tasks.jsonl", "report.html", "provenance/train.jsonl", "provenance/validation.jsonl"];

/**
 * Takes `--out` for this build before anything runs: locked like the cache (one build per
 * folder), and refused when it holds files that are not an earlier arcforge output, unless
 * `overwrite`. Returns a function that removes what the previous build wrote there (the files its
 * manifest lists), never anything else, and the unlock.
 */
export function claimOut(params: { out: string; overwrite?: boolean }): { clearPrevious: () => void; unlock: () => void } {
  const { out } = params;
  const before = existsSync(out) ? readdirSync(out).filter((n) => n !== LOCK && n !== INCOMPLETE) : [];
  const manifest = join(out, "manifest.json");
  const previous = existsSync(manifest) ? readManifest(manifest) : undefined;
  // A lock left behind means an arcforge build was writing here when it was killed: its folder.
  // So does the mark of a build that failed while writing (a damaged cache, a full disk).
  const interrupted = existsSync(join(out, LOCK)) || existsSync(join(out, INCOMPLETE));
  if (before.length > 0 && !previous && !interrupted && !params.overwrite) {
    const shown = before.slice(0, 5).join(", ") + (before.length > 5 ? `, and ${before.length - 5} more` : "");
    throw new InputError(
      `refusing to write the dataset into ${out}: it holds ${shown} and is not an earlier arcforge output (no manifest.json of arcforge's); give an empty or new --out, or --overwrite to write there anyway (arcforge replaces only the files it writes)`,
    );
  }
  const created = !existsSync(out);
  const release = lockFolder({ dir: out, file: LOCK, what: "output folder" });
  let writing = false;
  return {
    // A build that failed before writing leaves no folder it made.
    unlock: () => {
      // The mark stays until a build writes its manifest here, whatever fails in between.
      if (existsSync(manifest)) rmSync(join(out, INCOMPLETE), { force: true });
      else if (writing) writeFileSync(join(out, INCOMPLETE), "an arcforge build failed while writing here: the same command writes here again\n");
      release();
      if (created && readdirSync(out).length === 0) rmdirSync(out);
    },
    clearPrevious: () => {
      writing = true;
      // Without a manifest (a build killed while writing), the split files by the names arcforge gives them.
      const splitFiles =
        interrupted && !previous && existsSync(join(out, "data"))
          ? readdirSync(join(out, "data"))
              .filter((f) => SPLIT_FILE.test(f))
              .map((f) => `data/${f}`)
          : [];
      for (const file of [...(previous?.outputs ?? []).map((o) => o.path), ...splitFiles, ...OWN_FILES]) rmSync(join(out, file), { force: true });
    },
  };
}

function readManifest(path: string): { outputs: { path: string }[] } | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as { arcforge?: unknown; outputs?: { path: string }[] };
    return typeof parsed.arcforge === "string" && Array.isArray(parsed.outputs)
      ? { outputs: parsed.outputs.filter((o) => typeof o.path === "string" && !o.path.includes("..")) }
      : undefined;
  } catch {
    return undefined;
  }
}
