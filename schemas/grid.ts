/**
 * The one grid rule, shared with docker/runner.py (`normalise`) and checked against it by
 * tests/schemas/grid-rule.spec.ts:
 * a non-empty list of non-empty rows of equal length, at most 30x30, every cell an integer 0-9.
 * Ragged grids and grids with an empty row are invalid program outputs: ARC grids are
 * rectangular, and a relabelled task built from such an output would not be an ARC task.
 */
export type Grid = number[][];

export const MAX_GRID_SIDE = 30;

export const GRID_PROBLEMS = ["not_2d", "empty", "ragged", "bool", "float", "not_int", "out_of_range", "too_large"] as const;
export type GridProblem = (typeof GRID_PROBLEMS)[number];

/** Why `value` is not a valid grid, or null when it is one. */
export function gridProblem(value: unknown): GridProblem | null {
  if (!Array.isArray(value)) return "not_2d";
  if (value.length === 0) return "empty";
  let width = -1;
  for (const row of value) {
    if (!Array.isArray(row)) return "not_2d";
    if (row.length === 0) return "empty";
    if (width === -1) width = row.length;
    else if (row.length !== width) return "ragged";
    for (const cell of row) {
      if (Array.isArray(cell)) return "not_2d";
      if (typeof cell === "boolean") return "bool";
      if (typeof cell === "bigint") {
        if (cell < 0n || cell > 9n) return "out_of_range";
        continue;
      }
      if (typeof cell !== "number") return "not_int";
      if (!Number.isInteger(cell)) return "float";
      if (cell < 0 || cell > 9) return "out_of_range";
    }
  }
  if (value.length > MAX_GRID_SIDE || width > MAX_GRID_SIDE) return "too_large";
  return null;
}

export function gridsEqual(a: Grid | null | undefined, b: Grid | null | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  for (let r = 0; r < a.length; r++) {
    const x = a[r]!;
    const y = b[r]!;
    if (x.length !== y.length) return false;
    for (let c = 0; c < x.length; c++) if (x[c] !== y[c]) return false;
  }
  return true;
}

/** Rows of space-separated digits, one row a line; an empty row is written `[EMPTY_ROW]`. */
export function gridToText(grid: Grid): string {
  return grid.map((row) => (row.length === 0 ? "[EMPTY_ROW]" : row.join(" "))).join("\n");
}
