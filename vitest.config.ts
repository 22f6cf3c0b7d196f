import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    globalSetup: ["tests/support/global-setup.ts"],
    include: ["tests/**/*.spec.ts", "{pipeline,stages,schemas}/**/*.spec.ts"],
    exclude: ["tests/real-data/**", "node_modules/**"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Sandbox tests fork many processes; two files at a time suit a 2-core machine.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
