import { defineProject } from "vitest/config";

export default defineProject({
  resolve: { conditions: ["@vmstream/source"] },
  ssr: { resolve: { conditions: ["@vmstream/source"] } },
  test: { name: "codecs", include: ["test/**/*.test.ts"], testTimeout: 60_000 },
});
