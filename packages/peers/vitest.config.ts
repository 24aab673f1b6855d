import { fileURLToPath } from "node:url";
import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@vmstream/source"] },
  ssr: { resolve: { conditions: ["@vmstream/source"] } },
  // Every test here runs real emulators on a shared 2-CPU machine: one file at a time.
  test: { setupFiles: [fileURLToPath(new URL("../../scripts/vitest/fc-seed.mjs", import.meta.url))], name: "peers", include: ["test/**/*.test.ts"], testTimeout: 120_000, hookTimeout: 120_000, fileParallelism: false },
});
