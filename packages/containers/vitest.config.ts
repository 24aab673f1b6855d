import { fileURLToPath } from "node:url";
import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@vmstream/source"] },
  ssr: { resolve: { conditions: ["@vmstream/source"] } },
  test: { setupFiles: [fileURLToPath(new URL("../../scripts/vitest/fc-seed.mjs", import.meta.url))], name: "containers", include: ["test/**/*.test.ts"], testTimeout: 120_000 },
});
