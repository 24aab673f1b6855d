import("../dist/bundle/vmstream.js").then(async (m) => { await m.main(process.argv.slice(2)); process.exit(process.exitCode ?? 0); });
