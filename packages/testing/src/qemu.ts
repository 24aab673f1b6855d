import fc from "fast-check";
import { ByteWriter } from "@vmstream/framing";
import { QEMU_COMMANDS, QEMU_RAM_FLAG, QEMU_SECTION, QEMU_VM_FILE_MAGIC, QEMU_VM_SUBSECTIONS_END } from "@vmstream/wire-spec";

/**
 * QEMU savevm streams built from the wire-spec constants by an encoder of
 * their own (nothing here calls @vmstream/vmstate), so properties compare the
 * codec against an independent construction: header, configuration, commands,
 * a RAM section split into START/PART/END with every record kind (CONTINUE
 * across section boundaries), FULL device sections with structs, arrays and
 * subsections, EOF and a vmdesc in QEMU's JSON style. `buildQemuStream(model, 4)`
 * writes the same model in format 4 (a SUBSECTIONS_END after every description).
 */

export type QemuFieldModel =
  | { name: string; type: "uint8" | "uint16" | "uint32" | "uint64" | "int32" | "bool"; values: (number | bigint)[] }
  | { name: string; type: "buffer"; values: Uint8Array[] }
  | { name: string; type: "struct"; struct: QemuDescModel; values: QemuStateModel[] }
  /** A `tmp` field: a nested description QEMU writes inline in the field's vmdesc entry. */
  | { name: string; type: "tmp"; struct: QemuDescModel; values: QemuStateModel[] };

export interface QemuDescModel {
  name: string;
  version: number;
  fields: QemuFieldModel[];
  subsections: QemuDescModel[];
}

/** Field values are in the field models; a state model only mirrors nesting. */
export interface QemuStateModel {
  desc: QemuDescModel;
}

export type QemuRamOp =
  | { op: "zero"; block: number; page: number; cont: boolean; fill: number }
  | { op: "page"; block: number; page: number; cont: boolean; pattern: number }
  | { op: "xbzrle"; block: number; page: number; cont: boolean; runs: [number, number][] }
  | { op: "compress"; block: number; page: number; cont: boolean; data: Uint8Array }
  | { op: "hook" }
  | { op: "flush" };

export interface QemuStreamModel {
  machine: string | null;
  uuid: Uint8Array | null;
  /** configuration/target-page-bits (variable-page targets); null: 4096-byte pages, not sent. */
  pageBits: number | null;
  /** configuration/capabilities (names only; none changes the RAM layout here). */
  capabilities: string[] | null;
  ping: number | null;
  ramId: number;
  blocks: { name: string; pages: number }[];
  parts: QemuRamOp[][];
  devices: { idstr: string; instance: number; id: number; desc: QemuDescModel }[];
  footers: boolean;
  vmdesc: boolean;
}

// Built once: constructing a stringMatching arbitrary costs ~25 ms (the machine
// name is used inside a chain, i.e. once per generated stream).
const machineName = fc.stringMatching(/^pc-[a-z0-9.-]{1,12}$/);
const ident = fc.stringMatching(/^[a-z][a-z0-9_]{0,7}$/).filter((s) => s !== "ram");
const SIZES = { uint8: 1, uint16: 2, uint32: 4, uint64: 8, int32: 4, bool: 1 } as const;

function scalar(type: keyof typeof SIZES): fc.Arbitrary<number | bigint> {
  switch (type) {
    case "uint8":
      return fc.integer({ min: 0, max: 0xff });
    case "uint16":
      return fc.integer({ min: 0, max: 0xffff });
    case "uint32":
      return fc.integer({ min: 0, max: 0xffff_ffff });
    case "int32":
      return fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff });
    case "bool":
      return fc.integer({ min: 0, max: 1 });
    default:
      return fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
  }
}

function field(depth: number, index: number): fc.Arbitrary<QemuFieldModel> {
  const n = fc.integer({ min: 1, max: 3 });
  const leaf = fc.oneof(
    fc.tuple(fc.constantFrom("uint8", "uint16", "uint32", "uint64", "int32", "bool") as fc.Arbitrary<keyof typeof SIZES>, n).chain(([type, k]) =>
      fc.array(scalar(type), { minLength: k, maxLength: k }).map((values) => ({ name: `f${index}`, type, values }) as QemuFieldModel),
    ),
    fc.tuple(fc.integer({ min: 0, max: 12 }), n).chain(([size, k]) =>
      fc.array(fc.uint8Array({ minLength: size, maxLength: size }), { minLength: k, maxLength: k }).map((values) => ({ name: `f${index}`, type: "buffer", values }) as QemuFieldModel),
    ),
  );
  if (depth >= 2) return leaf;
  // A struct array's elements share one description here, so each element is the same shape.
  return fc.oneof(
    { weight: 3, arbitrary: leaf },
    { weight: 1, arbitrary: fc.tuple(desc(`s${index}`, depth + 1), fc.integer({ min: 1, max: 2 })).map(([d, k]) => structField(`f${index}`, d, k)) },
    { weight: 1, arbitrary: desc(`t${index}_tmp`, depth + 1).map((d): QemuFieldModel => ({ name: `tmp${index}`, type: "tmp", struct: d, values: [{ desc: d }] })) },
  );
}

