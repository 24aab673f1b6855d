/**
 * The bench's inputs, made once and kept under bench-out/inputs/ (ignored by
 * git): a file's name carries a hash of how it was made (the generator's
 * source and arguments), so a changed generator makes a new file and an
 * unchanged one is reused by the next run.
 *
 * Three kinds of writer, so that no verdict rests on streams made by the code
 * under test alone:
 * - real peers: QEMU 7.2 and 10.0 themselves save a 512 MiB guest whose RAM
 *   holds random bytes (a `loader` device copies a random file into guest RAM
 *   before the first instruction; the guest never runs, `-S`);
 * - the independent Python encoder of fixtures/tools/xenpeer (big_libxc.py,
 *   big_legacy.py), for libxc, libxl, xl and legacy;
 * - our own generators (gen/), for the context family (no other writer
 *   exists) and a QEMU stream rebuilt from a real one with random pages.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateContext } from "./gen/context.mjs";
import { prng } from "./gen/prng.mjs";
import { generateQemu, qemuTemplate } from "./gen/qemu.mjs";
import { SYSTEM_PYTHON, qemuBinary } from "./peers.mjs";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));
const HERE = fileURLToPath(new URL(".", import.meta.url));
const XENPEER = join(REPO, "fixtures/tools/xenpeer");
export const CACHE = join(REPO, "bench-out/inputs");
const MiB = 1 << 20;

const hashOf = (...parts) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(typeof p === "string" && existsSync(p) ? readFileSync(p) : String(p));
  return h.digest("hex").slice(0, 10);
};

/** Make `name` with `make(tmpPath)` unless a file made the same way is cached; returns its path. */
function cached(name, recipe, make) {
  mkdirSync(CACHE, { recursive: true });
  const dot = name.lastIndexOf(".");
  const path = join(CACHE, `${name.slice(0, dot)}-${hashOf(...recipe)}${name.slice(dot)}`);
  if (existsSync(path)) return path;
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    make(tmp);
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
  return path;
}

/** A file of `bytes` pseudo-random bytes (for the QEMU loader device). */
function randomFile(path, bytes) {
  const fd = openSync(path, "w");
  const chunk = prng(0xa11ce).fill(new Uint8Array(16 * MiB));
  for (let done = 0; done < bytes; done += chunk.byteLength) {
    // Vary each chunk a little so no two pages of the guest repeat at a fixed stride.
    chunk[done / chunk.byteLength] ^= 0xff;
    writeSync(fd, chunk, 0, Math.min(chunk.byteLength, bytes - done));
  }
  closeSync(fd);
}

/**
 * A stream saved by QEMU `release` itself: a pc-i440fx guest of `ramMiB`
 * whose RAM from 1 MiB on holds random bytes, migrated to a file through the
 * human monitor (`migrate` waits for completion before `quit` is read).
 * `mappedRam` saves with the mapped-ram capability to a `file:` URI instead.
 * `dataMiB` puts only that much random data in RAM (the rest stays zero, and a
 * mapped-ram file leaves it as holes): a large guest holding little data.
 */
