import { closeSync, ftruncateSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OUT, PKG, chromiumFor, openFile, openInspector } from "./page.js";

const REPO = join(PKG, "../..");
/** The repository's fixtures (fixtures/README.md). */
const FIXTURES = join(REPO, "fixtures");

const exe = chromiumFor("inspector e2e");

describe.skipIf(!exe)("web inspector in Chromium", () => {
  let browser: Browser;
  let page: Page;
  let requests: string[];

  beforeAll(async () => {
    ({ browser, page, requests } = await openInspector(exe!, "dist", 10_000));
  });

  afterAll(async () => {
    await browser?.close();
  });

  const open = (file: string) => openFile(page, file, 20_000);

  it("shows a real QEMU 7.2 stream: format, sections with offsets, RAM, verify result", async () => {
    await open(join(FIXTURES, "qemu/pc-7.2-stopped.mig"));
    expect(await page.textContent("[data-testid=format]")).toBe("qemu@3");
    expect(await page.textContent("[data-testid=file-name]")).toBe("pc-7.2-stopped.mig");
    expect(await page.textContent("[data-testid=verify]")).toMatch(/^✔ valid/);
    // -M pc-i440fx-7.2 -m 32
    expect(await page.textContent("[data-testid=guest]")).toBe("machine pc-i440fx-7.2, 32 MiB of RAM (pc.ram)");
    expect(await page.textContent("[data-testid=contents]")).toMatch(/^\d+ sections; RAM: /);
    const tree = (await page.textContent("[data-testid=tree]")) ?? "";
    // Sections QEMU 7.2 writes for pc-i440fx-7.2 (see the fixture's analyze.json).
    for (const s of ["timer", "cpu", "apic", "0000:00:01.3/piix4_pm", "globalstate"]) expect(tree).toContain(s);
    expect(await page.textContent("[data-testid=text]")).toMatch(/pc-i440fx-7\.2/);
    // Selecting a section shows its bytes.
    await page.click("[data-testid=tree] summary.located >> text=timer");
    // Its bytes are highlighted, and they hold the section's idstr.
    await expect
      .poll(async () => (await page.locator("[data-testid=hex] .hx .sel").allTextContents()).join(""))
      .toContain(Buffer.from("timer").toString("hex"));
    await page.screenshot({ path: join(OUT, "qemu.png"), fullPage: true });
    // Device state: what analyze-migration.py -d state prints, as a tree.
    await page.click("#view-analyze");
    await page.waitForSelector("[data-testid=tree][data-view=analyze]");
    const analyze = JSON.parse(readFileSync(join(FIXTURES, "qemu/pc-7.2-stopped.analyze.json"), "utf8")) as Record<string, unknown>;
    const tree2 = (await page.textContent("[data-testid=tree]")) ?? "";
    for (const k of Object.keys(analyze).slice(0, 10)) expect(tree2).toContain(k);
    // A device there is tied to its section's bytes: apic is section 7 in this stream.
    await page.click("[data-testid=tree] summary.located >> text=apic (7)");
    await expect
      .poll(async () => (await page.locator("[data-testid=hex] .hx .sel").allTextContents()).join(""))
      .toContain(Buffer.from("apic").toString("hex"));
  });

  it("shows a Xen libxl stream with its records", async () => {
    await open(join(FIXTURES, "xen/libxl_hvm_xs.bin"));
    expect(await page.textContent("[data-testid=format]")).toBe("libxl@2");
    expect(await page.textContent("[data-testid=verify]")).toMatch(/^✔ valid/);
    // build_all.py: libxc_hvm(3) is an x86 HVM domain header from Xen 4.17, with 4 pages of data.
    expect(await page.textContent("[data-testid=guest]")).toBe("x86 HVM, Xen 4.17");
    expect(await page.textContent("[data-testid=contents]")).toMatch(/4 pages of data/);
    const tree = (await page.textContent("[data-testid=tree]")) ?? "";
    for (const r of ["LIBXC_CONTEXT", "PAGE_DATA", "HVM_CONTEXT", "EMULATOR_XENSTORE_DATA"]) expect(tree).toContain(r);
    await page.screenshot({ path: join(OUT, "xen.png"), fullPage: true });
  });

  it("renders hostile xenstore data as text, never as HTML", async () => {
    const good = readFileSync(join(FIXTURES, "xen/libxl_hvm_xs.bin"));
    // A value: any bytes are allowed, so the stream stays valid (same length keeps the layout).
    const value = good.indexOf(Buffer.from("vga.vram"));
    expect(value).toBeGreaterThan(0);
    const withValue = Buffer.from(good);
    Buffer.from("<b>x</b>").copy(withValue, value);
    writeFileSync(join(OUT, "libxl-hostile-value.bin"), withValue);
    await open(join(OUT, "libxl-hostile-value.bin"));
    expect(await page.textContent("[data-testid=verify]")).toMatch(/^✔ valid/);
    await page.click("#view-decode");
    await page.waitForSelector("[data-testid=tree][data-view=decode]");
    await page.click("[data-testid=tree] summary >> text=EMULATOR_XENSTORE_DATA");
    await page.waitForSelector('[data-testid=tree] summary >> text="xenstore"');
    await page.click('[data-testid=tree] summary >> text="xenstore"');
    // Children render on the (asynchronous) toggle event.
    await expect.poll(() => page.textContent("[data-testid=tree]")).toContain('"<b>x</b>"');
    expect(await page.locator("#tree b >> text=x").count()).toBe(0);

    // A key: the protocol forbids these characters, so verify names it — as text too.
    const key = good.indexOf(Buffer.from("physmap/f0000000/name"));
    const withKey = Buffer.from(good);
    Buffer.from("<img src=x onerror=a>").copy(withKey, key); // same length as the key it replaces
    writeFileSync(join(OUT, "libxl-hostile-key.bin"), withKey);
    await open(join(OUT, "libxl-hostile-key.bin"));
    expect(await page.textContent("[data-testid=fault-line]")).toContain('xenstore key "<img src=x onerror=a>"');
    expect(await page.locator("img").count()).toBe(0);
  });

  it("highlights the first fault of a damaged stream with the CLI's error line", async () => {
    const good = readFileSync(join(FIXTURES, "context/ctx1-small.bin"));
    const bad = new Uint8Array(good);
    bad[78] = 0xaa; // padding byte of the first record: the CLI test names this exact fault
    const path = join(OUT, "ctx1-bad-padding.bin");
    writeFileSync(path, bad);
    await open(path);
    expect(await page.textContent("[data-testid=format]")).toBe("context@1");
    expect(await page.textContent("[data-testid=fault-line]")).toBe(
      "ctx1-bad-padding.bin: context@1: offset 78: record[0]: non-zero record padding: expected 0x00, found 0xaa",
    );
    // The hex view shows the faulty byte, marked.
    expect(await page.textContent("[data-testid=hex] .fault")).toBe("aa");
    await page.screenshot({ path: join(OUT, "fault.png"), fullPage: true });
  });

  it("a damaged QEMU stream shows the sections read before the fault, the fault line and the faulty byte", async () => {
    const good = readFileSync(join(FIXTURES, "qemu/pc-7.2-stopped.mig"));
    // QEMU_VM_SECTION_FULL (4), section id 0, idstr "timer": the timer section starts here.
    const at = good.indexOf(Buffer.from([0x04, 0, 0, 0, 0, 5, ...Buffer.from("timer")]));
    const bad = Buffer.from(good);
    bad[at] = 0x2a;
    const path = join(OUT, "qemu-bad-section.mig");
    writeFileSync(path, bad);
    await open(path);
    expect(await page.textContent("[data-testid=fault-line]")).toMatch(new RegExp(`^qemu-bad-section\\.mig: qemu@3: offset ${at}: .*0x2a`));
    expect(await page.textContent("[data-testid=hex] .fault")).toBe("2a");
    // The RAM sections before it are still listed.
    expect(await page.textContent("[data-testid=tree]")).toContain("ram #0 v4");
    await page.screenshot({ path: join(OUT, "qemu-fault.png"), fullPage: true });
  });

  it("a file that is no stream at all says so at offset 0", async () => {
    const path = join(OUT, "notes.txt");
    writeFileSync(path, "these are not the bytes of any migration stream\n");
    await open(path);
    expect(await page.textContent("[data-testid=format]")).toBe("unknown");
    expect(await page.textContent("[data-testid=fault-line]")).toBe("notes.txt: unknown: offset 0: cannot detect the stream format from its header");
  });

  it("every codec runs in the browser: each QEMU and Xen fixture is detected and verifies", async () => {
    // What each fixture is, from how it was made (shared/README.md, tools/xenpeer/build_all.py).
    const family = (n: string): string =>
      n.endsWith(".mig")
        ? "qemu@3"
        : /^legacy_.*(_32|_32tool_64guest)\.bin$/.test(n)
          ? "legacy@32"
          : n.startsWith("legacy_")
            ? "legacy@64"
            : n.startsWith("xl_")
              ? "xl@1"
              : n === "libxc_hvm_v2.bin"
                ? "libxc@2"
                : /libxl|remus_like|32t64g/.test(n)
                  ? "libxl@2"
                  : "libxc@3";
    const files = [
      ...readdirSync(join(FIXTURES, "qemu")).filter((n) => n.endsWith(".mig") && n !== "pc-7.2-ram6m.mig").map((n) => join(FIXTURES, "qemu", n)),
      ...readdirSync(join(FIXTURES, "xen")).filter((n) => n.endsWith(".bin")).map((n) => join(FIXTURES, "xen", n)),
    ];
    const seen: string[] = [];
    for (const f of files) {
      await open(f);
      const n = f.slice(f.lastIndexOf("/") + 1);
      seen.push(`${n} ${await page.textContent("[data-testid=format]")} ${(await page.textContent("[data-testid=verify]"))?.slice(0, 7)}`);
    }
    expect(seen).toEqual(files.map((f) => `${f.slice(f.lastIndexOf("/") + 1)} ${family(f.slice(f.lastIndexOf("/") + 1))} ✔ valid`));
  });

  it("a format chosen by hand (like --format) skips detection", async () => {
    await page.selectOption("[data-testid=format-select]", "qemu@3");
    await open(join(FIXTURES, "xen/libxc_hvm_v3.bin"));
    expect(await page.textContent("[data-testid=format]")).toBe("qemu@3");
    expect(await page.textContent("[data-testid=fault-line]")).toMatch(/^libxc_hvm_v3\.bin: qemu@3: offset 0: /);
    await page.selectOption("[data-testid=format-select]", ""); // back to detection: the open file is read again
    await expect.poll(() => page.textContent("[data-testid=format]")).toBe("libxc@3");
    await expect.poll(() => page.textContent("[data-testid=verify]")).toMatch(/^✔ valid/);
  });

  it("accepts a stream dropped on the page", async () => {
    const bytes = [...readFileSync(join(FIXTURES, "context/ctx2-be.bin"))];
    const dt = await page.evaluateHandle((b) => {
      const d = new DataTransfer();
      d.items.add(new File([new Uint8Array(b)], "dropped.bin"));
      return d;
    }, bytes);
    await page.dispatchEvent("body", "drop", { dataTransfer: dt });
    await expect.poll(() => page.textContent("[data-testid=verify]")).toMatch(/^✔ valid/);
    expect(await page.textContent("[data-testid=file-name]")).toBe("dropped.bin");
    expect(await page.textContent("[data-testid=format]")).toBe("context@2");
  });

  it("renders a compat matrix.json, counting verdicts and listing reasons as text", async () => {
    const cells = [
      { family: "qemu", from: "3", to: "4", property: "upgrade", verdict: "pass", runs: 1000, seed: 1, reason: "" },
      { family: "qemu", from: "3", to: "4", property: "downgrade", verdict: "expected-fail", runs: 1000, seed: 1, reason: "known: <b>lossy</b>" },
      { family: "libxc", from: "2", to: "3", property: "upgrade", verdict: "fail", runs: 17, seed: 2, reason: "new failure" },
    ];
    const path = join(OUT, "matrix.json");
    writeFileSync(path, JSON.stringify({ cells }));
    await page.click("#tab-matrix");
    await page.setInputFiles("[data-testid=matrix-file]", path);
    // Reading the file is asynchronous (and a bundled matrix may be showing before it).
    await expect.poll(() => page.textContent("[data-testid=matrix-summary]")).toBe("matrix.json: 3 cells — 1 pass, 1 fail, 1 expected-fail");
    expect(await page.textContent("#matrix")).toContain("known: <b>lossy</b>");
    expect(await page.locator("#matrix b >> text=lossy").count()).toBe(0);
    await page.screenshot({ path: join(OUT, "matrix.png"), fullPage: true });
    await page.click("#tab-stream");
  });

  it("reads a 256 MiB stream in the worker with progress, and the page stays responsive", async () => {
    // A context@2 stream of 256 records of 1 MiB each: short skips are read through, not seeked,
    // so the worker really reads 256 MiB. Written sparse (descriptors only): cheap to make.
    const path = join(OUT, "big-context.bin");
    const body = 1024 * 1024;
    const records = 256;
    const fd = openSync(path, "w");
    writeSync(fd, readFileSync(join(FIXTURES, "context/ctx2-le.bin")).subarray(0, 16)); // the 16-byte version-2 header
    for (let i = 0; i < records; i++) {
      const d = Buffer.alloc(16);
      d.writeUInt32LE(2, 0); // type 2
      d.writeUInt32LE(i, 4); // instance i
      d.writeBigUInt64LE(BigInt(body), 8);
      writeSync(fd, d, 0, 16, 16 + i * (16 + body));
    }
    const size = 16 + records * (16 + body) + 16; // then an all-zero END descriptor
    ftruncateSync(fd, size);
    closeSync(fd);
    await page.setInputFiles("[data-testid=file]", path);
    let slowest = 0;
    let sawProgress = false;
    for (let i = 0; i < 600; i++) {
      const t = Date.now();
      const [verify, progress] = await page.evaluate(() => [
        document.getElementById("verify")!.textContent,
        document.getElementById("progress")!.hidden ? "" : document.querySelector("#progress span")!.textContent,
      ]);
      slowest = Math.max(slowest, Date.now() - t);
      if (/^(inspecting|verifying)… [1-9]\d*%$/.test(progress ?? "")) sawProgress = true; // part-way through
      if (verify !== "…") break;
      await page.waitForTimeout(50);
    }
    expect(await page.textContent("[data-testid=verify]")).toBe(`✔ valid — ${records + 1} records, ${size.toLocaleString("en-US")} bytes`);
    expect(sawProgress).toBe(true);
    // The page thread never waited on the parse.
    expect(slowest).toBeLessThan(1000);
    rmSync(path);
  });

  /** The diff view once the worker has answered. */
  async function diffDone(): Promise<void> {
    await page.waitForSelector("[data-testid=diff][data-done]", { timeout: 30_000 });
  }

  it("compares two QEMU saves picked together, as vmstream diff does: renames, values that differ", async () => {
    // The same pc-q35-7.2 guest saved by QEMU 7.2 and by QEMU 10.0 (fixtures/qemu-releases/README.md, cross/).
    const a = join(FIXTURES, "qemu-releases/cross/7.2-to-pc-q35-7.2.mig");
    const b = join(FIXTURES, "qemu-releases/cross/10.0-to-pc-q35-7.2.mig");
    await page.setInputFiles("[data-testid=file]", [a, b]);
    await diffDone();
    expect(await page.textContent("[data-testid=diff-a]")).toBe("7.2-to-pc-q35-7.2.mig (qemu@3, pc-q35-7.2)");
    expect(await page.textContent("[data-testid=diff-b]")).toBe("10.0-to-pc-q35-7.2.mig (qemu@3, pc-q35-7.2)");
    expect(await page.textContent("[data-testid=diff-verdict]")).toMatch(/^different: \d+ sections compared, \d+ field differences, 0 sections only in one$/);
    const rows = await page.$$eval("[data-testid=diff-fields] tbody tr", (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")));
    // QEMU 10.0's hpet description calls the field num_timers_save; the bytes are the same.
    expect(rows).toContainEqual(["hpet", "0", "num_timers", "renamed to num_timers_save", expect.any(String), expect.any(String)]);
    // The timer section's clock offsets differ between the two runs: the values analyze-migration.py printed for each.
    const analyzed = (f: string) => JSON.parse(readFileSync(f.replace(/\.mig$/, ".analyze.json"), "utf8")) as Record<string, Record<string, unknown>>;
    const timer = (j: Record<string, Record<string, unknown>>) => Object.entries(j).find(([k]) => k.startsWith("timer ("))![1];
    const [ta, tb] = [timer(analyzed(a)), timer(analyzed(b))];
    expect(ta.cpu_ticks_offset).not.toEqual(tb.cpu_ticks_offset);
    expect(rows).toContainEqual(["timer", "0", "cpu_ticks_offset", "value differs", String(ta.cpu_ticks_offset), String(tb.cpu_ticks_offset)]);
    // The CLI's text form is there too, line for line in its order.
    const text = (await page.textContent("[data-testid=diff-text]")) ?? "";
    expect(text).toContain("hpet 0: num_timers: renamed to num_timers_save in B");
    expect(text.split("\n").at(-1)).toBe(await page.textContent("[data-testid=diff-verdict]"));
    await page.screenshot({ path: join(OUT, "diff.png"), fullPage: true });
  });

  it("a save compared with itself is equal (Compare with…, and two files dropped together)", async () => {
    const a = join(FIXTURES, "qemu-releases/cross/7.2-to-pc-q35-7.2.mig");
    await open(a);
    await page.setInputFiles("[data-testid=file-b]", a);
    await diffDone();
    expect(await page.textContent("[data-testid=diff-verdict]")).toMatch(/^equal: [1-9]\d* sections compared$/);
    expect(await page.locator("[data-testid=diff-fields]").count()).toBe(0);

    const bytes = [...readFileSync(join(FIXTURES, "qemu/pc-7.2-stopped.mig"))];
    const dt = await page.evaluateHandle((b) => {
      const d = new DataTransfer();
      d.items.add(new File([new Uint8Array(b)], "one.mig"));
      d.items.add(new File([new Uint8Array(b)], "two.mig"));
      return d;
    }, bytes);
    await page.dispatchEvent("body", "drop", { dataTransfer: dt });
    await expect.poll(() => page.textContent("[data-testid=diff-a]")).toBe("one.mig (qemu@3, pc-i440fx-7.2)");
    await diffDone();
    expect(await page.textContent("[data-testid=diff-verdict]")).toMatch(/^equal: [1-9]\d* sections compared$/);
  });

  it("compares RAM page by page: a guest with 6 MiB of random RAM at 0x400000 against the same guest without", async () => {
    // Both -M pc-i440fx-7.2 -m 32 -S; only ram6m loads RANDOM_6MiB at 0x400000 (fixtures/qemu/README.md).
    await page.setInputFiles("[data-testid=file]", [join(FIXTURES, "qemu/pc-7.2-ram6m.mig"), join(FIXTURES, "qemu/pc-7.2-stopped.mig")]);
    await diffDone();
    const rows = await page.$$eval("[data-testid=diff-ram] tbody tr", (trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")));
    expect(rows).toEqual([["pc.ram", "1,536 pages differ", "0x400000–0xa00000"]]);
    expect(await page.textContent("[data-testid=diff-text]")).toContain("RAM block pc.ram: 1536 pages differ: 0x400000-0xa00000");
    expect(await page.textContent("[data-testid=diff-verdict]")).toMatch(/^different: /);
  });

  it("a diff of a QEMU save and a Xen stream says the diff is for QEMU streams", async () => {
    await page.setInputFiles("[data-testid=file]", [join(FIXTURES, "qemu/pc-7.2-stopped.mig"), join(FIXTURES, "xen/libxl_hvm_xs.bin")]);
    await diffDone();
    expect(await page.textContent("[data-testid=diff-verdict]")).toBe("cannot compare: offset 0 (0x0): B (libxl_hvm_xs.bin): diff compares QEMU streams; this is libxl@2");
  });

  it("a stream with XBZRLE pages: device state compared, RAM pages not (digests cannot apply deltas), and the page says so", async () => {
    const x = join(FIXTURES, "qemu-releases/10.0/pc-10.0-xbzrle.mig");
    await page.setInputFiles("[data-testid=file]", [x, x]);
    await diffDone();
    expect(await page.textContent("[data-testid=diff-verdict]")).toMatch(/^equal: [1-9]\d* sections compared \(RAM pages not compared\)$/);
    expect(await page.textContent("[data-testid=diff-facts]")).toMatch(/RAM pages not compared: A: .*XBZRLE/);
  });

  /** Open a stream, map its pages; the block's strip colour at a block offset, and its text. */
  async function pageMap(file: string): Promise<void> {
    await open(file);
    await page.click("[data-testid=pagemap-run]");
    await page.waitForSelector("[data-testid=pagemap][data-done]", { timeout: 30_000 });
  }
  const blockText = (name: string) => page.textContent(`.pm-block[data-block="${name}"]`);
  /** The strip's colour where the page at `offset` is drawn (middle row of its column). */
  const colourAt = (name: string, offset: number, pages: number, row = 11) =>
    page.$eval(
      `.pm-block[data-block="${name}"] canvas`,
      (c, [off, n, y]) => {
        const canvas = c as HTMLCanvasElement;
        const x = Math.floor(off! / 4096 / Math.ceil(n! / canvas.width));
        const [r, g, b] = canvas.getContext("2d")!.getImageData(x, y!, 1, 1).data;
        return `#${[r, g, b].map((v) => v!.toString(16).padStart(2, "0")).join("")}`;
      },
      [offset, pages, row],
    );

  it("maps the pages of a stream with 6 MiB of random RAM at 0x400000: data pages there, zero pages around", async () => {
    // -m 32 -device loader,file=RANDOM_6MiB,addr=0x400000 (fixtures/qemu/README.md).
    await pageMap(join(FIXTURES, "qemu/pc-7.2-ram6m.mig"));
    const text = (await blockText("pc.ram")) ?? "";
    expect(text).toContain("pc.ram 33,554,432 bytes, 8,192 pages");
    expect(text).toContain("data 0x400000–0xa00000 (1,536 pages)");
    expect(text).toMatch(/; 0 never sent/); // the first pass sends every page, zero or not
    expect(await colourAt("pc.ram", 0x500000, 8192)).toBe("#2456c7"); // data
    expect(await colourAt("pc.ram", 0x100000, 8192)).toBe("#b8c0cc"); // zero
    expect(await page.textContent("[data-testid=pagemap]")).toContain("pc.bios");
    await page.screenshot({ path: join(OUT, "pagemap.png"), fullPage: true });

    // Cut inside the random pages: the map shows what was read, says where the stream faults, and the rest is never sent.
    const cut = join(OUT, "ram6m-cut.mig");
    writeFileSync(cut, readFileSync(join(FIXTURES, "qemu/pc-7.2-ram6m.mig")).subarray(0, 3 << 20));
    await pageMap(cut);
    expect(await page.textContent("[data-testid=pagemap]")).toMatch(/the stream faults at offset \d+ \(0x[0-9a-f]+\): truncated /);
    const partial = (await blockText("pc.ram")) ?? "";
    expect(partial).toMatch(/data 0x400000–0x[0-9a-f]+ \(\d+ pages\)/);
    expect(partial).toMatch(/never sent 0x[0-9a-f]+–0x2000000/);
  });

  it("maps XBZRLE, compressed and mapped-ram pages where the guest wrote them", async () => {
    // dirtier-bios.S dirties 0x10000–0x8ffff (128 pages, small deltas: XBZRLE) while QEMU 10.0 migrates;
    // the README counts 256 XBZRLE records.
    await pageMap(join(FIXTURES, "qemu-releases/10.0/pc-10.0-xbzrle.mig"));
    const text = (await blockText("pc.ram")) ?? "";
    expect(text).toContain("256 XBZRLE");
    expect(text).toContain("data, XBZRLE 0x10000–0x90000 (128 pages)"); // sent as pages, then as deltas
    // 1 MiB of random RAM at 0x400000 saved with the compress capability.
    await pageMap(join(FIXTURES, "qemu/pc-7.2-compress.mig"));
    const c = (await blockText("pc.ram")) ?? "";
    expect(c).toContain("compressed 0x400000–0x500000 (256 pages)");
    expect(await colourAt("pc.ram", 0x480000, 8192)).toBe("#8e44ad");
    // A mapped-ram file (QEMU 10.0, -m 16, the same 1 MiB loaded at 0x400000): the rest of pc.ram is never in the file.
    await pageMap(join(FIXTURES, "qemu-releases/10.0/pc-10.0-mappedram-m16.mig"));
    const mr = (await blockText("pc.ram")) ?? "";
    expect(mr).toContain("256 mapped-ram; 3,840 never sent");
    expect(mr).toContain("mapped-ram 0x400000–0x500000 (256 pages)");
    expect(mr).toContain("never sent 0x500000–0x1000000 (2,816 pages)");
    expect(await colourAt("pc.ram", 0x480000, 4096)).toBe("#1e8a4c");
    expect(await colourAt("pc.ram", 0x800000, 4096)).toBe("#ffffff");
  });

  it("maps the pages of a 128 MiB QEMU stream in the worker with progress, and the page stays responsive", async () => {
    // The bench's generator (scripts/bench/gen/qemu.mjs): a real QEMU 7.2 stream's devices, pc.ram of random pages.
    const gen = (await import(pathToFileURL(join(REPO, "scripts/bench/gen/qemu.mjs")).href)) as { generateQemu(path: string, bytes: number): unknown };
    const path = join(OUT, "big-qemu.mig");
    await gen.generateQemu(path, 128 << 20);
    await open(path);
    expect(await page.textContent("[data-testid=verify]")).toMatch(/^✔ valid/);
    await page.click("[data-testid=pagemap-run]");
    let slowest = 0;
    let sawProgress = false;
    for (let i = 0; i < 1200; i++) {
      const t = Date.now();
      const [done, progress] = await page.evaluate(() => [
        document.querySelector("[data-testid=pagemap][data-done]") !== null,
        document.getElementById("progress")!.hidden ? "" : document.querySelector("#progress span")!.textContent,
      ]);
      slowest = Math.max(slowest, Date.now() - t);
      if (/^mapping pages… [1-9]\d*%$/.test(String(progress))) sawProgress = true;
      if (done) break;
      await page.waitForTimeout(50);
    }
    expect(await blockText("pc.ram")).toContain("data 0x0–0x8000000 (32,768 pages)");
    expect(sawProgress).toBe(true);
    expect(slowest).toBeLessThan(1000);
    rmSync(path);
  });

  it("made no network request (file, blob and data URLs only)", () => {
    expect(requests.filter((u) => !/^(file|blob|data):/.test(u))).toEqual([]);
  });
});
