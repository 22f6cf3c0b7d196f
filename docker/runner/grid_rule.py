"""The grid rule, the twin of schemas/grid.ts (tests/schemas/grid-rule.spec.ts holds them to each other).

Valid: a non-empty list (or 2-D numpy array) of non-empty rows of equal length, at most 30x30,
every cell an int 0-9. bool is not an int here; floats are rejected even when integral, because
ARC grids hold colours, not numbers.

numpy is looked up, not imported: a child forked without it holds no numpy value unless its
program imported numpy itself, and then it is in sys.modules.
"""

import sys

MAX_SIDE = 30
_INT_ONLY = {int}


def normalise(value):
    """Return (grid, None) for a valid grid or (None, reason)."""
    np = sys.modules.get("numpy")
    array = (np.ndarray,) if np is not None else ()
    if array and isinstance(value, array):
        if value.ndim != 2:
            return None, "not_2d"
        if value.dtype == np.bool_:
            return None, "bool"
        if value.dtype.kind == "f":
            return None, "float"
        if value.dtype.kind not in "iu" and value.dtype != object:
            return None, "not_int"
        value = value.tolist()
    if not isinstance(value, list):
        return None, "not_2d"
    if len(value) == 0:
        return None, "empty"
    nested, bools, floats, ints = (list, tuple) + array, (bool,), (float,), (int,)
    if np is not None:
        bools, floats, ints = (bool, np.bool_), (float, np.floating), (int, np.integer)
    rows = []
    width = None
    for row in value:
        if array and isinstance(row, array):
            if row.ndim != 1:
                return None, "not_2d"
            row = row.tolist()
        if not isinstance(row, list):
            return None, "not_2d"
        if len(row) == 0:
            return None, "empty"
        if width is None:
            width = len(row)
        elif len(row) != width:
            return None, "ragged"
        # Nearly every row is an exact list of exact ints: checked by C loops, ~7x faster than the
        # cell loop, which gives the same answer and still decides every other row.
        if type(row) is list and set(map(type, row)) == _INT_ONLY and min(row) >= 0 and max(row) <= 9:
            rows.append(row[:])
            continue
        cells = []
        for cell in row:
            if isinstance(cell, nested):
                return None, "not_2d"
            if isinstance(cell, bools):
                return None, "bool"
            if isinstance(cell, floats):
                return None, "float"
            if not isinstance(cell, ints):
                return None, "not_int"
            cell = int(cell)
            if cell < 0 or cell > 9:
                return None, "out_of_range"
            cells.append(cell)
        rows.append(cells)
    if len(rows) > MAX_SIDE or width > MAX_SIDE:
        return None, "too_large"
    return rows, None
