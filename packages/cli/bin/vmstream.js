#!/usr/bin/env node
// npm links this file at install time, before any build: keep it tiny and import the built code.
import("../dist/main.js").then(
  (m) => m.main(process.argv.slice(2)),
  (e) => {
    process.stderr.write(`vmstream: not built yet (run \`npm run build\`): ${e.message}\n`);
    process.exitCode = 2;
  },
);
