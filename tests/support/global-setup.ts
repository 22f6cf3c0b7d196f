import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** One temporary root per test run, inherited by every worker and removed at the end. */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), "arcforge-tests-"));
  process.env.ARCFORGE_TEST_TMP = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
