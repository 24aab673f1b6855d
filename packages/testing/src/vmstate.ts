import fc from "fast-check";

/**
 * Arbitraries of VMState values, derived from the same description value the
 * codec in @vmstream/vmstate interprets. The description types are restated
 * structurally here (a `Vmsd` from @vmstream/vmstate fits them), so this
 * package does not depend on the codec.
 */

type Pred = (state: Record<string, unknown>, version: number) => boolean;

export interface VmsdFieldLike {
  name: string;
  key?: string;
  type: string;
  version?: number;
  exists?: Pred;
  mustExist?: boolean;
  num?: number;
  count?: { field: string; width: string };
  pointers?: boolean;
  size?: number;
  sizeField?: string;
  bits?: number;
  vmsd?: VmsdLike;
  structVersion?: number;
  keyVmsd?: VmsdLike;
  expect?: number | bigint;
  max?: number;
}

export interface VmsdLike {
  name: string;
  version: number;
  minimumVersion: number;
  fields: readonly VmsdFieldLike[];
  subsections: readonly VmsdLike[];
  needed?: (state: Record<string, unknown>, own: Record<string, unknown> | undefined) => boolean;
}

export interface ArbitraryStateOptions {
  /** The version the state is for (default: the schema's). */
  version?: number;
  /** Longest VARRAY / qtailq / qlist / gtree generated (default 4). */
  maxElements?: number;
  /** Largest VBUFFER generated, in bytes (default 16). */
  maxBuffer?: number;
  /** Deepest nesting of descriptions generated through lists and trees (default 4). */
  maxDepth?: number;
}

type State = Record<string, unknown>;

const INT: Record<string, [number, number]> = {
  int8: [-0x80, 0x7f],
  uint8: [0, 0xff],
  uint8_equal: [0, 0xff],
  int16: [-0x8000, 0x7fff],
  uint16: [0, 0xffff],
  uint16_equal: [0, 0xffff],
  int32: [-0x8000_0000, 0x7fff_ffff],
  int32_equal: [-0x8000_0000, 0x7fff_ffff],
  uint32: [0, 0xffff_ffff],
  uint32_equal: [0, 0xffff_ffff],
};

const BIG: Record<string, [bigint, bigint]> = {
  int64: [-(1n << 63n), (1n << 63n) - 1n],
  timer: [-(1n << 63n), (1n << 63n) - 1n],
  uint64: [0n, (1n << 64n) - 1n],
  uint64_equal: [0n, (1n << 64n) - 1n],
};

/** State keys as the codec assigns them: the name, or `name[k]` when declared more than once. */
function keysOf(v: VmsdLike): string[] {
  const names = v.fields.map((f) => f.name);
  return v.fields.map((f, i) => {
    if (f.key) return f.key;
    const dup = names.filter((n) => n === f.name).length > 1;
    return dup ? `${f.name}[${names.slice(0, i).filter((n) => n === f.name).length}]` : f.name;
  });
}

function present(f: VmsdFieldLike, version: number): boolean {
  // field_exists fields get a value either way; the predicate decides at save time.
  return f.exists !== undefined || (f.version ?? 0) <= version;
}

interface Ctx {
  maxElements: number;
  maxBuffer: number;
  depth: number;
}

function scalarArb(f: VmsdFieldLike): fc.Arbitrary<unknown> {
  if (f.expect !== undefined && f.type.endsWith("_equal")) return fc.constant(f.expect);
  if (f.type === "bool") return fc.boolean();
  if (f.type === "int32_le") return fc.integer({ min: 0, max: f.max ?? 0x7fff_ffff });
  if (f.type === "cpu_double" || f.type === "float64") return fc.double();
  const i = INT[f.type];
  if (i) return fc.integer({ min: i[0], max: i[1] });
  const b = BIG[f.type];
  if (b) return fc.bigInt({ min: b[0], max: b[1] });
  throw new Error(`arbitraryState: no scalar arbitrary for type ${f.type}`);
}

function bytesArb(n: number): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ minLength: n, maxLength: n });
}

