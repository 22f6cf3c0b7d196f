import { createHash, hash } from "node:crypto";
import { closeSync, createReadStream, openSync, readSync, statSync } from "node:fs";

/** sha256 of text or bytes, as hex: one call, no Hash object (~2x faster for the small texts of cache keys). */
export function sha256(data: string | Uint8Array): string {
  return hash("sha256", data, "hex");
}

/** Files up to this size are read synchronously: a stream's per-file overhead was 4x the hashing on ~1,000 logs. */
const SYNC_BYTES = 16 * 2 ** 20;
const chunk = Buffer.alloc(2 ** 20);

/** sha256 of a file's bytes, a chunk at a time: a split or shard may be larger than memory allows at once. */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  if (statSync(path).size > SYNC_BYTES) {
    // A large file is streamed, so the event loop (uploads, progress) is never held for long.
    for await (const piece of createReadStream(path)) hash.update(piece as Buffer);
    return hash.digest("hex");
  }
  const fd = openSync(path, "r");
  try {
    for (let read = readSync(fd, chunk); read > 0; read = readSync(fd, chunk)) hash.update(chunk.subarray(0, read));
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}