function structField(name: string, d: QemuDescModel, k: number): QemuFieldModel {
  return { name, type: "struct", struct: d, values: Array.from({ length: k }, () => ({ desc: d })) };
}

function desc(name: string, depth: number): fc.Arbitrary<QemuDescModel> {
  return fc.record({
    version: fc.integer({ min: 0, max: 5 }),
    fields: fc.integer({ min: 0, max: 4 }).chain((k) => fc.tuple(...Array.from({ length: k }, (_, i) => field(depth, i)))),
    subsections:
      depth >= 2
        ? fc.constant<QemuDescModel[]>([])
        : fc.integer({ min: 0, max: 2 }).chain((k) => fc.tuple(...Array.from({ length: k }, (_, i) => desc(`${name}/sub${i}`, depth + 1)))),
  }).map((r): QemuDescModel => ({ name, version: r.version, fields: [...r.fields], subsections: [...r.subsections] }));
}

function ramOp(blocks: { pages: number }[]): fc.Arbitrary<QemuRamOp> {
  const where = fc.integer({ min: 0, max: blocks.length - 1 }).chain((block) =>
    fc.record({ block: fc.constant(block), page: fc.integer({ min: 0, max: blocks[block]!.pages - 1 }), cont: fc.boolean() }),
  );
  const run = fc.tuple(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 200 }));
  return fc.oneof(
    { weight: 4, arbitrary: fc.tuple(where, fc.integer({ min: 0, max: 255 })).map(([w, fill]) => ({ op: "zero", ...w, fill: fill < 200 ? 0 : fill }) as QemuRamOp) },
    { weight: 3, arbitrary: fc.tuple(where, fc.integer({ min: 0, max: 255 })).map(([w, pattern]) => ({ op: "page", ...w, pattern }) as QemuRamOp) },
    { weight: 1, arbitrary: fc.tuple(where, fc.array(run, { minLength: 1, maxLength: 5 })).map(([w, runs]) => ({ op: "xbzrle", ...w, runs }) as QemuRamOp) },
    { weight: 1, arbitrary: fc.tuple(where, fc.uint8Array({ minLength: 0, maxLength: 40 })).map(([w, data]) => ({ op: "compress", ...w, data }) as QemuRamOp) },
    { weight: 1, arbitrary: fc.constantFrom<QemuRamOp>({ op: "hook" }, { op: "flush" }) },
  );
}

export interface QemuStreamOptions {
  /** Streams without footers and vmdesc, like machine types up to 2.2 (device bodies become raw). */
  old?: boolean;
  maxParts?: number;
  maxDevices?: number;
}

export function qemuStreamModel(opts: QemuStreamOptions = {}): fc.Arbitrary<QemuStreamModel> {
  const blocks = fc.uniqueArray(fc.record({ name: fc.stringMatching(/^[a-z][a-z.]{0,9}$/), pages: fc.integer({ min: 1, max: 16 }) }), {
    minLength: 1,
    maxLength: 3,
    selector: (b) => b.name,
  });
  return blocks.chain((bl) =>
    fc.record({
      machine: opts.old ? fc.constant(null) : fc.option(machineName, { nil: null }),
      uuid: opts.old ? fc.constant(null) : fc.option(fc.uint8Array({ minLength: 16, maxLength: 16 }), { nil: null }),
      pageBits: opts.old ? fc.constant(null) : fc.option(fc.constantFrom(12, 13, 14, 16), { nil: null, freq: 4 }),
      capabilities: opts.old
        ? fc.constant(null)
        : fc.option(fc.array(fc.constantFrom("x-colo", "validate-uuid", "zero-blocks"), { maxLength: 2 }), { nil: null, freq: 4 }),
      ping: opts.old ? fc.constant(null) : fc.option(fc.integer({ min: 0, max: 0xffff_ffff }), { nil: null }),
      ramId: fc.integer({ min: 0, max: 100 }),
      blocks: fc.constant(bl),
      parts: fc.array(fc.array(ramOp(bl), { maxLength: 12 }), { maxLength: opts.maxParts ?? 3 }),
      devices: fc
        .uniqueArray(fc.tuple(ident, fc.integer({ min: 0, max: 3 })), { maxLength: opts.maxDevices ?? 4, selector: ([n, i]) => `${n}:${i}` })
        .chain((ds) => fc.tuple(...ds.map(([idstr, instance], k) => desc(idstr, 0).map((d) => ({ idstr, instance, id: 101 + k, desc: d }))))),
      footers: fc.constant(!opts.old),
      vmdesc: fc.constant(!opts.old),
    }),
  )
    .map((m) => ({ ...m, machine: (m.uuid || m.pageBits !== null || m.capabilities) && !m.machine ? "pc" : m.machine }))
    .map((m) => ({ ...m, parts: sentBeforeXbzrle(m.parts) }));
}

