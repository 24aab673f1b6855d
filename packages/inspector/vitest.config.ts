import { fileURLToPath } from "node:url";
import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@vmstream/source"] },
  ssr: { resolve: { conditions: ["@vmstream/source"] } },
  // The end-to-end test builds the page and drives a real Chromium: give it time.
  test: { setupFiles: [fileURLToPath(new URL("../../scripts/vitest/fc-seed.mjs", import.meta.url))], name: "inspector", include: ["test/**/*.test.ts"], testTimeout: 90_000, hookTimeout: 90_000 },
});
