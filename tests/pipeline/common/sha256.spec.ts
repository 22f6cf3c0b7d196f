import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fileSha256, sha256 } from "../../../pipeline/common/sha256.js";
import { tempDir } from "../../support/stage-harness.js";

describe("sha256 and fileSha256", () => {
  it("digests small files read at once and large files streamed alike, many at a time", async () => {
    const dir = await tempDir("arcforge-sha-");
    const contents = [Buffer.alloc(0), randomBytes(3), randomBytes((1 << 20) + 7), randomBytes(17 * 2 ** 20)];
    contents.forEach((bytes, i) => writeFileSync(join(dir, `f${i}`), bytes));
    const digests = await Promise.all(contents.map((_, i) => fileSha256(join(dir, `f${i}`))));
    expect(digests).toEqual(contents.map((bytes) => createHash("sha256").update(bytes).digest("hex")));
  });

  it("digests text as its UTF-8 bytes and bytes as they are, as a Hash object does", () => {
    for (const data of ["", "é€𝄞 and \u0000", randomBytes(1000), new Uint8Array([1, 2, 3])]) {
      expect(sha256(data)).toBe(createHash("sha256").update(data).digest("hex"));
    }
  });
});
