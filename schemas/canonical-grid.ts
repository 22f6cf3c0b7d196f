import type { Grid } from "./grid.js";

const rotate = (g: Grid): Grid => g[0]!.map((_, c) => g.map((row) => row[c]!).reverse());
const flip = (g: Grid): Grid => g.map((row) => [...row].reverse());

/** The 8 rotations and reflections of a rectangular grid (a ragged one only as it is). */
export function dihedral(grid: Grid): Grid[] {
  if (grid.length === 0 || grid.some((row) => row.length !== grid[0]!.length || row.length === 0)) return [grid];
  const out: Grid[] = [];
  let g = grid;
  for (let k = 0; k < 4; k++) {
    out.push(g, flip(g));
    g = rotate(g);
  }
  return out;
}

/** Colours renamed in row-major order of first appearance, 0 kept as 0: a recoloured copy reads the same. */
function renamed(grid: Grid): string {
  const names = new Map<number, number>([[0, 0]]);
  const rows = grid.map((row) =>
    row
      .map((c) => {
        if (!names.has(c)) names.set(c, names.size);
        return names.get(c)!;
      })
      .join(""),
  );
  return `${grid.length}x${grid[0]?.length ?? 0}:${rows.join("/")}`;
}

/**
 * A grid's canonical form: of its 8 rotations and reflections, each with its colours renamed, the
 * smallest serialisation. A renamed, rotated, reflected or recoloured copy has the same one.
 */
export function canonicalGrid(grid: Grid): string {
  let best: string | undefined;
  for (const g of dihedral(grid)) {
    const s = renamed(g);
    if (best === undefined || s < best) best = s;
  }
  return best!;
}
