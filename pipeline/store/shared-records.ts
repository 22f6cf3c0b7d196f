import { eachTextLine } from "../common/json-lines.js";

/** Where a line's leading `{"id":"..."` ends (the index of the id's closing quote), or -1 when the line does not start so. */
function idEnd(line: string): number {
  if (!line.startsWith('{"id":"')) return -1;
  for (let i = 7; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 92) i++;
    else if (c === 34) return i;
  }
  return -1;
}

/** A cheap fingerprint of a string (its length and every 16th character): equal strings agree, and a match is checked in full. */
function sketch(text: string, from: number): number {
  let h = 0x811c9dc5 ^ (text.length - from);
  for (let i = from; i < text.length; i += 16) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The JSON lines of a stage's records (written by JSON.stringify, id first), where lines that are
 * equal but for their id share one parsed value: a program sampled thousands of times with
 * different comments is one cleaned code with one set of outputs, and reading its task back must
 * not hold thousands of copies of its grids. Each record is its own object (its id, then the shared
 * fields); nested values are shared, as copies of a program share one outcome while they run. A
 * line whose rest matches an earlier one's sketch is compared in full before sharing. With
 * `wanted`, only the records with those ids, in file order.
 */
export function sharedRecordsOf<T>(buffer: Buffer, wanted?: ReadonlySet<string>): T[] {
  const out: T[] = [];
  const shared = new Map<number, Shared>();
  eachTextLine(buffer, (line) => {
    const close = idEnd(line);
    // Only the records asked for are parsed: a task's few selected rows among its thousands of attempts.
    if (wanted && !wanted.has(idOf(line, close))) return;
    out.push(record(line, close, shared) as T);
  });
  return out;
}

/** A line's record id, read from its leading `{"id":"..."` (ending at `close`) when it has one. */
function idOf(line: string, close: number): string {
  return close === -1 ? String((JSON.parse(line) as { id?: unknown }).id) : (JSON.parse(line.slice(6, close + 1)) as string);
}

/**
 * The fields after the id of the first line with a sketch, as a template whose clone is a record
 * (id first, so the clone spells the same JSON); and, once a later line has the same sketch, their
 * text (`,"field":...}`, or `}` for none), which each such line must end with. A line written by
 * JSON.stringify is what JSON.stringify gives for its parse, so a match is exact. The text is
 * made once per shared group, not once per copy (that was most of reading a task of 10^5 copies
 * back), and never for a line that shares with none: a task's distinct lines are not held.
 */
interface Shared {
  template: Record<string, unknown>;
  rest?: string;
}

function record(line: string, close: number, shared: Map<number, Shared>): unknown {
  if (close === -1) return JSON.parse(line);
  const key = sketch(line, close + 1);
  const found = shared.get(key);
  if (found && sameRest(line, close, found)) {
    const copy = { ...found.template };
    copy.id = idOf(line, close);
    return copy;
  }
  const parsed = JSON.parse(line) as Record<string, unknown>;
  if (!found) shared.set(key, { template: { ...parsed, id: undefined } });
  return parsed;
}

/** The line after its id spells exactly the group's fields. */
function sameRest(line: string, close: number, group: Shared): boolean {
  if (group.rest === undefined) {
    // The template's id is undefined, so JSON.stringify leaves it out: `{...}` is the fields after it.
    const fields = JSON.stringify(group.template);
    group.rest = fields === "{}" ? "}" : `,${fields.slice(1)}`;
  }
  return line.length - close - 1 === group.rest.length && line.endsWith(group.rest);
}