/**
 * QEMU sends an XBZRLE delta only for a page it sent before (the delta applies
 * to the destination's copy, and readers check that): a delta for a page not
 * yet sent gets a ZERO record for that page just before it.
 */
function sentBeforeXbzrle(parts: QemuRamOp[][]): QemuRamOp[][] {
  const sent = new Set<string>();
  return parts.map((ops) =>
    ops.flatMap((o): QemuRamOp[] => {
      if (o.op === "hook" || o.op === "flush") return [o];
      const key = `${o.block}:${o.page}`;
      const first = o.op === "xbzrle" && !sent.has(key) ? [{ op: "zero", block: o.block, page: o.page, cont: o.cont, fill: 0 } as QemuRamOp] : [];
      sent.add(key);
      return [...first, o];
    }),
  );
}

const enc = new TextEncoder();
const ascii = (s: string): Uint8Array => enc.encode(s);

function writeDesc(w: ByteWriter, d: QemuDescModel, version: number): void {
  for (const f of d.fields) {
    for (const v of f.values) {
      if (f.type === "struct" || f.type === "tmp") writeDesc(w, f.struct, version);
      else if (f.type === "buffer") w.bytes(v as Uint8Array);
      else if (f.type === "uint64") w.u64be(v as bigint);
      else if (f.type === "int32") w.i32be(v as number);
      else if (f.type === "uint32") w.u32be(v as number);
      else if (f.type === "uint16") w.u16be(v as number);
      else w.u8(v as number);
    }
  }
  for (const s of d.subsections) {
    const n = ascii(s.name);
    w.u8(QEMU_SECTION.SUBSECTION).u8(n.length).bytes(n).u32be(s.version);
    writeDesc(w, s, version);
  }
  if (version === 4) w.u8(QEMU_VM_SUBSECTIONS_END);
}

/** The description as QEMU's vmdesc JSON writer prints it (sizes are format-3 bytes). */
function descJson(d: QemuDescModel): string {
  const fields = d.fields.map((f) => {
    let size: number;
    let inner = "";
    if (f.type === "struct") {
      const w = new ByteWriter();
      writeDesc(w, f.struct, 3);
      size = w.length;
      inner = `"struct": {${descJson(f.struct)}}, `;
    } else if (f.type === "tmp") {
      // QEMU's vmdesc writes a tmp field's description into the field object itself.
      const w = new ByteWriter();
      writeDesc(w, f.struct, 3);
      return `{"name": "${f.name}", "type": "tmp", ${descJson(f.struct)}, "size": ${w.length}}`;
    } else {
      size = f.type === "buffer" ? (f.values[0] as Uint8Array).length : SIZES[f.type];
    }
    const arr = f.values.length > 1 ? `"array_len": ${f.values.length}, ` : "";
    return `{"name": "${f.name}", ${arr}"type": "${f.type}", ${inner}"size": ${size}}`;
  });
  let s = `"vmsd_name": "${d.name}", "version": ${d.version}, "fields": [${fields.join(", ")}]`;
  if (d.subsections.length) s += `, "subsections": [${d.subsections.map((x) => `{${descJson(x)}}`).join(", ")}]`;
  return s;
}

