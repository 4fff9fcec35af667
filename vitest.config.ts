import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // The JSON report lets .ci/run print the plain "N passed, N failed" line.
    reporters: ["default", ["json", { outputFile: "test-results.json" }]],
  },
});
