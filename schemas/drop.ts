import type { Twins } from "./twins.js";

/** Something a stage did not pass on, and why. Every drop lands in the manifest. */
export interface Drop {
  /** The attempt (program) or whole log file the drop concerns. */
  id: string;
  /** "file" when a whole log file is left out; otherwise the drop is one attempt. */
  scope?: "file";
  /** snake_case; the runner counts it as dropped_<reason>. */
  reason: string;
  detail?: string;
  taskId?: string;
  /** The attempt's twins, dropped with it (or instead of it, with twinsOnly): see schemas/twins.ts. */
  twins?: Twins;
  twinsOnly?: true;
}

export type Verdict = "keep" | { drop: string; detail?: string };
