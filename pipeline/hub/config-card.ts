import { parse, stringify } from "yaml";
import { HubError } from "../common/errors.js";

interface Front {
  meta: Record<string, unknown>;
  body: string;
}

/** A card's YAML front matter and the text after it; a card without front matter is all body. */
function splitCard(card: string): Front {
  const m = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?/.exec(card);
  if (!m) return { meta: {}, body: card };
  const meta = parse(m[1]!) as unknown;
  return { meta: meta && typeof meta === "object" && !Array.isArray(meta) ? (meta as Record<string, unknown>) : {}, body: card.slice(m[0].length) };
}

type ConfigEntry = { config_name?: string; data_files?: unknown };

/**
 * `dataset_info` of a card with many configs: one entry per config (a single unnamed one is the
 * default config's), this config's replaced by this build's, the others kept.
 */
function infos(params: { ours: unknown; base: unknown; config: string }): { dataset_info?: unknown[] } {
  const listed = (value: unknown): Record<string, unknown>[] =>
    Array.isArray(value)
      ? value.filter((v): v is Record<string, unknown> => Boolean(v) && typeof v === "object")
      : value && typeof value === "object"
        ? [{ config_name: "default", ...(value as Record<string, unknown>) }]
        : [];
  const others = listed(params.base).filter((i) => i.config_name !== params.config);
  const ours =
    params.ours && typeof params.ours === "object" && !Array.isArray(params.ours) ? [{ ...(params.ours as object), config_name: params.config }] : [];
  const all = [...others, ...ours];
  return all.length ? { dataset_info: all } : {};
}

/**
 * The card of a repo that holds many cuts as configs, after pushing one of them: the repo's card
 * (or, for a new repo, this build's) with this config's entry added or replaced, pointing at
 * `data/<config>/`; every other config and every other key of the repo's card kept as it was.
 */
export function configCard(params: { ours: string; remote?: string; config: string }): string {
  const ours = splitCard(params.ours);
  const base = params.remote ? splitCard(params.remote) : ours;
  const ourConfigs = (ours.meta.configs ?? []) as ConfigEntry[];
  const files = ourConfigs.find((c) => c.config_name === "default")?.data_files;
  if (!Array.isArray(files)) throw new HubError("this build's card declares no default config: push a folder written by 'arcforge build'");
  const entry = {
    config_name: params.config,
    data_files: (files as { split: string; path: string }[]).map((f) => ({ split: f.split, path: f.path.replace(/^data\//, `data/${params.config}/`) })),
  };
  const existing = (Array.isArray(base.meta.configs) ? base.meta.configs : []) as ConfigEntry[];
  // A new repo's card is this build's: its own default entry points at files this push does not make.
  const kept = existing.filter((c) => c.config_name !== params.config && !(base === ours && c.config_name === "default"));
  const at = existing.findIndex((c) => c.config_name === params.config);
  const configs = at >= 0 && base !== ours ? existing.map((c) => (c.config_name === params.config ? entry : c)) : [...kept, entry];
  return `---\n${stringify({ ...base.meta, configs, ...infos({ ours: ours.meta.dataset_info, base: base === ours ? undefined : base.meta.dataset_info, config: params.config }) })}---\n${base.body}`;
}
