import type { SandboxLimits } from "./sandbox-limits.js";

export const FORMATS = ["flat", "soar", "messages", "openai"] as const;
export type Format = (typeof FORMATS)[number];

/** Everything `arcforge build` is told. Stages key their cache on the parts that change them. */
export interface BuildOptions {
  logs: string[];
  tasks?: string;
  out: string;
  models: string[];
  dataset?: string;
  subset?: string;
  /** YYYYMMDD, inclusive, read from the timestamp that starts each log file name. */
  dateFrom?: string;
  dateTo?: string;
  /** A glob (`*`, `?`) matched against the log file name. */
  pattern?: string;
  /** Keep only the last N log files (by file name, i.e. by time) after the other filters. */
  limit?: number;
  validation: boolean;
  format: Format;
  cleanCode: boolean;
  transductionFilter: boolean;
  dedup: boolean;
  reasoning: boolean;
  seed: number;
  /** The `generation` column: which round of sampling and fine-tuning these programs come from. */
  generation: number;
  limits: SandboxLimits;
}

export const DEFAULT_BUILD_OPTIONS: Omit<BuildOptions, "logs" | "out"> = {
  models: [],
  validation: false,
  format: "flat",
  cleanCode: true,
  transductionFilter: true,
  dedup: true,
  reasoning: false,
  seed: 42,
  generation: 0,
  limits: { timeoutSeconds: 1, memoryBytes: 1 << 30 },
};