/** Serialise a model in format 3 (QEMU's) or 4. */
export function buildQemuStream(m: QemuStreamModel, version: 3 | 4 = 3): Uint8Array {
  const PAGE = m.pageBits === null ? 4096 : 2 ** m.pageBits;
  const w = new ByteWriter(1 << 16);
  w.u32be(QEMU_VM_FILE_MAGIC).u32be(version);
  if (m.machine !== null) {
    const n = ascii(m.machine);
    w.u8(QEMU_SECTION.CONFIGURATION).u32be(n.length).bytes(n);
    // Subsections in the order QEMU's configuration VMSD declares them.
    const sub = (name: string, body: (x: ByteWriter) => void): void => {
      const sn = ascii(name);
      w.u8(QEMU_SECTION.SUBSECTION).u8(sn.length).bytes(sn).u32be(1);
      body(w);
      if (version === 4) w.u8(QEMU_VM_SUBSECTIONS_END);
    };
    if (m.pageBits !== null) sub("configuration/target-page-bits", (x) => x.u32be(m.pageBits!));
    if (m.capabilities)
      sub("configuration/capabilities", (x) => {
        x.u32be(m.capabilities!.length);
        for (const c of m.capabilities!) x.u8(c.length).bytes(ascii(c));
      });
    if (m.uuid) sub("configuration/uuid", (x) => x.bytes(m.uuid!));
    if (version === 4) w.u8(QEMU_VM_SUBSECTIONS_END);
  }
  if (m.ping !== null) {
    w.u8(QEMU_SECTION.COMMAND).u16be(1).u16be(QEMU_COMMANDS[1]!.len);
    w.u8(QEMU_SECTION.COMMAND).u16be(2).u16be(4).u32be(m.ping);
  }
  const footer = (id: number): void => {
    if (m.footers) w.u8(QEMU_SECTION.SECTION_FOOTER).u32be(id);
  };
  const F = QEMU_RAM_FLAG;
  const word = (addr: number, flags: number): void => {
    w.u64be(BigInt(addr) + BigInt(flags));
  };
  // START: the block list.
  const ram = ascii("ram");
  w.u8(QEMU_SECTION.SECTION_START).u32be(m.ramId).u8(ram.length).bytes(ram).u32be(0).u32be(4);
  word(m.blocks.reduce((a, b) => a + b.pages * PAGE, 0), F.MEM_SIZE);
  for (const b of m.blocks) {
    const n = ascii(b.name);
    w.u8(n.length).bytes(n).u64be(BigInt(b.pages * PAGE));
  }
  word(0, F.EOS);
  footer(m.ramId);
  // The last named block carries across PART sections, as in QEMU.
  let last = -1;
  const sections = [...m.parts, []];
  sections.forEach((ops, k) => {
    w.u8(k === sections.length - 1 ? QEMU_SECTION.SECTION_END : QEMU_SECTION.SECTION_PART).u32be(m.ramId);
    for (const o of ops) {
      if (o.op === "hook") {
        word(0, F.HOOK);
        continue;
      }
      if (o.op === "flush") {
        word(0, F.MULTIFD_FLUSH);
        continue;
      }
      const cont = o.cont && last === o.block;
      const flag = o.op === "zero" ? F.ZERO : o.op === "page" ? F.PAGE : o.op === "xbzrle" ? F.XBZRLE : F.COMPRESS_PAGE;
      word(o.page * PAGE, flag | (cont ? F.CONTINUE : 0));
      if (!cont) {
        const n = ascii(m.blocks[o.block]!.name);
        w.u8(n.length).bytes(n);
      }
      last = o.block;
      if (o.op === "zero") w.u8(o.fill);
      else if (o.op === "page") {
        const p = new Uint8Array(PAGE);
        for (let i = 0; i < PAGE; i++) p[i] = (o.pattern + i * 31) & 0xff;
        w.bytes(p);
      } else if (o.op === "compress") w.u32be(o.data.length).bytes(o.data);
      else {
        // Runs (zero run, data run) as QEMU's xbzrle encoder lays them out: ULEB128 lengths.
        const x = new ByteWriter();
        let used = 0;
        o.runs.forEach(([z, nz], i) => {
          const zr = i === 0 ? z - 1 : z;
          if (used + zr + nz > PAGE) return;
          uleb(x, zr);
          uleb(x, nz);
          for (let j = 0; j < nz; j++) x.u8((j * 7 + i) & 0xff);
          used += zr + nz;
        });
        w.u8(1).u16be(x.length).bytes(x.finish());
      }
    }
    word(0, F.EOS);
    footer(m.ramId);
  });
  for (const d of m.devices) {
    const n = ascii(d.idstr);
    w.u8(QEMU_SECTION.SECTION_FULL).u32be(d.id).u8(n.length).bytes(n).u32be(d.instance).u32be(d.desc.version);
    writeDesc(w, d.desc, version);
    footer(d.id);
  }
  w.u8(QEMU_SECTION.EOF);
  if (m.vmdesc) {
    const devs = m.devices.map((d) => `{"name": "${d.idstr}", "instance_id": ${d.instance}, ${descJson(d.desc)}}`);
    const json = ascii(`{"page_size": ${PAGE}, "devices": [${devs.join(", ")}]}`);
    w.u8(QEMU_SECTION.VMDESCRIPTION).u32be(json.length).bytes(json);
  }
  return w.finish().slice();
}

function uleb(w: ByteWriter, v: number): void {
  if (v < 0x80) w.u8(v);
  else w.u8((v & 0x7f) | 0x80).u8(v >> 7);
}

/** Valid format-3 streams as bytes, with the model they came from. */
export function qemuStream(opts: QemuStreamOptions = {}): fc.Arbitrary<{ model: QemuStreamModel; bytes: Uint8Array }> {
  return qemuStreamModel(opts).map((model) => ({ model, bytes: buildQemuStream(model, 3) }));
}
