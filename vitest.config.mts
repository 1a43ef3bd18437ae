import { defineConfig } from "vitest/config";

// Tests live in test/{unit,interop,protocol,hosts,e2e}. Protocol, host and e2e suites load the
// tsc-built CommonJS in dist/ (closures loaded through vite's transform cannot be serialised),
// so `npm test` builds first (see the "pretest" script).
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup-tmpdir.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ["default"],
  },
});
