import { closeSync, openSync, readSync, renameSync, writeSync } from "node:fs";

const CHUNK = 1 << 20;

/**
 * Values as JSON lines, written in ~1 MiB pieces (never one string for the whole file), through a
 * temporary file unless `atomic` is false (a file that something else marks complete).
 */
export function writeJsonLinesSync(path: string, values: Iterable<unknown>, options: { atomic?: boolean } = {}): void {
  const atomic = options.atomic ?? true;
  const tmp = atomic ? `${path}.${process.pid}.tmp` : path;
  const fd = openSync(tmp, "w");
  try {
    let pending = "";
    for (const value of values) {
      pending += JSON.stringify(value) + "\n";
      if (pending.length >= CHUNK) {
        writeSync(fd, pending);
        pending = "";
      }
    }
    if (pending) writeSync(fd, pending);
  } finally {
    closeSync(fd);
  }
  if (atomic) renameSync(tmp, path);
}

/** Every JSON line of a file, read a megabyte at a time (one line may be as long as a value needs). */
export function readJsonLinesSync<T>(path: string): T[] {
  const fd = openSync(path, "r");
  const out: T[] = [];
  try {
    const buffer = Buffer.alloc(CHUNK);
    let carry: Buffer[] = [];
    for (let read = readSync(fd, buffer); read > 0; read = readSync(fd, buffer)) {
      let start = 0;
      for (let nl = buffer.indexOf(10, start); nl !== -1 && nl < read; nl = buffer.indexOf(10, start)) {
        const line = carry.length ? Buffer.concat([...carry, buffer.subarray(start, nl)]) : buffer.subarray(start, nl);
        carry = [];
        out.push(JSON.parse(line.toString("utf8")) as T);
        start = nl + 1;
      }
      if (start < read) carry.push(Buffer.from(buffer.subarray(start, read)));
    }
  } finally {
    closeSync(fd);
  }
  return out;
}
