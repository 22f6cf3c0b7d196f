import { closeSync, openSync, readFileSync, readSync, renameSync, writeSync } from "node:fs";
import { constants, gunzipSync, gzipSync } from "node:zlib";

const CHUNK = 1 << 20;
/** Cache files are written once and read a few times: the fastest level still shrinks JSON of code and grids ~5x. */
const GZIP = { level: constants.Z_BEST_SPEED };

/** Pieces of text in gzip members, one per piece: the concatenation is one valid gzip file. */
export function gzipPiece(text: string): Buffer {
  return gzipSync(text, GZIP);
}

/**
 * Values as JSON lines, written in ~1 MiB pieces (never one string for the whole file), through a
 * temporary file unless `atomic` is false (a file that something else marks complete); with
 * `gzip`, each piece compressed (readJsonLinesSync reads both).
 */
export function writeJsonLinesSync(path: string, values: Iterable<unknown>, options: { atomic?: boolean; gzip?: boolean } = {}): void {
  const writer = new JsonLinesWriter(path, options);
  try {
    for (const value of values) writer.write(value);
  } catch (error) {
    writer.abandon();
    throw error;
  }
  writer.close();
}

/** The same file written a value at a time, for values that arrive while something else is written. */
export class JsonLinesWriter {
  private readonly tmp: string;
  private readonly fd: number;
  private pending = "";

  constructor(
    private readonly path: string,
    private readonly options: { atomic?: boolean; gzip?: boolean } = {},
  ) {
    this.tmp = (options.atomic ?? true) ? `${path}.${process.pid}.tmp` : path;
    this.fd = openSync(this.tmp, "w");
  }

  write(value: unknown): void {
    this.pending += `${JSON.stringify(value)}\n`;
    if (this.pending.length >= CHUNK) this.flush();
  }

  /** Writes what is pending and puts the file in place. */
  close(): void {
    try {
      if (this.pending) this.flush();
    } finally {
      closeSync(this.fd);
    }
    if (this.tmp !== this.path) renameSync(this.tmp, this.path);
  }

  /** Stops without putting the file in place: what was written is not a complete file. */
  abandon(): void {
    closeSync(this.fd);
  }

  private flush(): void {
    if (this.options.gzip) writeSync(this.fd, gzipPiece(this.pending));
    else writeSync(this.fd, this.pending);
    this.pending = "";
  }
}

/**
 * Every JSON line of a file (one line may be as long as a value needs; no string ever holds the
 * file). A gzip file is inflated whole into one buffer first: such files hold one task's output.
 */
export function readJsonLinesSync<T>(path: string): T[] {
  const out: T[] = [];
  eachJsonLineSync<T>(path, (line) => out.push(line));
  return out;
}

/** Hands each JSON line of a file to `visit` as it is parsed, holding none of them. */
export function eachJsonLineSync<T>(path: string, visit: (line: T) => void): void {
  const fd = openSync(path, "r");
  const head = Buffer.alloc(2);
  const gzipped = readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  if (gzipped) {
    let whole: Buffer;
    try {
      // Through the open descriptor: a build reads a task's shards for each task it writes.
      whole = readFileSync(fd);
    } finally {
      closeSync(fd);
    }
    eachLineOf<T>(gunzipSync(whole), visit);
    return;
  }
  try {
    const buffer = Buffer.alloc(CHUNK);
    let carry: Buffer[] = [];
    for (let read = readSync(fd, buffer); read > 0; read = readSync(fd, buffer)) {
      let start = 0;
      for (let nl = buffer.indexOf(10, start); nl !== -1 && nl < read; nl = buffer.indexOf(10, start)) {
        const line = carry.length ? Buffer.concat([...carry, buffer.subarray(start, nl)]) : buffer.subarray(start, nl);
        carry = [];
        visit(JSON.parse(line.toString("utf8")) as T);
        start = nl + 1;
      }
      if (start < read) carry.push(Buffer.from(buffer.subarray(start, read)));
    }
  } finally {
    closeSync(fd);
  }
}

function eachLineOf<T>(buffer: Buffer, visit: (line: T) => void): void {
  eachTextLine(buffer, (text) => visit(JSON.parse(text) as T));
}

/** The text of each non-empty line of a buffer of JSON lines, in order. */
export function eachTextLine(buffer: Buffer, visit: (text: string) => void): void {
  for (let start = 0, nl = buffer.indexOf(10); start < buffer.length; start = nl + 1, nl = buffer.indexOf(10, start)) {
    const end = nl === -1 ? buffer.length : nl;
    if (end > start) visit(buffer.toString("utf8", start, end));
    if (nl === -1) break;
  }
}
