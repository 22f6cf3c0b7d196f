import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { Decompress } from "fzstd";
import { InputError } from "../common/errors.js";
import type { BlobLike } from "./held-blob.js";
import { CompactReader, int, list, struct, ThriftError, type ThriftStruct } from "./thrift-compact.js";

/** No honest page of program data comes near this decompressed (writers cut pages at ~1 MiB). */
export const MAX_PAGE_BYTES = 64 * 2 ** 20;
/** A footer this large describes no program dataset: it is refused before it is decoded. */
const MAX_FOOTER_BYTES = 64 * 2 ** 20;

const PAGE_DICTIONARY = 2;
const PAGE_DATA_V2 = 3;
/** Parquet's Thrift CompressionCodec numbers (not parquet-wasm's Compression enum, which counts otherwise). */
const CODEC = { none: 0, snappy: 1, gzip: 2, lzo: 3, brotli: 4, lz4: 5, zstd: 6, lz4Raw: 7 } as const;

/** A Parquet file refused by the check: the file's fault, recorded by readers that can go on without it. */
export class ParquetRefusedError extends InputError {
  constructor(
    readonly file: string,
    readonly why: string,
  ) {
    super(`${file} is refused before decoding: ${why}`);
  }
}

/** One row group as the footer describes it: rows, and each column chunk's codec and bytes. */
export interface GroupPlan {
  index: number;
  rows: number;
  chunks: { codec: number; start: number; end: number; where: string }[];
  /** From the first chunk's start to the last one's end: what a decoder fetches for the group. */
  span: [number, number];
}

/** What the check learnt that bounds reading the file. */
export interface ParquetBounds {
  /** The largest dictionary page, decompressed: one dictionary value may be repeated on every row of a batch. */
  largestDictionaryPage: number;
  /** The row groups checked: all, or with a row limit the first ones that hold those rows. */
  rowGroups: number[];
}

/** How the check reads bytes [start, end): plainly, or through a reader that keeps them for the decoder. */
export type ReadRange = (start: number, end: number) => Promise<Uint8Array>;
const readRange =
  (blob: BlobLike): ReadRange =>
  async (start, end) =>
    new Uint8Array(await blob.slice(start, end).arrayBuffer());

const refusal = (name: string) => (why: string) => new ParquetRefusedError(name, why);

/**
 * Reads and checks a Parquet file's footer before any decoder trusts it: its size, and every
 * column chunk of the row groups to read lying inside the file. With a row limit, only the row
 * groups that hold those rows are planned.
 */
export async function planParquet(params: { blob: BlobLike; name: string; rowLimit?: number; read?: ReadRange }): Promise<GroupPlan[]> {
  const { blob } = params;
  const read = params.read ?? readRange(blob);
  const refuse = refusal(params.name);
  if (blob.size < 12) throw refuse("too short to be Parquet");
  const tail = await read(blob.size - 8, blob.size);
  const footerLength = new DataView(tail.buffer, tail.byteOffset, 8).getUint32(0, true);
  if (new TextDecoder().decode(tail.subarray(4)) !== "PAR1") throw refuse("it does not end in PAR1 (not Parquet, or encrypted)");
  if (footerLength > MAX_FOOTER_BYTES || footerLength > blob.size - 12) throw refuse(`its footer claims ${footerLength} bytes`);
  const dataEnd = blob.size - 8 - footerLength;
  const plans: GroupPlan[] = [];
  try {
    const footer = new CompactReader(await read(dataEnd, blob.size - 8)).struct();
    let rows = 0;
    for (const [g, group] of list(footer, 4).entries()) {
      if (params.rowLimit !== undefined && rows >= params.rowLimit) break;
      const plan: GroupPlan = { index: g, rows: int(group as ThriftStruct, 3) ?? 0, chunks: [], span: [Infinity, 0] };
      rows += plan.rows;
      for (const [c, chunk] of list(group as ThriftStruct, 1).entries()) {
        const where = `row group ${g}, column ${c}`;
        const meta = struct(chunk as ThriftStruct, 3);
        if (!meta) throw refuse(`${where} has no metadata (an external or encrypted column)`);
        const compressed = int(meta, 7) ?? -1;
        const dataOffset = int(meta, 9) ?? -1;
        const dictionaryOffset = int(meta, 11);
        const start = dictionaryOffset !== undefined && dictionaryOffset > 0 && dictionaryOffset < dataOffset ? dictionaryOffset : dataOffset;
        if (start < 4 || compressed < 0 || start + compressed > dataEnd)
          throw refuse(`${where} claims bytes ${start} to ${start + compressed}, outside the data (${dataEnd} bytes)`);
        plan.chunks.push({ codec: int(meta, 4) ?? 0, start, end: start + compressed, where });
        plan.span = [Math.min(plan.span[0], start), Math.max(plan.span[1], start + compressed)];
      }
      plans.push(plan);
    }
  } catch (error) {
    if (error instanceof ThriftError) throw refuse(`its metadata is not valid Thrift (${error.message})`);
    throw error;
  }
  return plans;
}

/**
 * Checks every page of one planned row group: its header's decompressed size under
 * MAX_PAGE_BYTES, and its compressed bytes decompressing to no more than the header says
 * (streamed, stopped at that size: a zstd, gzip or brotli bomb whose footer and headers
 * understate it costs at most one page). The group is read in one request, the one a decoder
 * makes for it. Returns its largest dictionary page.
 */
