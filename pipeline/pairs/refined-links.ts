import type { Row } from "../../schemas/program.js";
import type { Pair } from "./draw-pairs.js";

/** Why a refined_from_id link gives no pair. */
export interface LinkDrop {
  child: string;
  reason: "self_link" | "cycle" | "parent_other_task" | "parent_missing";
  detail: string;
}

/**
 * The users' refined_from_id links within one task: a row names, by the users' own row id, the
 * row it refines. A link to itself, a chain that comes back to the child, and a parent of another
 * task give no pair. A parent that is not among the task's verified programs gives no pair either,
 * unless the child carries the parent's code (code_original): those children are returned to be
 * verified by executing that code.
 */
export function refinedLinks(params: { rows: Row[]; foreign: Record<string, string> }): { pairs: Pair[]; drops: LinkDrop[]; withOriginal: Row[] } {
  const byUserId = new Map<string, Row>();
  for (const row of params.rows) if (row.refined?.rowId) byUserId.set(row.refined.rowId, row);
  const pairs: Pair[] = [];
  const drops: LinkDrop[] = [];
  const withOriginal: Row[] = [];
  for (const child of params.rows) {
    const from = child.refined?.from;
    if (!from) continue;
    if (from === child.refined?.rowId) {
      drops.push({ child: child.id, reason: "self_link", detail: `refined_from_id ${from} names the row itself` });
      continue;
    }
    if (params.foreign[child.id]) {
      drops.push({ child: child.id, reason: "parent_other_task", detail: `refined_from_id ${from} is a row of ${params.foreign[child.id]}` });
      continue;
    }
    const parent = byUserId.get(from);
    if (parent) {
      if (cycles({ start: child, byUserId }))
        drops.push({ child: child.id, reason: "cycle", detail: `following refined_from_id from ${child.refined?.rowId} comes back to it` });
      else pairs.push({ parent, child, source: "refined" });
    } else if (child.refined?.codeOriginal) withOriginal.push(child);
    else
      drops.push({
        child: child.id,
        reason: "parent_missing",
        detail: `no verified program of this task has row_id ${from}, and the row carries no code_original`,
      });
  }
  return { pairs, drops, withOriginal };
}

/** Following refined_from_id links from `start` comes back to it. */
function cycles(params: { start: Row; byUserId: Map<string, Row> }): boolean {
  const seen = new Set<string>();
  for (let row: Row | undefined = params.start; row?.refined?.from; row = params.byUserId.get(row.refined.from)) {
    if (seen.has(row.id)) return row.id === params.start.id;
    seen.add(row.id);
    if (params.byUserId.get(row.refined.from)?.id === params.start.id) return true;
  }
  return false;
}
