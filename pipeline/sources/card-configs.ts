import { parse } from "yaml";

/** One config's data files, as its card declares them: a split name and the path globs that hold it. */
export interface ConfigFiles {
  config: string;
  splits: { split: string; patterns: RegExp[] }[];
}

/** `data/train-*` as a path pattern: `*` within a folder, `**` across folders, `?` one character. */
export function globPattern(glob: string): RegExp {
  const body = glob
    .split(/(\*\*|\*|\?)/)
    .map((part) => (part === "**" ? ".*" : part === "*" ? "[^/]*" : part === "?" ? "[^/]" : part.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`);
}

/**
 * The data files of a dataset card's `configs` (the YAML front matter the Hub and `datasets` read):
 * the named config, else `default`, else the first. Null when the card declares none, so a reader
 * takes every data file as before; a card whose YAML does not parse declares none.
 */
export function cardConfigFiles(card: string, name?: string): ConfigFiles | null {
  const front = /^---\r?\n([\s\S]*?)\r?\n---/.exec(card);
  if (!front) return null;
  let meta: unknown;
  try {
    meta = parse(front[1]!);
  } catch {
    return null;
  }
  const configs = (meta as { configs?: unknown })?.configs;
  if (!Array.isArray(configs) || configs.length === 0) return null;
  const entries = configs.filter((c): c is { config_name?: string; data_files?: unknown } => Boolean(c) && typeof c === "object");
  const chosen = entries.find((c) => c.config_name === (name ?? "default")) ?? (name ? undefined : entries[0]);
  if (!chosen) return null;
  const files = chosen.data_files;
  const list = (value: unknown): string[] =>
    typeof value === "string" ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
  const splits =
    typeof files === "string" || (Array.isArray(files) && files.every((f) => typeof f === "string"))
      ? [{ split: "train", patterns: list(files).map(globPattern) }]
      : Array.isArray(files)
        ? files
            .filter((f): f is { split?: unknown; path?: unknown } => Boolean(f) && typeof f === "object")
            .map((f) => ({ split: typeof f.split === "string" ? f.split : "train", patterns: list(f.path).map(globPattern) }))
        : [];
  return { config: chosen.config_name ?? "default", splits: splits.filter((s) => s.patterns.length > 0) };
}
