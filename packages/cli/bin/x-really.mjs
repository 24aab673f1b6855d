import("../dist/bundle/vmstream.js").then(async (m) => { await m.main(process.argv.slice(2)); process.reallyExit(process.exitCode ?? 0); });
