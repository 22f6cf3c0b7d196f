import type { BuildOptions } from "../schemas/build-options.js";
import type { Stage, StageOutput } from "../pipeline/engine/stage.js";
import type { Row } from "../schemas/program.js";
import { type Drop } from "../schemas/drop.js";

/** Log file name, then attempt number: the order "first" means, never completion order. */
export function stableOrder(a: Row, b: Row): number {
  const [fileA, numA] = splitId(a.id);
  const [fileB, numB] = splitId(b.id);
  if (fileA !== fileB) return fileA < fileB ? -1 : 1;
  return numA - numB;
}

function splitId(id: string): [string, number] {
  const at = id.lastIndexOf("#");
  return [id.slice(0, at), Number(id.slice(at + 1))];
}

/**
 * Within each task: test-solving programs are duplicates when their cleaned code is the same;
 * the others when they behave the same (identical outputs on every train input).
 */
export function dedupRows(rows: Row[]): { kept: Row[]; drops: Drop[]; counts: Record<string, number> } {
  const seen = new Map<string, string>();
  const kept: Row[] = [];
  const drops: Drop[] = [];
  const counts = { kept_test_solving: 0, kept_other: 0, duplicate_code: 0, duplicate_behaviour: 0 };
  for (const row of [...rows].sort(stableOrder)) {
    const key = row.solvesTest ? `${row.taskKey}\0code\0${row.code}` : `${row.taskKey}\0behaviour\0${JSON.stringify(row.predictedTrain)}`;
    const first = seen.get(key);
    if (first) {
      const reason = row.solvesTest ? "duplicate_code" : "duplicate_behaviour";
      counts[reason]++;
      drops.push({ id: row.id, reason, detail: `same as ${first}`, taskId: row.taskId });
      continue;
    }
    seen.set(key, row.id);
    kept.push(row);
    if (row.solvesTest) counts.kept_test_solving++;
    else counts.kept_other++;
  }
  return { kept, drops, counts };
}

export const dedupStage: Stage<BuildOptions> = {
  name: "dedup",
  version: 1,
  selects: true,
  after: ["revalidate"],
  key: (options) => ({ dedup: options.dedup }),
  async run({ options, upstream }): Promise<StageOutput<Row>> {
    const rows = upstream.revalidate!.records as Row[];
    if (!options.dedup) return { records: [...rows].sort(stableOrder), drops: [], counts: { dedup_disabled: rows.length } };
    const { kept, drops, counts } = dedupRows(rows);
    return { records: kept, drops, counts };
  },
};
