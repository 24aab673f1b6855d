import { describe, expect, it } from "vitest";
import { bytesRandomAccess, openQcow2, openSaveImage, checkSaveImage, saveImagePrefix } from "../src/index.js";
import { nodeDecompress } from "../src/node.js";
import { artefact, drain, fault } from "./helpers.js";

/*
 * Damaged and hostile containers, made by changing named fields of the real
 * fixtures: each must end in one WireError naming the offset of the field at
 * fault, quickly, without reading (or allocating) what the bad field claims.
 */
const QCOW = artefact("qcow2-7.2-two-snaps.qcow2");
const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const copy = () => QCOW.slice();
const SNAP_TABLE = Number(dv(QCOW).getBigUint64(64));
const L1 = Number(dv(QCOW).getBigUint64(SNAP_TABLE)); // snapshot 1's own L1 table
/** The L1 entry that maps the VM state (index 1: 512 MiB with 64 KiB clusters) and the L2 table it names. */
const L1_VM = L1 + 8;
const L2 = Number(dv(QCOW).getBigUint64(L1_VM) & 0x00ff_ffff_ffff_fe00n);

async function firstSnapshotState(bytes: Uint8Array) {
  const img = await openQcow2(bytesRandomAccess(bytes));
  return drain(img.vmState(img.snapshots[0]!));
}

