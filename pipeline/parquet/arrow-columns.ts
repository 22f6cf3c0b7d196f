import { Bool, Int64, makeData, RecordBatch, Struct, Table, Utf8, vectorFromArray, type Data, type Schema } from "apache-arrow";
import { BOOLS, GRID, GRIDS, MESSAGES, ROW, STRINGS, type ColumnKind } from "../../schemas/arrow.js";
import type { Grid } from "../../schemas/grid.js";

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Columns built as Arrow Data by hand (offsets and one BigInt64Array of cells): about 3x faster
 * than vectorFromArray for nested grids, and exactly the standard 3-level LIST layout pyarrow writes.
 */
export function gridsData(values: Grid[][]): Data {
  let grids = 0;
  let rows = 0;
  let cells = 0;
  for (const list of values) {
    grids += list.length;
    for (const grid of list) {
      rows += grid.length;
      for (const row of grid) cells += row.length;
    }
  }
  const cellValues = new BigInt64Array(cells);
  // A cell that fits 32 bits is written as its two 32-bit halves: BigInt(cell) for each of a
  // build's cells took ~60 ms of writing the real logs' dataset.
  const halves = LITTLE_ENDIAN ? new Int32Array(cellValues.buffer) : undefined;
  const rowOffsets = new Int32Array(rows + 1);
  const gridOffsets = new Int32Array(grids + 1);
  const listOffsets = new Int32Array(values.length + 1);
  let c = 0;
  let r = 0;
  let g = 0;
  // Where each grid's cells were first written: a grid met again (a task's own grids are the same
  // arrays in each of its rows, copies of a program share their outputs) is copied from there.
  const written = new Map<Grid, number>();
  values.forEach((list, l) => {
    for (const grid of list) {
      const first = written.get(grid);
      if (first === undefined) {
        written.set(grid, c);
        for (const row of grid) {
          for (const cell of row) {
            if (halves && (cell | 0) === cell) {
              halves[2 * c] = cell;
              halves[2 * c + 1] = cell < 0 ? -1 : 0;
            } else cellValues[c] = BigInt(cell);
            c++;
          }
          rowOffsets[++r] = c;
        }
      } else {
        const start = c;
        for (const row of grid) {
          c += row.length;
          rowOffsets[++r] = c;
        }
        cellValues.copyWithin(start, first, first + (c - start));
      }
      gridOffsets[++g] = r;
    }
    listOffsets[l + 1] = g;
  });
  const cellData = makeData({ type: new Int64(), length: cells, data: cellValues });
  const rowData = makeData({ type: ROW, length: rows, valueOffsets: rowOffsets, child: cellData });
  const gridData = makeData({ type: GRID, length: grids, valueOffsets: gridOffsets, child: rowData });
  return makeData({ type: GRIDS, length: values.length, valueOffsets: listOffsets, child: gridData });
}

export function boolsData(values: boolean[][]): Data {
  const total = values.reduce((n, v) => n + v.length, 0);
  const bits = new Uint8Array(Math.ceil(total / 8));
  const offsets = new Int32Array(values.length + 1);
  let i = 0;
  values.forEach((list, l) => {
    for (const value of list) {
      if (value) bits[i >> 3]! |= 1 << (i & 7);
      i++;
    }
    offsets[l + 1] = i;
  });
  const child = makeData({ type: new Bool(), length: total, data: bits });
  return makeData({ type: BOOLS, length: values.length, valueOffsets: offsets, child });
}

const encoder = new TextEncoder();

export function utf8Data(values: string[]): Data {
  const encoded = values.map((v) => encoder.encode(v));
  const offsets = new Int32Array(values.length + 1);
  encoded.forEach((bytes, i) => (offsets[i + 1] = offsets[i]! + bytes.length));
  const data = new Uint8Array(offsets[values.length]!);
  encoded.forEach((bytes, i) => data.set(bytes, offsets[i]!));
  return makeData({ type: new Utf8(), length: values.length, valueOffsets: offsets, data });
}

export function columnData(kind: ColumnKind, values: unknown[]): Data {
  switch (kind) {
    case "grids":
      return gridsData(values as Grid[][]);
    case "bools":
      return boolsData(values as boolean[][]);
    case "int":
      return makeData({ type: new Int64(), length: values.length, data: BigInt64Array.from(values as number[], (v) => BigInt(v)) });
    case "string":
      return utf8Data(values as string[]);
    case "messages":
      return vectorFromArray(values as { role: string; content: string }[][], MESSAGES).data[0]!;
    case "string?":
      return vectorFromArray(values as (string | null)[], new Utf8()).data[0]!;
    case "strings":
      return vectorFromArray(values as string[][], STRINGS).data[0]!;
    case "int?":
      return vectorFromArray(
        values.map((v) => (v === null ? null : BigInt(v as number))),
        new Int64(),
      ).data[0]!;
    case "bool":
    case "bool?":
      return vectorFromArray(values as (boolean | null)[], new Bool()).data[0]!;
  }
}

/** One Arrow table of `rows` (plain objects keyed by column name) under `schema`. */
export function toArrowTable(params: { schema: Schema; kinds: ColumnKind[]; rows: Record<string, unknown>[] }): Table {
  const { schema, kinds, rows } = params;
  const children = schema.fields.map((field, i) =>
    columnData(
      kinds[i]!,
      rows.map((row) => row[field.name]),
    ),
  );
  const data = makeData({ type: new Struct(schema.fields), length: rows.length, children });
  return new Table([new RecordBatch(schema, data)]);
}
