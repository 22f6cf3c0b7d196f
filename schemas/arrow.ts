import { Bool, Field, Int64, List, Schema, Struct, Utf8, type DataType } from "apache-arrow";
import type { ParquetFormat } from "./build-options.js";

/** Child fields are named "item", as pyarrow names them. */
const list = <T extends DataType>(type: T) => new List<T>(new Field("item", type, true));
export const ROW = list(new Int64());
export const GRID = list(ROW);
export const GRIDS = list(GRID);
export const BOOLS = list(new Bool());
export const MESSAGES = list(new Struct([new Field("role", new Utf8(), true), new Field("content", new Utf8(), true)]));

export const STRINGS = list(new Utf8());

/** `?`: the column may hold nulls (a value not known for the row). */
export type ColumnKind = "string" | "string?" | "strings" | "int" | "int?" | "bool" | "bool?" | "bools" | "grids" | "messages";

const FLAT: [string, ColumnKind][] = [
  ["reasoning", "string"],
  ["code", "string"],
  ["correct_train_input", "bools"],
  ["train_input", "grids"],
  ["train_output", "grids"],
  ["predicted_train_output", "grids"],
  ["correct_test_input", "bools"],
  ["test_input", "grids"],
  ["test_output", "grids"],
  ["predicted_test_output", "grids"],
  ["task_id", "string"],
  ["model", "string"],
  ["generation", "int"],
  ["dataset", "string"],
  ["attempt_id", "string"],
];

/** Every Parquet column of every format, in order, with its kind. */
/** A refinement pair's parent, beside the child's flat columns. */
const PARENT: [string, ColumnKind][] = [
  ["code_original", "string"],
  ["predicted_train_output_original", "grids"],
  ["predicted_test_output_original", "grids"],
  ["correct_train_input_original", "bools"],
  ["correct_test_input_original", "bools"],
  ["refined_from_id", "string"],
  ["pair_source", "string"],
];

export const COLUMNS: Record<ParquetFormat, [string, ColumnKind][]> = {
  flat: FLAT,
  /** The verified program table: the flat columns, identity and provenance, and what recipes filter on. */
  programs: [
    ...FLAT,
    ["row_id", "string"],
    ["copies", "int"],
    ["models", "strings"],
    ["source", "string"],
    ["run_timestamp", "string?"],
    ["subset", "string?"],
    ["train_correct", "int"],
    ["test_correct", "int"],
    ["all_train_correct", "bool"],
    ["all_test_correct", "bool"],
    ["code_length", "int"],
    ["max_predicted_height", "int"],
    ["max_predicted_width", "int"],
    ["identity", "bool"],
    ["single_colour", "bool"],
    ["fails_augment", "bool?"],
  ],
  soar: [
    ["code", "string"],
    ["correct_train_input", "bools"],
    ["predicted_train_output", "grids"],
    ["correct_test_input", "bools"],
    ["predicted_test_output", "grids"],
    ["task_id", "string"],
    ["model", "string"],
    ["generation", "int"],
  ],
  messages: [["messages", "messages"]],
  refinement: [...FLAT, ...PARENT],
  "refinement-messages": [["messages", "messages"]],
};

const ARROW_TYPES: Record<ColumnKind, () => DataType> = {
  string: () => new Utf8(),
  "string?": () => new Utf8(),
  strings: () => STRINGS,
  int: () => new Int64(),
  "int?": () => new Int64(),
  bool: () => new Bool(),
  "bool?": () => new Bool(),
  bools: () => BOOLS,
  grids: () => GRIDS,
  messages: () => MESSAGES,
};

export function arrowSchema(format: ParquetFormat): Schema {
  return new Schema(COLUMNS[format].map(([name, kind]) => new Field(name, ARROW_TYPES[kind](), true)));
}
