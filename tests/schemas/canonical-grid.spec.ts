import { describe, expect, it } from "vitest";
import { canonicalGrid, dihedral } from "../../schemas/canonical-grid.js";

const G = [
  [1, 2, 0],
  [0, 3, 3],
];

describe("the canonical form of a grid", () => {
  it("is the same for every rotation and reflection", () => {
    const forms = dihedral(G).map(canonicalGrid);
    expect(dihedral(G)).toHaveLength(8);
    expect(new Set(forms).size).toBe(1);
  });

  it("is the same for a recoloured copy, with 0 kept apart", () => {
    expect(
      canonicalGrid([
        [5, 7, 0],
        [0, 9, 9],
      ]),
    ).toBe(canonicalGrid(G));
    expect(
      canonicalGrid([
        [5, 7, 4],
        [4, 9, 9],
      ]),
    ).not.toBe(canonicalGrid(G));
  });

  it("tells different grids apart, and reads a ragged grid as it is", () => {
    expect(
      canonicalGrid([
        [1, 1, 0],
        [0, 3, 3],
      ]),
    ).not.toBe(canonicalGrid(G));
    expect(canonicalGrid([[1], [1, 2]])).toBe("2x1:1/12");
  });
});
