import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@vmstream/source"] },
  ssr: { resolve: { conditions: ["@vmstream/source"] } },
  test: { name: "containers", include: ["test/**/*.test.ts"], testTimeout: 120_000 },
});