describe("hostile qcow2 images", () => {
  it("the fixture's layout is what the cases below assume", () => {
    expect(SNAP_TABLE % 65536).toBe(0);
    expect(L2 % 65536).toBe(0);
    expect(L2).toBeGreaterThan(0);
  });

  it.each([
    ["snapshot table past the end of the file", (b: Uint8Array) => dv(b).setBigUint64(64, BigInt(QCOW.byteLength + 65536 * 4 - (QCOW.byteLength % 65536))), 64, /runs past the end of the file/],
    ["nb_snapshots far above what the file holds", (b: Uint8Array) => dv(b).setUint32(60, 60_000), 64, /at least 2400000 bytes.*runs past the end/],
    ["nb_snapshots above QEMU's limit", (b: Uint8Array) => dv(b).setUint32(60, 0xffffffff), 60, /above QEMU's limit/],
    ["encrypted (LUKS)", (b: Uint8Array) => dv(b).setUint32(32, 2), 32, /encrypted image \(LUKS\)/],
    ["an external data file", (b: Uint8Array) => dv(b).setBigUint64(72, 1n << 2n), 72, /external data file/],
    ["an unknown incompatible feature", (b: Uint8Array) => dv(b).setBigUint64(72, 1n << 40n), 72, /unknown incompatible feature bits 0x10000000000/],
    ["version 4", (b: Uint8Array) => dv(b).setUint32(4, 4), 4, /qcow2 version 4 is not supported/],
    ["cluster_bits 30", (b: Uint8Array) => dv(b).setUint32(20, 30), 20, /cluster_bits 30/],
    ["a snapshot L1 table past the end", (b: Uint8Array) => dv(b).setBigUint64(SNAP_TABLE, BigInt(QCOW.byteLength - (QCOW.byteLength % 65536) + 65536)), SNAP_TABLE, /L1 table at .* runs past the end/],
    ["a VM state larger than its L1 table maps", (b: Uint8Array) => dv(b).setBigUint64(SNAP_TABLE + 40, 1n << 40n), SNAP_TABLE + 32, /reaches past what its L1 table/],
  ] as const)("%s: refused at the field's offset", async (_what, mutate, offset, message) => {
    const b = copy();
    mutate(b);
    const f = await fault(() => firstSnapshotState(b));
    expect(f.offset).toBe(offset);
    expect(f.message).toMatch(message);
    expect(f.ms).toBeLessThan(2000);
  });

  it.each([
    ["an L1 entry naming the L1 table itself as its L2 table (a loop)", (b: Uint8Array) => dv(b).setBigUint64(L1_VM, BigInt(L1) | (1n << 63n)), L1_VM, /overlaps the snapshot's own L1 table/],
    ["an L2 entry naming its own L2 table as data (a loop)", (b: Uint8Array) => dv(b).setBigUint64(L2, BigInt(L2) | (1n << 63n)), L2, /is the L2 table that maps it/],
    ["an L2 table past the end of the file", (b: Uint8Array) => dv(b).setBigUint64(L1_VM, BigInt(QCOW.byteLength + 65536 * 16 - (QCOW.byteLength % 65536))), L1_VM, /L2 table at .* past the end/],
    ["a data cluster past the end of the file", (b: Uint8Array) => dv(b).setBigUint64(L2 + 8, 1n << 40n), L2 + 8, /data cluster at .* past the end/],
    ["a compressed VM-state cluster", (b: Uint8Array) => dv(b).setBigUint64(L2, (1n << 62n) | 0x10000n), L2, /compressed cluster in the VM state/],
    ["reserved L1 bits", (b: Uint8Array) => dv(b).setBigUint64(L1_VM, dv(b).getBigUint64(L1_VM) | 2n), L1_VM, /reserved bits/],
  ] as const)("%s: refused when the VM state is read, at the entry's offset", async (_what, mutate, offset, message) => {
    const b = copy();
    mutate(b);
    const img = await openQcow2(bytesRandomAccess(b)); // the tables are only read on demand
    const f = await fault(() => drain(img.vmState(img.snapshots[0]!)));
    expect(f.offset).toBe(offset);
    expect(f.message).toMatch(message);
    expect(f.ms).toBeLessThan(2000);
  });

  it("a zero cluster reads as zeros (version 3 zero flag), not as the old data", async () => {
    const b = copy();
    dv(b).setBigUint64(L2 + 8, 1n); // second VM-state cluster: all zeros
    const state = await firstSnapshotState(b);
    const want = artefact("qcow2-7.2-two-snaps.snap-a.vmstate").slice();
    want.fill(0, 65536, 131072);
    expect(Buffer.from(state).equals(Buffer.from(want))).toBe(true);
  });

  it("a VM state that maps to nothing for gigabytes is refused after 64 MiB, not handed out as zeros", async () => {
    const b = copy();
    dv(b).setUint32(SNAP_TABLE + 8, 4); // the L1 table "maps" 2 GiB
    dv(b).setBigUint64(SNAP_TABLE + 40, 1n << 30n); // 1 GiB of VM state
    dv(b).setBigUint64(L1_VM, 0n); // … none of it allocated
    const f = await fault(() => firstSnapshotState(b));
    expect(f.message).toMatch(/map to no cluster/);
    expect(f.ms).toBeLessThan(5000);
  });
});

const SAVE = artefact("libvirt-9.0-raw.save");
const mutateSave = (fn: (b: Uint8Array) => void, from = SAVE) => {
  const b = from.slice();
  fn(b);
  return b;
};

describe("hostile libvirt save images", () => {
  it.each([
    ["an oversize data_len", (b: Uint8Array) => dv(b).setUint32(20, 0xfffffff0, true), 20, /data_len 4294967280 runs past the end of the file/],
    ["version 3", (b: Uint8Array) => dv(b).setUint32(16, 3, true), 16, /libvirt save image version 3 is not supported \(2 is\)/],
    ["an unknown compression", (b: Uint8Array) => dv(b).setUint32(28, 9, true), 28, /unknown compression 9/],
    ["a cookieOffset past data_len", (b: Uint8Array) => dv(b).setUint32(32, 70_000, true), 32, /cookieOffset 70000 is past data_len/],
    ["a cookieOffset inside the domain XML", (b: Uint8Array) => dv(b).setUint32(32, 100, true), 92, /domain XML is not NUL-terminated before the cookie/],
  ] as const)("%s: refused at the field's offset", async (_w, mutate, offset, message) => {
    const f = await fault(() => openSaveImage(bytesRandomAccess(mutateSave(mutate))));
    expect(f.offset).toBe(offset);
    expect(f.message).toMatch(message);
  });

  it("an incomplete save (LibvirtQemudPart) is read, reported as such, and refused by verify", async () => {
    const b = mutateSave((x) => x.set(new TextEncoder().encode("LibvirtQemudPart"), 0));
    const img = await openSaveImage(bytesRandomAccess(b));
    expect(img.header.partial).toBe(true);
    const f = await fault(async () => checkSaveImage(img));
    expect(f).toMatchObject({ offset: 0, code: "REFUSED" });
    expect(f.message).toMatch(/incomplete save image/);
  });

  it("malformed domain XML is found by verify at its byte offset", async () => {
    const b = mutateSave((x) => x.set(new TextEncoder().encode("</nama>"), 92 + 43)); // <name>vmstream-fixture</name>
    const img = await openSaveImage(bytesRandomAccess(b));
    const f = await fault(async () => checkSaveImage(img));
    expect(f.message).toMatch(/end tag <\/nama> closes <name>/);
    expect(f.offset).toBe(92 + 43);
  });

  it("non-NUL padding after the XML is found by verify", async () => {
    const b = mutateSave((x) => (x[92 + 67_000] = 0x41));
    const f = await fault(async () => checkSaveImage(await openSaveImage(bytesRandomAccess(b))));
    expect(f).toMatchObject({ offset: 92 + 67_000, code: "NONZERO_PADDING" });
  });

  it.each(["gzip", "xz"] as const)("a truncated %s stream: one fault with an offset inside the file, quickly", async (kind) => {
    const whole = artefact(`libvirt-9.0-${kind}.save`);
    const cut = whole.subarray(0, whole.byteLength - 5000);
    const img = await openSaveImage(bytesRandomAccess(cut));
    const f = await fault(() => drain(img.stream(nodeDecompress)));
    expect(f.message).toMatch(new RegExp(`${kind} stream from offset ${img.streamOffset} is corrupt or cut short`));
    expect(f.offset).toBeGreaterThanOrEqual(img.streamOffset);
    expect(f.offset).toBeLessThanOrEqual(cut.byteLength);
    expect(f.ms).toBeLessThan(5000);
  });

  it("a compression whose program is not installed is refused with its name", async () => {
    // lzop is installed where the peers are (install.sh): hide every program by emptying PATH for this spawn.
    const prefix = saveImagePrefix({ xml: "<domain/>", cookie: null, wasRunning: 1, compression: "lzop" });
    const img = await openSaveImage(bytesRandomAccess(new Uint8Array([...prefix, 1, 2, 3])));
    const path = process.env.PATH;
    process.env.PATH = "/nonexistent";
    let src;
    try {
      src = img.stream(nodeDecompress);
    } finally {
      process.env.PATH = path;
    }
    const f = await fault(() => drain(src));
    expect(f).toMatchObject({ code: "REFUSED", offset: 28 });
    expect(f.message).toMatch(/needs the 'lzop' program/);
  });

});
