/**
 * The length of `JSON.stringify(value)`, without building the text: the report's row viewer sizes
 * every written row against its budget, and most of a row is its task's grids, the same arrays for
 * each of the task's rows. `held` keeps the length of arrays of arrays (grids, lists of grids) by
 * identity, so a task's grids are measured once, whatever the number of its rows. The caller owns
 * `held` and must not change an array after it was measured. Plain JSON data only: no `toJSON`, no
 * bigint (the rows of a build hold neither).
 */
export function jsonLength(value: unknown, held?: WeakMap<object, number>): number {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value).length;
    case "number":
      return Number.isFinite(value) ? String(value).length : 4;
    case "boolean":
      return value ? 4 : 5;
    case "object":
      if (value === null) return 4;
      return Array.isArray(value) ? arrayLength(value, held) : objectLength(value as Record<string, unknown>, held);
    default:
      // undefined, a function or a symbol: `null` in an array, left out of an object.
      return 4;
  }
}

const absent = (value: unknown) => value === undefined || typeof value === "function" || typeof value === "symbol";

function arrayLength(array: unknown[], held?: WeakMap<object, number>): number {
  const nested = held !== undefined && Array.isArray(array[0]);
  if (nested) {
    const known = held.get(array);
    if (known !== undefined) return known;
  }
  let length = array.length > 0 ? array.length + 1 : 2;
  for (const item of array) {
    // Small non-negative integers, a grid's cells: one digit each.
    if (typeof item === "number" && item >= 0 && item < 10 && Number.isInteger(item)) length += 1;
    else length += jsonLength(item, held);
  }
  if (nested) held.set(array, length);
  return length;
}

function objectLength(record: Record<string, unknown>, held?: WeakMap<object, number>): number {
  let length = 2;
  let members = 0;
  for (const key of Object.keys(record)) {
    const member = record[key];
    if (absent(member)) continue;
    length += JSON.stringify(key).length + 1 + jsonLength(member, held);
    members++;
  }
  return length + Math.max(0, members - 1);
}