export function realQemuStream(release, ramMiB, { mappedRam = false, dataMiB } = {}) {
  const qemu = qemuBinary(release);
  if (!qemu) throw new Error(`QEMU ${release} is not installed (scripts/peers installs it under /opt/vmstream-peers)`);
  const name = `qemu-${release}${mappedRam ? "-mapped-ram" : ""}-${ramMiB}m${dataMiB === undefined ? "" : `-${dataMiB}m-data`}.mig`;
  const recipe = [qemu, release, ramMiB, mappedRam, fileURLToPath(import.meta.url), ...(dataMiB === undefined ? [] : [dataMiB])];
  return cached(name, recipe, (tmp) => {
    const rnd = `${tmp}.ram`;
    const backing = `${tmp}.backing`;
    try {
      // All RAM above 1 MiB but the top (the BIOS area and firmware tables live there), or `dataMiB` of it.
      randomFile(rnd, (dataMiB ?? ramMiB - Math.min(32, ramMiB / 4)) * MiB);
      const monitor = [
        "migrate_set_parameter max-bandwidth 100G",
        ...(mappedRam ? ["migrate_set_capability mapped-ram on", `migrate "file:${tmp}"`] : [`migrate "exec:cat > ${tmp}"`]),
        "quit",
        "",
      ].join("\n");
      const args = ["-M", `pc-i440fx-${release}`, "-m", String(ramMiB), "-S", "-nodefaults", "-display", "none"];
      // A guest larger than this machine's memory. QEMU reads every page while
      // it saves (zero-page detection); with anonymous RAM those reads left a
      // 64 GiB guest's pages resident (22 GiB, then the OOM killer). Backed by
      // a private mapping of a sparse file instead, the pages it reads are
      // clean page cache the kernel reclaims: a 64 GiB guest saves in about a
      // minute here. reserve=off: no swap reservation (MAP_NORESERVE).
      if (dataMiB !== undefined) {
        execFileSync("truncate", ["-s", `${ramMiB}M`, backing]);
        args.push("-object", `memory-backend-file,id=pc.ram,size=${ramMiB}M,mem-path=${backing},share=off,reserve=off`, "-machine", "memory-backend=pc.ram");
      }
      args.push("-device", `loader,file=${rnd},addr=0x100000,force-raw=on`, "-monitor", "stdio");
      execFileSync(qemu, args, { input: monitor, stdio: ["pipe", "ignore", "pipe"], timeout: 900_000 });
      if (!existsSync(tmp) || statSync(tmp).size < (dataMiB ?? ramMiB) * MiB * 0.7) throw new Error(`QEMU ${release} wrote no complete stream`);
    } finally {
      rmSync(rnd, { force: true });
      rmSync(backing, { force: true });
    }
  });
}

/** fixtures/tools/xenpeer/big_libxc.py: libxc v3 (optionally wrapped in libxl / xl) of `mib` MiB of pages. */
export function xenpeerLibxc(mib, perRecord, wrap = "libxc") {
  const script = join(XENPEER, "big_libxc.py");
  return cached(`${wrap}-${perRecord}p-${mib}m.bin`, [script, join(XENPEER, "xsr.py"), mib, perRecord, wrap], (tmp) => {
    execFileSync(SYSTEM_PYTHON, [script, tmp, "--mib", String(mib), "--pages-per-record", String(perRecord), "--wrap", wrap], { cwd: XENPEER, stdio: ["ignore", "ignore", "inherit"] });
  });
}

/** fixtures/tools/xenpeer/big_legacy.py: a legacy 64-bit-toolstack HVM image of `mib` MiB of pages. */
export function xenpeerLegacy(mib) {
  const script = join(XENPEER, "big_legacy.py");
  return cached(`legacy-64-${mib}m.bin`, [script, join(XENPEER, "xsr.py"), mib], (tmp) => {
    execFileSync(SYSTEM_PYTHON, [script, tmp, "--mib", String(mib), "--width", "64"], { cwd: XENPEER, stdio: ["ignore", "ignore", "inherit"] });
  });
}

/** Our context generator (gen/context.mjs). */
export function oursContext(mib) {
  return cached(`context-${mib}m.bin`, [join(HERE, "gen/context.mjs"), join(HERE, "gen/file-writer.mjs"), mib], (tmp) => generateContext(tmp, mib * MiB));
}

/** Our QEMU generator: a real 7.2 stream (fixtures/qemu) with its pc.ram rebuilt as `mib` MiB of random pages. */
export function oursQemu(mib) {
  const t = qemuTemplate();
  if (!t) throw new Error("no template stream (fixtures/qemu/pc-7.2-stopped.mig)");
  return cached(`qemu-gen-${mib}m.mig`, [join(HERE, "gen/qemu.mjs"), t, mib], (tmp) => generateQemu(tmp, mib * MiB));
}

/** A stream of about 1 KiB (context family, our generator), for start-up. */
export function oneKiB() {
  return cached("context-1k.bin", [join(HERE, "gen/context.mjs"), "1k"], (tmp) => generateContext(tmp, 1024, 96));
}
