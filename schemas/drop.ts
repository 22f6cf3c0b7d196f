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
}

export type Verdict = "keep" | { drop: string; detail?: string };
