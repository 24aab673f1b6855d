import { spawnSync } from "node:child_process";
import { closeSync, ftruncateSync, openSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OUT, PKG, chromiumFor, openFile, openInspector } from "./page.js";

/*
 * The web inspector opens the files people hold (issue 17): a qcow2 image
 * with internal snapshots and a libvirt save image, from the real fixtures
 * in fixtures/artefacts (made by QEMU 7.2/10.0 and libvirt 9.0, see its
 * README). The container is shown, then the stream inside it, as for a bare
 * stream; what the page says about the stream is checked against the bytes
 * the fixtures README names (the stored VM state, the decompressed stream).
 */
const REPO = join(PKG, "../..");
const ART = join(REPO, "fixtures/artefacts");

const exe = chromiumFor("inspector container e2e");

/** libvirt-9.0-*.save: 92-byte header, then data_len 67179 of XML (fixtures/artefacts/README.md). */
const STREAM_AT = 92 + 67_179;

describe.skipIf(!exe)("web inspector: qcow2 images and libvirt save images in Chromium", () => {
  let browser: Browser;
  let page: Page;
  let requests: string[];

  beforeAll(async () => {
    // Its own build folder: the other Chromium test file builds at the same time.
    ({ browser, page, requests } = await openInspector(exe!, "dist-containers", 15_000));
  });

  afterAll(async () => {
    await browser?.close();
  });

  const text = async (id: string) => (await page.textContent(`[data-testid=${id}]`)) ?? "";
  /** Open a file and wait until the verify line has a verdict (or asks for a snapshot). */
  const open = (file: string) => openFile(page, file, 30_000);
  /** The hex bytes highlighted for the selected tree item, as one hex string. */
  const selected = async () => (await page.locator("[data-testid=hex] .hx .sel").allTextContents()).join("");

  it("a qcow2 image with two snapshots: the table, a pick, then the snapshot's VM state as a stream", async () => {
    await open(join(ART, "qcow2-7.2-two-snaps.qcow2"));
    expect(await text("container-title")).toBe("qcow2-7.2-two-snaps.qcow2: qcow2 version 3 image, 2,031,759 bytes, 64 KiB clusters, virtual size 67,108,864 bytes; 2 internal snapshots");
    const rows = await page.locator("[data-testid=snapshots] tr[data-snapshot]").allTextContents();
    // qemu-img snapshot -l as the README shows it: ids 1 and 2, snap-a and snap-b, 719818 bytes of VM state each.
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^1snap-a\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\d\d:\d\d:\d\d\.\d{3}719,818 B-0x20000000/);
    expect(rows[1]).toMatch(/^2snap-b.*719,818 B/);
    // Two VM states: the page asks which one.
    expect(await text("verify")).toBe("2 snapshots hold a VM state: pick one above");

    await page.click("[data-testid=snapshot-2]");
    await expect.poll(() => text("verify"), { timeout: 30_000 }).toMatch(/^✔ valid/);
    expect(await text("format")).toBe("qemu@3");
    expect(await text("verify")).toMatch(/^✔ valid — \d+ records, 719,818 bytes/);
    expect(await text("guest")).toMatch(/^machine pc-i440fx-7\.2, 64 MiB of RAM/);
    expect(await page.getAttribute("tr[data-snapshot='2']", "class")).toBe("current");
    // The hex view shows the VM state's bytes (read through the snapshot's L1/L2 tables), not the image's.
    const vmstate = readFileSync(join(ART, "qcow2-7.2-two-snaps.snap-b.vmstate"));
    const timer = vmstate.indexOf(Buffer.from([0x04, 0, 0, 0, 0, 5, ...Buffer.from("timer")]));
    expect(timer).toBeGreaterThan(0);
    await page.click("[data-testid=tree] summary.located >> text=timer");
    await expect.poll(selected).toContain(Buffer.from("timer").toString("hex"));
    expect(await page.textContent("#hex-title")).toContain(`at 0x${timer.toString(16)}`);
    await page.screenshot({ path: join(OUT, "qcow2.png"), fullPage: true });

    // Device state, as for a plain stream.
    await page.click("#view-analyze");
    await page.waitForSelector("[data-testid=tree][data-view=analyze]");
    expect(await text("tree")).toContain("timer (0)");

    // The other snapshot.
    await page.click("[data-testid=snapshot-1]");
    await expect.poll(() => text("verify"), { timeout: 30_000 }).toMatch(/^✔ valid — \d+ records, 719,818 bytes/);
    expect(await page.getAttribute("tr[data-snapshot='1']", "class")).toBe("current");
  });

  it("a single-snapshot image (QEMU 10.0) opens its VM state at once", async () => {
    await open(join(ART, "qcow2-10.0-snap.qcow2"));
    const size = statSync(join(ART, "qcow2-10.0-snap.snap-a.vmstate")).size;
    expect(await text("verify")).toMatch(new RegExp(`^✔ valid — \\d+ records, ${size.toLocaleString("en-US")} bytes`));
    expect(await text("guest")).toMatch(/^machine pc-i440fx-10\.0/);
  });

  it("the image is read with Blob.slice, never whole: the same image grown to 64 GiB (sparse) opens as fast", async () => {
    // qcow2 allows bytes past its last cluster; a page that read the file whole could not open this.
    const big = join(OUT, "two-snaps-64g.qcow2");
    writeFileSync(big, readFileSync(join(ART, "qcow2-7.2-two-snaps.qcow2")));
    const fd = openSync(big, "r+");
    ftruncateSync(fd, 64 * 2 ** 30);
    closeSync(fd);
    const t0 = Date.now();
    await open(big);
    expect(await text("container-title")).toMatch(/68,719,476,736 bytes, 64 KiB clusters.*2 internal snapshots$/);
    await page.click("[data-testid=snapshot-1]");
    await expect.poll(() => text("verify"), { timeout: 30_000 }).toMatch(/^✔ valid — \d+ records, 719,818 bytes/);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it.each(["raw", "gzip"] as const)("a %s libvirt save image: its header and domain XML, then its QEMU stream", async (kind) => {
    const file = join(ART, `libvirt-9.0-${kind}.save`);
    await open(file);
    expect(await text("container-title")).toBe(`libvirt-9.0-${kind}.save: libvirt save image version 2, ${statSync(file).size.toLocaleString("en-US")} bytes`);
    const box = await text("container");
    expect(box).toContain("domainvmstream-fixture (type qemu)");
    expect(box).toContain("machinepc-i440fx-7.2 (x86_64)");
    expect(box).toContain(`compression${kind} (${kind === "raw" ? 0 : 1})`);
    expect(box).toContain(`streamat ${STREAM_AT}`);
    expect(await text("container-xml")).toContain("<name>vmstream-fixture</name>");
    // The stream inside: the bytes after the XML area, gunzipped for the gzip image.
    const stored = readFileSync(file).subarray(STREAM_AT);
    const stream = kind === "gzip" ? gunzipSync(stored) : stored;
    expect(await text("format")).toBe("qemu@3");
    expect(await text("verify")).toMatch(new RegExp(`^✔ valid — \\d+ records, ${stream.byteLength.toLocaleString("en-US")} bytes`));
    expect(await text("guest")).toMatch(/^machine pc-i440fx-7\.2, 64 MiB of RAM/);
    // Offsets are the stream's; the hex view shows the stream's bytes at them (decompressed for gzip).
    const timer = stream.indexOf(Buffer.from([0x04, 0, 0, 0, 0, 5, ...Buffer.from("timer")]));
    await page.click("[data-testid=tree] summary.located >> text=timer");
    await expect.poll(selected).toContain(Buffer.from("timer").toString("hex"));
    expect(await page.textContent("#hex-title")).toContain(`at 0x${timer.toString(16)}`);
    await page.screenshot({ path: join(OUT, `save-${kind}.png`), fullPage: true });
  });

  it.each(["xz", "bzip2", "lzop"] as const)("a %s save image: the header is shown, the stream refused by name, once", async (kind) => {
    let file = join(ART, `libvirt-9.0-${kind}.save`);
    if (kind !== "xz") {
      // libvirt's save_image_format 2 and 4: the raw fixture's stream through the real program, when it is here.
      const raw = readFileSync(join(ART, "libvirt-9.0-raw.save"));
      const z = spawnSync(kind, ["-c"], { input: raw.subarray(STREAM_AT), maxBuffer: 64 << 20 });
      const body = z.status === 0 ? z.stdout : Buffer.from("not compressed: the page must not read it");
      const head = Buffer.from(raw.subarray(0, STREAM_AT));
      head.writeUInt32LE(kind === "bzip2" ? 2 : 4, 28);
      file = join(OUT, `libvirt-${kind}.save`);
      writeFileSync(file, Buffer.concat([head, body]));
    }
    await open(file);
    expect(await text("container")).toContain(`compression${kind} (${{ xz: 3, bzip2: 2, lzop: 4 }[kind]})`);
    const why = `${kind}-compressed save images cannot be read in the browser (it decompresses gzip only): run 'vmstream inspect FILE', which runs '${kind} -dc' as libvirt does`;
    expect(await text("container-refused")).toBe(why);
    expect(await text("verify")).toBe(why);
    expect(await text("format")).toBe("libvirt-save@2");
  });

  it("a cut gzip stream: the container's line, as the CLI prints it, with an offset in the file", async () => {
    const whole = readFileSync(join(ART, "libvirt-9.0-gzip.save"));
    const cut = join(OUT, "libvirt-gzip-cut.save");
    writeFileSync(cut, whole.subarray(0, whole.byteLength - 5000));
    await open(cut);
    const m = new RegExp(`^libvirt-gzip-cut\\.save: libvirt-save@2: offset (\\d+): gzip stream from offset ${STREAM_AT} is corrupt or cut short`).exec(await text("fault-line"));
    expect(m, await text("fault-line")).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(STREAM_AT);
    expect(Number(m![1])).toBeLessThanOrEqual(whole.byteLength - 5000);
    // The hex view now shows the file at that offset.
    expect(await page.textContent("#hex-title")).toBe(`fault in the libvirt-save at 0x${Number(m![1]).toString(16)} (an offset in the file)`);
  });

  it("a loop in a snapshot's tables: met while its VM state is read, named as the CLI names it", async () => {
    const b = Buffer.from(readFileSync(join(ART, "qcow2-7.2-two-snaps.qcow2")));
    const table = Number(b.readBigUInt64BE(64)); // snapshots_offset
    const l1 = Number(b.readBigUInt64BE(table)); // snapshot 1's l1_table_offset
    b.writeBigUInt64BE(BigInt(l1), l1 + 8); // its second L1 entry names the L1 table itself as an L2 table
    const p = join(OUT, "l1-loop.qcow2");
    writeFileSync(p, b);
    await open(p);
    await page.click("[data-testid=snapshot-1]");
    await expect.poll(() => text("verify"), { timeout: 30_000 }).toMatch(/^✘/);
    // The line packages/cli/test/containers.test.ts expects from `vmstream verify` for the same bytes.
    expect(await text("fault-line")).toBe(`l1-loop.qcow2: qcow2@3: offset ${l1 + 8}: L2 table at ${l1} overlaps the snapshot's own L1 table (a loop in the tables)`);
  });

  it("a broken container is refused with the container's own line (snapshot table past the end)", async () => {
    const b = Buffer.from(readFileSync(join(ART, "qcow2-7.2-two-snaps.qcow2")));
    b.writeBigUInt64BE(1n << 40n, 64); // snapshots_offset
    const p = join(OUT, "qcow2-table-past-end.qcow2");
    writeFileSync(p, b);
    await open(p);
    expect(await text("fault-line")).toMatch(/^qcow2-table-past-end\.qcow2: qcow2(@3)?: offset 64: snapshot table at 1099511627776 .*past the end of the file/);
    expect(await text("format")).toMatch(/^qcow2(@3)?$/);

    // A save image whose data_len runs past the end.
    const s = Buffer.from(readFileSync(join(ART, "libvirt-9.0-raw.save")));
    s.writeUInt32LE(0x7fffffff, 20);
    const q = join(OUT, "save-data-len.save");
    writeFileSync(q, s);
    await open(q);
    expect(await text("fault-line")).toMatch(/^save-data-len\.save: libvirt-save: offset 20: data_len 2147483647 runs past the end of the file/);
  });

  it("two containers picked together are compared by the streams inside, as the extracted streams are", async () => {
    const done = () => page.waitForSelector("[data-testid=diff][data-done]", { timeout: 60_000 });
    const diffOf = async (a: string, b: string) => {
      await page.setInputFiles("[data-testid=file]", [a, b]);
      await done();
      const lines = ((await page.textContent("[data-testid=diff-text]")) ?? "").split("\n");
      return { verdict: await text("diff-verdict"), lines, b: await text("diff-b") };
    };
    // A gzip save image (libvirt 9.0, QEMU 7.2) against QEMU 10.0's snapshot: containers of both kinds.
    const save = join(ART, "libvirt-9.0-gzip.save");
    const snap = join(ART, "qcow2-10.0-snap.qcow2");
    const inside = await diffOf(save, snap);
    expect(inside.b).toBe("qcow2-10.0-snap.qcow2 (qemu@3, pc-i440fx-10.0)");
    expect(inside.verdict).toMatch(/^different: \d+ sections compared, \d+ field differences, \d+ sections? only in one$/);
    // The same streams, taken out of their containers by other means: gunzip, and the VM state QEMU's qemu-io read back.
    const a = join(OUT, "gzip-save-stream.mig");
    writeFileSync(a, gunzipSync(readFileSync(save).subarray(STREAM_AT)));
    const extracted = await diffOf(a, join(ART, "qcow2-10.0-snap.snap-a.vmstate"));
    expect(inside.verdict).toBe(extracted.verdict);
    // Line for line, after the two that name the files.
    expect(inside.lines.slice(0, 2)).toEqual(["A: libvirt-9.0-gzip.save (qemu@3, pc-i440fx-7.2)", "B: qcow2-10.0-snap.qcow2 (qemu@3, pc-i440fx-10.0)"]);
    expect(inside.lines.slice(2)).toEqual(extracted.lines.slice(2));
    expect(inside.lines.length).toBeGreaterThan(10);

    // A qcow2 image with two VM states cannot be compared without a pick: one clear refusal.
    await page.setInputFiles("[data-testid=file]", [join(ART, "qcow2-7.2-two-snaps.qcow2"), save]);
    await done();
    expect(await text("diff-verdict")).toMatch(/^cannot compare: offset \d+ \(0x[0-9a-f]+\): qcow2-7\.2-two-snaps\.qcow2 is a qcow2 image with 2 snapshots holding a VM state \(1 snap-a, 2 snap-b\): open it alone to pick one$/);
  });

  it("a bare stream still opens as before, and nothing went to the network", async () => {
    await open(join(REPO, "fixtures/qemu/pc-7.2-stopped.mig"));
    expect(await page.isHidden("[data-testid=container]")).toBe(true);
    expect(await text("verify")).toMatch(/^✔ valid/);
    expect(requests.filter((u) => !u.startsWith("file:") && !u.startsWith("blob:") && !u.startsWith("data:"))).toEqual([]);
  });
});
