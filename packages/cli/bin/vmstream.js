#!/usr/bin/env node
// npm links this file at install time, before any build: keep it tiny and import the built code —
// the pre-bundled program (dist/bundle, built by `npm run build`), or tsc's output when only that exists.
import("../dist/bundle/vmstream.js")
  .catch(() => import("../dist/main.js"))
  .then(
    (m) => m.main(process.argv.slice(2)),
    (e) => {
      process.stderr.write(`vmstream: not built yet (run \`npm run build\`): ${e.message}\n`);
      process.exitCode = 2;
    },
  );
