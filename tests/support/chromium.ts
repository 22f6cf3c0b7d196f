import { existsSync } from "node:fs";

/** Debian's chromium (.ci/run installs it); tests that need a browser run where it is, and CI requires it. */
export const CHROMIUM = [process.env.ARCFORGE_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p): p is string => Boolean(p && existsSync(p)));

if (!CHROMIUM && process.env.ARCFORGE_REQUIRE_CHROMIUM === "1")
  throw new Error("ARCFORGE_REQUIRE_CHROMIUM=1 but no chromium was found (apt-get install chromium, or set ARCFORGE_CHROMIUM)");