/** One element of `f` (`size` already resolved for VBUFFER fields). */
function elementArb(f: VmsdFieldLike, size: number, ctx: Ctx): fc.Arbitrary<unknown> {
  switch (f.type) {
    case "buffer":
    case "unused_buffer":
      return bytesArb(size);
    case "bitmap":
      return bytesArb(Math.ceil(size / 64) * 8);
    case "struct":
      return stateArb(f.vmsd!, f.vmsd!.version, ctx);
    case "vstruct":
      return stateArb(f.vmsd!, f.structVersion ?? f.vmsd!.version, ctx);
    case "tmp":
      return stateArb(f.vmsd!, f.vmsd!.version, ctx);
    case "qtailq":
    case "qlist": {
      if (ctx.depth <= 0) return fc.constant([]);
      const inner = { ...ctx, depth: ctx.depth - 1 };
      return fc.array(stateArb(f.vmsd!, f.vmsd!.version, inner), { maxLength: ctx.maxElements });
    }
    case "gtree": {
      if (ctx.depth <= 0) return fc.constant([]);
      const inner = { ...ctx, depth: ctx.depth - 1 };
      const key = f.keyVmsd ? stateArb(f.keyVmsd, f.keyVmsd.version, inner) : fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
      return fc.array(fc.record({ key, value: stateArb(f.vmsd!, f.vmsd!.version, inner) }), { maxLength: ctx.maxElements });
    }
    default:
      return scalarArb(f);
  }
}

function stateArb(v: VmsdLike, version: number, ctx: Ctx): fc.Arbitrary<State> {
  const keys = keysOf(v);
  const fields = v.fields.map((f, i) => ({ f, key: keys[i]! })).filter(({ f }) => present(f, version) && f.type !== "validate");
  // Counters and VBUFFER sizes are chosen first so every field that reads them agrees.
  const counters = new Map<string, fc.Arbitrary<number>>();
  for (const { f } of fields) {
    if (f.count) counters.set(f.count.field, fc.integer({ min: 0, max: ctx.maxElements }));
    if (f.sizeField) counters.set(f.sizeField, fc.integer({ min: 0, max: f.type === "bitmap" ? ctx.maxBuffer * 8 : ctx.maxBuffer }));
  }
  const keyOfName = (name: string) => fields.find(({ f, key }) => f.name === name || key === name)?.key ?? name;
  const counterRecord = fc.record(Object.fromEntries([...counters].map(([k, a]) => [k, a])) as Record<string, fc.Arbitrary<number>>);
  const body = counterRecord.chain((c) => {
    const rec: Record<string, fc.Arbitrary<unknown>> = {};
    const counterKeys = new Map<string, number>();
    for (const [name, n] of Object.entries(c)) counterKeys.set(keyOfName(name), n);
    for (const { f, key } of fields) {
      if (counterKeys.has(key)) {
        const n = counterKeys.get(key)!;
        rec[key] = fc.constant(f.type.includes("64") || f.type === "timer" ? BigInt(n) : n);
        continue;
      }
      const size = f.sizeField ? c[f.sizeField]! * (f.type === "bitmap" ? 1 : (f.size ?? 1)) : (f.size ?? f.bits ?? 0);
      const el = elementArb(f, size, ctx);
      const one = f.pointers ? fc.option(el, { nil: null }) : el;
      if (f.count) {
        const n = c[f.count.field]! * (f.num ?? 1);
        rec[key] = fc.array(one, { minLength: n, maxLength: n });
      } else if (f.num !== undefined) {
        rec[key] = fc.array(one, { minLength: f.num, maxLength: f.num });
      } else {
        rec[key] = one;
      }
    }
    return fc.record(rec).map((st) => {
      // A field_exists field that its predicate leaves out is not sent, so it is not in a loaded state either.
      for (const { f, key } of fields) if (f.exists && !f.exists(st, version)) delete st[key];
      return st;
    });
  });
  if (v.subsections.length === 0) return body;
  const subs = v.subsections.map((s) => fc.option(stateArb(s, s.version, ctx), { nil: undefined }));
  return fc
    .tuple(body, fc.tuple(...subs))
    .map(([state, own]) => {
      const out: State = { ...state };
      v.subsections.forEach((s, i) => {
        const o = own[i];
        // A subsection's value is kept only when its needed() would send it, so save→load is exact.
        const sent = s.needed ? s.needed(out, o as State | undefined) : o !== undefined;
        if (o !== undefined && sent) out[s.name] = o;
      });
      return out;
    })
    .filter((state) => v.subsections.every((s) => !s.needed || state[s.name] !== undefined || !s.needed(state, undefined)));
}

/**
 * A fast-check arbitrary of states valid for `schema` at `version`: present
 * fields only, VARRAY counters equal to their arrays' lengths, subsections
 * present exactly when their `needed` says they are sent.
 */
export function arbitraryState<S extends VmsdLike>(schema: S, opts: ArbitraryStateOptions = {}): fc.Arbitrary<State> {
  const version = opts.version ?? schema.version;
  if (version > schema.version || version < schema.minimumVersion) {
    throw new RangeError(`arbitraryState: ${schema.name} has no version ${version} (${schema.minimumVersion}..${schema.version})`);
  }
  return stateArb(schema, version, { maxElements: opts.maxElements ?? 4, maxBuffer: opts.maxBuffer ?? 16, depth: opts.maxDepth ?? 4 });
}
