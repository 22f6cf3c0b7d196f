import { defineConfig } from "vitest/config";

/** The real-data suite: builds from ../shared (977 run logs, all ARC tasks). Run by .ci/run after npm test. */
export default defineConfig({
  test: {
    globalSetup: ["tests/support/global-setup.ts"],
    include: ["tests/real-data/**/*.spec.ts"],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    maxWorkers: 1,
    minWorkers: 1,
  },
});
