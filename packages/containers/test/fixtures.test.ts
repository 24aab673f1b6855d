import { spawnSync } from "node:child_process";
import { StreamReader } from "@vmstream/framing";
import { qemuCodec } from "@vmstream/vmstate";
import { describe, expect, it } from "vitest";
import { bytesRandomAccess, domainInfo, openQcow2, openSaveImage, parseXml } from "../src/index.js";
import { fileRandomAccess, nodeDecompress } from "../src/node.js";
import { MemorySink } from "@vmstream/framing";
import { writeSaveImage } from "../src/index.js";
import { artefact, artefactPath, drain } from "./helpers.js";

/*
 * Every file in fixtures/artefacts, against what its README says (the
 * snapshot tables as qemu-img printed them, the header bytes) and against the
 * bytes the real tools gave back: the `.vmstate` files QEMU's own qemu-io read
 * from the VM state area, and the streams `gzip -dc` / `xz -dc` decompress.
 */

/** The README's table: id, name, VM state bytes, VM clock (seconds, as printed). */
const SNAPSHOTS: Record<string, [string, string, number, number][]> = {
  "qcow2-7.2-two-snaps": [
    ["1", "snap-a", 719_818, 1.532],
    ["2", "snap-b", 719_818, 2.534],
  ],
  "qcow2-10.0-snap": [["1", "snap-a", 728_319, 1.321]],
};

describe("qcow2 fixtures", () => {
  it.each(Object.keys(SNAPSHOTS))("%s: the snapshot table is the README's, and each VM state is the stored bytes", async (name) => {
    const img = await openQcow2(await fileRandomAccess(artefactPath(`${name}.qcow2`)));
    expect(img.header).toMatchObject({ version: 3, clusterSize: 65536, size: 64 << 20, extendedL2: false });
    expect(img.snapshots.map((s) => [s.id, s.name, s.vmStateSize, Number(s.vmClockNsec / 1_000_000n) / 1e3 /* truncated, as qemu-img prints it */])).toEqual(SNAPSHOTS[name]);
    for (const s of img.snapshots) {
      expect(s.extraDataSize).toBe(24);
      expect(s.icount).toBe(-1n);
      expect(s.vmStateOffset).toBe(512 << 20); // l1_vm_state_index 1 << (2 × 16 − 3)
      const got = await drain(img.vmState(s));
      expect(Buffer.from(got).equals(Buffer.from(artefact(`${name}.${s.name}.vmstate`)))).toBe(true);
      // …and the codecs read it unchanged, straight from the Source.
      const rep = await qemuCodec.verify(new StreamReader(img.vmState(s)), "3", {});
      expect(rep.bytes).toBe(s.vmStateSize);
    }
  });

  it("the 7.2 image ends right after its snapshot table, not on a cluster boundary", async () => {
    const bytes = artefact("qcow2-7.2-two-snaps.qcow2");
    expect(bytes.byteLength).toBe(2_031_759);
    expect(bytes.byteLength % 65536).not.toBe(0);
    const img = await openQcow2(bytesRandomAccess(bytes));
    expect(img.snapshots).toHaveLength(2);
  });

  it("seeks land on the right bytes (random windows against the stored state)", async () => {
    const img = await openQcow2(await fileRandomAccess(artefactPath("qcow2-7.2-two-snaps.qcow2")));
    const want = artefact("qcow2-7.2-two-snaps.snap-b.vmstate");
    for (const [at, len] of [[0, 10], [65_530, 20], [131_072, 65_536], [719_800, 18]] as const) {
      const src = img.vmState(img.snapshots[1]!);
      expect(await src.seek(at)).toBe(at);
      const buf = new Uint8Array(len);
      expect(await src.read(buf)).toBe(len);
      expect(Buffer.from(buf).equals(Buffer.from(want.subarray(at, at + len)))).toBe(true);
    }
  });
});

