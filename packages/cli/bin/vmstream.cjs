#!/usr/bin/env node
// npm links this file at install time, before any build: keep it tiny and load the built code —
// the pre-bundled program (dist/bundle, built by `npm run build`), or tsc's output when only that exists.
// CommonJS, like the bundle, so that a run never starts Node's ES module loader (bundle.config.mjs says why).
"use strict";
const { existsSync } = require("node:fs");
const { join } = require("node:path");
const bundle = join(__dirname, "../dist/bundle/vmstream.js");
const args = process.argv.slice(2);
if (existsSync(bundle)) {
  require(bundle).main(args);
} else {
  import("../dist/main.js").then(
    (m) => m.main(args),
    (e) => {
      process.stderr.write(`vmstream: not built yet (run \`npm run build\`): ${e.message}\n`);
      process.exitCode = 2;
    },
  );
}