export async function checkRowGroup(params: { blob: BlobLike; name: string; plan: GroupPlan; read?: ReadRange }): Promise<number> {
  const { plan } = params;
  const bounds = { largestDictionaryPage: 0 };
  if (plan.chunks.length === 0) return 0;
  const bytes = await (params.read ?? readRange(params.blob))(plan.span[0], plan.span[1]);
  try {
    for (const chunk of plan.chunks)
      checkPages({
        bytes: bytes.subarray(chunk.start - plan.span[0], chunk.end - plan.span[0]),
        codec: chunk.codec,
        where: chunk.where,
        refuse: refusal(params.name),
        bounds,
      });
  } catch (error) {
    if (error instanceof ThriftError) throw refusal(params.name)(`a page header is not valid Thrift (${error.message})`);
    throw error;
  }
  return bounds.largestDictionaryPage;
}

/** The whole check, footer and every planned row group, for callers that do not stream rows. */
export async function checkParquetBounds(params: { blob: BlobLike; name: string; rowLimit?: number }): Promise<ParquetBounds> {
  const plans = await planParquet(params);
  let largestDictionaryPage = 0;
  for (const plan of plans) largestDictionaryPage = Math.max(largestDictionaryPage, await checkRowGroup({ ...params, plan }));
  return { largestDictionaryPage, rowGroups: plans.map((p) => p.index) };
}

function checkPages(p: { bytes: Uint8Array; codec: number; where: string; refuse: (why: string) => Error; bounds: { largestDictionaryPage: number } }): void {
  const reader = new CompactReader(p.bytes);
  for (let page = 0; reader.position < p.bytes.length; page++) {
    const header = reader.struct();
    const where = `${p.where}, page ${page}`;
    const type = int(header, 1);
    const declared = int(header, 2) ?? -1;
    const size = int(header, 3) ?? -1;
    if (declared < 0 || size < 0 || reader.position + size > p.bytes.length) throw p.refuse(`${where} has a header whose sizes do not fit its column chunk`);
    if (declared > MAX_PAGE_BYTES) throw p.refuse(`${where} decompresses to ${declared} bytes, over the ${MAX_PAGE_BYTES}-byte page cap`);
    let data = p.bytes.subarray(reader.position, reader.position + size);
    let expected = declared;
    let compressed = true;
    if (type === PAGE_DATA_V2) {
      // Version 2 pages keep their levels uncompressed, ahead of the compressed values.
      const v2 = struct(header, 8);
      const levels = (v2 ? (int(v2, 5) ?? 0) : 0) + (v2 ? (int(v2, 6) ?? 0) : 0);
      compressed = v2?.fields.get(7) !== false;
      data = data.subarray(levels);
      expected -= levels;
    }
    if (type === PAGE_DICTIONARY) p.bounds.largestDictionaryPage = Math.max(p.bounds.largestDictionaryPage, declared);
    if (compressed) {
      const actual = decompressedSize({ data, codec: p.codec, limit: expected });
      if (typeof actual === "string") throw p.refuse(`${where}: ${actual}`);
      if (actual > expected) throw p.refuse(`${where} decompresses past the ${expected} bytes its header declares`);
    }
    reader.position += size;
  }
}

/**
 * How many bytes `data` decompresses to, counting no further than limit + 1: enough to tell a
 * page that keeps its word from one that does not. Codecs whose decoders write into a buffer of
 * the declared size (LZ4) cannot overrun it and are not decompressed here.
 */
function decompressedSize(params: { data: Uint8Array; codec: number; limit: number }): number | string {
  const { data, codec, limit } = params;
  switch (codec) {
    case CODEC.none:
      return data.length;
    case CODEC.snappy: {
      // Snappy states its length up front, and decoders allocate exactly that.
      let length = 0;
      for (let i = 0, scale = 1; i < 5 && i < data.length; i++, scale *= 128) {
        length += (data[i]! & 0x7f) * scale;
        if ((data[i]! & 0x80) === 0) return length;
      }
      return "a snappy block without a valid length";
    }
    case CODEC.gzip:
    case CODEC.brotli:
      try {
        return (codec === CODEC.gzip ? gunzipSync : brotliDecompressSync)(data, { maxOutputLength: limit + 1 }).length;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE"
          ? limit + 1
          : `${codec === CODEC.gzip ? "gzip" : "brotli"} data that does not decompress (${(error as Error).message})`;
      }
    case CODEC.zstd:
      return zstdSize(data, limit);
    case CODEC.lz4:
    case CODEC.lz4Raw:
      return 0;
    default:
      return `codec ${codec}, which arcforge does not read`;
  }
}

/** Streams zstd frames, stopping once more than `limit` bytes came out. */
function zstdSize(data: Uint8Array, limit: number): number | string {
  let total = 0;
  const over = new Error("over");
  const stream = new Decompress((chunk) => {
    total += chunk.length;
    if (total > limit) throw over;
  });
  try {
    // Small pushes: a frame declaring a huge window never gets to fill it before the limit stops it.
    for (let at = 0; at < data.length; at += 1 << 16) stream.push(data.subarray(at, Math.min(data.length, at + (1 << 16))), at + (1 << 16) >= data.length);
    if (data.length === 0) stream.push(new Uint8Array(0), true);
  } catch (error) {
    if (error === over) return limit + 1;
    return `zstd data that does not decompress (${(error as Error).message})`;
  }
  return total;
}