const tail = (file: string, from: number) => artefact(file).subarray(from);
const decompressWith = (prog: string, bytes: Uint8Array) => {
  const r = spawnSync(prog, ["-dc"], { input: bytes, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${prog} -dc failed: ${r.stderr}`);
  return new Uint8Array(r.stdout);
};

describe("libvirt save fixtures", () => {
  it.each([
    ["raw", 0, null],
    ["gzip", 1, "gzip"],
    ["xz", 3, "xz"],
  ] as const)("libvirt-9.0-%s.save: header as in the README, XML as virsh dumps it, the stream inside", async (kind, code, prog) => {
    const file = `libvirt-9.0-${kind}.save`;
    const img = await openSaveImage(await fileRandomAccess(artefactPath(file)));
    expect(img.header).toEqual({ partial: false, version: 2, dataLen: 67_179, wasRunning: 1, compressed: code, cookieOffset: 1407, unusedNonZeroAt: -1 });
    expect(img.compression).toBe(kind);
    expect(img.streamOffset).toBe(92 + 67_179);
    expect(img.xmlFault).toBeNull();
    expect(img.paddingNonZeroAt).toBe(-1);
    expect(img.cookie).toMatch(/^<cookie>/);
    // virsh save-image-dumpxml formats the XML its own way: the facts must agree.
    const dumped = domainInfo(parseXml(new TextDecoder().decode(artefact(`${file}.dumpxml.xml`)), 0));
    expect(img.domain).toEqual(dumped);
    expect(img.domain).toMatchObject({ name: "vmstream-fixture", machine: "pc-i440fx-7.2", memoryBytes: 64 << 20 });
    const stream = await drain(img.stream(nodeDecompress));
    const stored = tail(file, img.streamOffset);
    const want = prog ? decompressWith(prog, stored) : stored;
    expect(Buffer.from(stream).equals(Buffer.from(want))).toBe(true);
    expect(new TextDecoder().decode(stream.subarray(0, 4))).toBe("QEVM");
  });

  it("gzip decompresses in-process too (the browser path, DecompressionStream)", async () => {
    const img = await openSaveImage(bytesRandomAccess(artefact("libvirt-9.0-gzip.save")));
    const stream = await drain(img.stream());
    expect(Buffer.from(stream).equals(Buffer.from(decompressWith("gzip", tail("libvirt-9.0-gzip.save", img.streamOffset))))).toBe(true);
  });

  it("the raw image round-trips byte-identically through parse → write", async () => {
    const bytes = artefact("libvirt-9.0-raw.save");
    const img = await openSaveImage(bytesRandomAccess(bytes));
    const sink = new MemorySink();
    await writeSaveImage(
      sink,
      { xml: img.xml, cookie: img.cookie, wasRunning: img.header.wasRunning, compression: img.compression, dataLen: img.header.dataLen },
      img.stream(),
    );
    expect(Buffer.from(sink.bytes()).equals(Buffer.from(bytes))).toBe(true);
  });

  it.each(["gzip", "xz"] as const)("a %s image vmstream writes decompresses, with the real program, to the same stream", async (kind) => {
    const bytes = artefact(`libvirt-9.0-${kind}.save`);
    const img = await openSaveImage(bytesRandomAccess(bytes));
    const original = await drain(img.stream(nodeDecompress));
    const { nodeCompress } = await import("../src/node.js");
    const sink = new MemorySink();
    await writeSaveImage(sink, { xml: img.xml, cookie: img.cookie, wasRunning: 1, compression: kind, dataLen: img.header.dataLen }, img.stream(nodeDecompress), nodeCompress);
    const out = sink.bytes();
    expect(Buffer.from(out.subarray(0, img.streamOffset)).equals(Buffer.from(bytes.subarray(0, img.streamOffset)))).toBe(true);
    expect(Buffer.from(decompressWith(kind, out.subarray(img.streamOffset))).equals(Buffer.from(original))).toBe(true);
  });

  it.each([
    ["bzip2", 2],
    ["lzop", 4],
  ] as const)("%s (save_image_format %i): an image vmstream writes holds the raw image's stream, read back on the fly; cut short, one fault", async (kind, code) => {
    const raw = artefact("libvirt-9.0-raw.save");
    const img = await openSaveImage(bytesRandomAccess(raw));
    const { nodeCompress } = await import("../src/node.js");
    const sink = new MemorySink();
    await writeSaveImage(sink, { xml: img.xml, cookie: img.cookie, wasRunning: 1, compression: kind, dataLen: img.header.dataLen }, img.stream(), nodeCompress);
    const out = sink.bytes();
    expect(new DataView(out.buffer, out.byteOffset).getUint32(28, true)).toBe(code);
    const stream = raw.subarray(img.streamOffset);
    // The real program reads what vmstream wrote …
    expect(Buffer.from(decompressWith(kind, out.subarray(img.streamOffset))).equals(Buffer.from(stream))).toBe(true);
    // … and vmstream reads it back through the same program.
    const back = await openSaveImage(bytesRandomAccess(out));
    expect(back.compression).toBe(kind);
    expect(Buffer.from(await drain(back.stream(nodeDecompress))).equals(Buffer.from(stream))).toBe(true);
    const cut = await openSaveImage(bytesRandomAccess(out.subarray(0, out.byteLength - 2000)));
    const t0 = Date.now();
    const e = await drain(cut.stream(nodeDecompress)).then(
      () => null,
      (x: { offset?: number; message: string }) => x,
    );
    expect(e?.message).toMatch(new RegExp(`^${kind} stream from offset ${img.streamOffset} is corrupt or cut short: `));
    expect(e?.offset).toBeGreaterThanOrEqual(img.streamOffset);
    expect(e?.offset).toBeLessThanOrEqual(out.byteLength - 2000);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
