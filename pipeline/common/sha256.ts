import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/** sha256 of text or bytes, as hex. */
export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** sha256 of a file's bytes, read as a stream: a split or shard may be larger than memory allows at once. */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
