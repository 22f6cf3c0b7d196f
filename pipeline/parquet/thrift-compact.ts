/**
 * A reader for Thrift's compact protocol, the encoding of Parquet's footer and page headers: just
 * enough to read sizes and offsets before a Parquet decoder is trusted with a file. Structs come
 * back as field id -> value; integers as numbers (Parquet's sizes and offsets fit in 2^53).
 */
export type ThriftValue = number | boolean | Uint8Array | ThriftStruct | ThriftValue[];
export interface ThriftStruct {
  fields: Map<number, ThriftValue>;
  /** Where each integer field's varint starts and how long it is: tests rewrite sizes in place. */
  spans: Map<number, { offset: number; length: number }>;
}

const STOP = 0;
const TRUE = 1;
const FALSE = 2;
const BYTE = 3;
const I16 = 4;
const I32 = 5;
const I64 = 6;
const DOUBLE = 7;
const BINARY = 8;
const LIST = 9;
const SET = 10;
const MAP = 11;
const STRUCT = 12;
/** Deeper than Parquet's metadata ever nests: a hostile footer cannot recurse without end. */
const MAX_DEPTH = 32;

export class ThriftError extends Error {}

export class CompactReader {
  position: number;

  constructor(
    private readonly bytes: Uint8Array,
    start = 0,
  ) {
    this.position = start;
  }

  private byte(): number {
    if (this.position >= this.bytes.length) throw new ThriftError("truncated Thrift data");
    return this.bytes[this.position++]!;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return value;
      scale *= 128;
    }
    throw new ThriftError("a varint longer than 10 bytes");
  }

  private zigzag(): number {
    const n = this.varint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  struct(depth = 0): ThriftStruct {
    if (depth > MAX_DEPTH) throw new ThriftError("Thrift structs nested too deep");
    const out: ThriftStruct = { fields: new Map(), spans: new Map() };
    let last = 0;
    for (;;) {
      const header = this.byte();
      const type = header & 0x0f;
      if (type === STOP) return out;
      const delta = header >> 4;
      const id = delta === 0 ? this.zigzag() : last + delta;
      last = id;
      const start = this.position;
      if (type === TRUE || type === FALSE) out.fields.set(id, type === TRUE);
      else out.fields.set(id, this.value(type, depth));
      if (type === I16 || type === I32 || type === I64) out.spans.set(id, { offset: start, length: this.position - start });
    }
  }

  private value(type: number, depth: number): ThriftValue {
    switch (type) {
      case TRUE:
      case FALSE:
        return this.byte() === TRUE;
      case BYTE:
        return this.byte();
      case I16:
      case I32:
      case I64:
        return this.zigzag();
      case DOUBLE:
        this.position += 8;
        return 0;
      case BINARY: {
        const length = this.varint();
        if (this.position + length > this.bytes.length) throw new ThriftError("a Thrift binary runs past the data");
        const value = this.bytes.subarray(this.position, this.position + length);
        this.position += length;
        return value;
      }
      case LIST:
      case SET: {
        const header = this.byte();
        const size = header >> 4 === 15 ? this.varint() : header >> 4;
        if (size > this.bytes.length - this.position) throw new ThriftError("a Thrift list longer than the data");
        const elementType = header & 0x0f;
        const items: ThriftValue[] = [];
        for (let i = 0; i < size; i++) items.push(this.value(elementType, depth + 1));
        return items;
      }
      case MAP: {
        const size = this.varint();
        if (size === 0) return [];
        const types = this.byte();
        for (let i = 0; i < size; i++) {
          this.value(types >> 4, depth + 1);
          this.value(types & 0x0f, depth + 1);
        }
        return [];
      }
      case STRUCT:
        return this.struct(depth + 1);
      default:
        throw new ThriftError(`unknown Thrift type ${type}`);
    }
  }
}

/** A struct field as a number, or undefined. */
export const int = (s: ThriftStruct, id: number) => (typeof s.fields.get(id) === "number" ? (s.fields.get(id) as number) : undefined);
export const struct = (s: ThriftStruct, id: number) => s.fields.get(id) as ThriftStruct | undefined;
export const list = (s: ThriftStruct, id: number) => (Array.isArray(s.fields.get(id)) ? (s.fields.get(id) as ThriftValue[]) : []);
