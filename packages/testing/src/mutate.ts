import fc from "fast-check";

/** One way to damage a valid stream; applied by `applyMutation`. */
export type Mutation =
  | { kind: "truncate"; at: number }
  | { kind: "flip"; at: number; bit: number }
  | { kind: "set32"; at: number; value: number; littleEndian: boolean }
  | { kind: "delete"; at: number; length: number }
  | { kind: "duplicate"; at: number; length: number }
  | { kind: "splice"; at: number; other: Uint8Array; from: number };

/** Values that break naive decoders: zero, all ones, sign bit, page-aligned giants. */
export const HOSTILE_U32 = [0, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_fff8, 0xffff_ffff, 0x0010_0000, 0x1000];

/**
 * Mutations of a stream of `length` bytes (positions are fractions mapped into
 * the stream, so the same arbitrary serves every input). `others` are streams to
 * splice from.
 */
export function mutation(length: number, others: Uint8Array[] = []): fc.Arbitrary<Mutation> {
  const pos = fc.nat({ max: Math.max(0, length - 1) });
  const arbs: fc.Arbitrary<Mutation>[] = [
    pos.map((at) => ({ kind: "truncate", at }) as const),
    fc.record({ at: pos, bit: fc.integer({ min: 0, max: 7 }) }).map((m) => ({ kind: "flip", ...m }) as const),
    fc
      .record({ at: pos, value: fc.constantFrom(...HOSTILE_U32), littleEndian: fc.boolean() })
      .map((m) => ({ kind: "set32", ...m }) as const),
    fc.record({ at: pos, length: fc.integer({ min: 1, max: 64 }) }).map((m) => ({ kind: "delete", ...m }) as const),
    fc.record({ at: pos, length: fc.integer({ min: 1, max: 64 }) }).map((m) => ({ kind: "duplicate", ...m }) as const),
  ];
  if (others.length) {
    arbs.push(
      fc
        .record({ at: pos, other: fc.constantFrom(...others), from: fc.nat() })
        .map((m) => ({ kind: "splice", at: m.at, other: m.other, from: m.from % Math.max(1, m.other.length) }) as const),
    );
  }
  return fc.oneof(...arbs);
}

export function applyMutation(bytes: Uint8Array, m: Mutation): Uint8Array {
  switch (m.kind) {
    case "truncate":
      return bytes.slice(0, m.at);
    case "flip": {
      const out = bytes.slice();
      if (m.at < out.length) out[m.at]! ^= 1 << m.bit;
      return out;
    }
    case "set32": {
      const out = bytes.slice();
      if (m.at + 4 <= out.length) new DataView(out.buffer).setUint32(m.at, m.value, m.littleEndian);
      return out;
    }
    case "delete":
      return concat(bytes.subarray(0, m.at), bytes.subarray(Math.min(bytes.length, m.at + m.length)));
    case "duplicate":
      return concat(bytes.subarray(0, m.at + m.length), bytes.subarray(m.at));
    case "splice":
      return concat(bytes.subarray(0, m.at), m.other.subarray(m.from));
  }
}

/** A valid stream and a list of mutations applied in order. */
export function mutatedStream(bytes: Uint8Array, others: Uint8Array[] = [], maxMutations = 3): fc.Arbitrary<Uint8Array> {
  return fc.array(mutation(bytes.length, others), { minLength: 1, maxLength: maxMutations }).map((ms) => ms.reduce(applyMutation, bytes));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
