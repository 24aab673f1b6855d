/**
 * The four properties for an adjacent version pair of a stream family, written
 * once against a small per-family adapter. The adapter supplies arbitraries
 * (from @vmstream/testing, derived from the spec), the stream of a value (an
 * independent encoder where one exists), and the model of what an upgrade or
 * downgrade means; the codec under test is only ever driven through
 * `FamilyCodec`, as the CLI drives it.
 */
import fc from "fast-check";
import { type FamilyCodec, StreamReader } from "@vmstream/framing";
import type { CellSpec } from "./cell.js";
import { attempt, convertBytes, decodeDoc, describeError, firstDiff } from "./codec-io.js";
import { type FieldValues, type LossRule, type SpecVerdict, describeLoss, lossWords, predictLoss, specDiff } from "./spec-diff.js";

export interface StreamAdapter<V> {
  family: string;
  /** The family's codec. */
  codec(): FamilyCodec;
  /** Valid values at a version; throws NotImplemented for a version it does not know yet. */
  arbitrary(version: string): fc.Arbitrary<V>;
  /** The stream of `v` at `version` (an independent encoder where testing has one). */
  encode(c: FamilyCodec, v: V, version: string): Promise<Uint8Array>;
  /**
   * Throws, describing the difference, unless `bytes` (a converted stream at
   * `version`) is exactly the model value `v` expressed at that version.
   */
  expect(c: FamilyCodec, bytes: Uint8Array, v: V, version: string): Promise<void>;
  /** The model of conversion: the same content expressed at another version (only called when the spec predicts no loss). */
  retag(v: V, version: string): V;
  /** The data the value carries, named as the spec names it. */
  fieldValues(v: V): FieldValues;
}

/** `expect` for adapters with an independent encoder: the converted stream must be its bytes exactly. */
export async function expectBytes<V>(a: StreamAdapter<V>, c: FamilyCodec, bytes: Uint8Array, v: V, version: string): Promise<void> {
  await decodeDoc(c, bytes, version); // it must decode at the target version
  const want = await a.encode(c, a.retag(v, version), version);
  if (bytes.byteLength !== want.byteLength || firstDiff(bytes, want) !== want.byteLength) {
    throw new Error(`${a.family}@${version}: converted stream differs from the independent encoding at byte ${firstDiff(bytes, want)} (${bytes.byteLength} vs ${want.byteLength} bytes)`);
  }
}

/** A refusal counts only if it is a typed REFUSED error whose message names one of the predicted losses. */
function checkRefusal(err: { code: string; message: string }, predicted: readonly LossRule[], what: string): void {
  if (err.code !== "REFUSED") throw new Error(`${what}: failed with ${err.code} (${err.message}) instead of a refusal naming the loss`);
  if (predicted.length === 0) throw new Error(`${what}: refused (${err.message}) although the spec says the value fits`);
  const words = predicted.flatMap(lossWords);
  if (!words.some((w) => err.message.includes(w))) {
    throw new Error(`${what}: refusal "${err.message}" does not name the loss (${predicted.map(describeLoss).join("; ")})`);
  }
}

type Observed = "converted" | "refused" | "lost-silently" | "error";

export function streamPairCells<V>(a: StreamAdapter<V>, from: string, to: string): CellSpec[] {
  const fam = a.family;
  const target = (version: string) => ({ family: fam, version });
  let verdict: SpecVerdict | null = null;
  const sv = (): SpecVerdict => (verdict ??= specDiff(fam, from, to));
  const encodeAt = (c: FamilyCodec, v: V, version: string) => a.encode(c, v, version);

  /** Convert `v` (written at `src`) to `dst`; classify what happened against the model. */
  async function observe(c: FamilyCodec, v: V, src: string, dst: string, rules: readonly LossRule[]): Promise<{ kind: Observed; detail: string }> {
    const bytes = await encodeAt(c, v, src);
    const r = await attempt(() => convertBytes(c, bytes, src, target(dst)));
    if (!r.ok) {
      if (r.wire === null) return { kind: "error", detail: `non-wire error escaped: ${describeError(r.error)}` };
      if (r.wire.code !== "REFUSED") return { kind: "error", detail: `${r.wire.code}: ${r.wire.message}` };
      return { kind: "refused", detail: r.wire.message };
    }
    const predicted = predictLoss(rules, a.fieldValues(v));
    if (predicted.length > 0) return { kind: "lost-silently", detail: `converted although ${predicted.map(describeLoss).join("; ")}` };
    const e = await attempt(() => a.expect(c, r.value, v, dst));
    if (!e.ok) return { kind: "lost-silently", detail: e.wire ? e.wire.message : describeError(e.error) };
    return { kind: "converted", detail: "" };
  }

  const cells: CellSpec[] = [
    {
      family: fam,
      from,
      to,
      property: "upgrade",
      build() {
        const c = a.codec();
        return fc.asyncProperty(a.arbitrary(from), async (v) => {
          const predicted = predictLoss(sv().upgradeLoss, a.fieldValues(v));
          const bytes = await encodeAt(c, v, from);
          const r = await attempt(() => convertBytes(c, bytes, from, target(to)));
          if (!r.ok) {
            if (r.wire === null) throw new Error(`upgrade threw a non-wire error: ${describeError(r.error)}`);
            checkRefusal(r.wire, predicted, "upgrade");
            return;
          }
          if (predicted.length) throw new Error(`upgrade succeeded although ${predicted.map(describeLoss).join("; ")}`);
          await a.expect(c, r.value, v, to);
        });
      },
    },
    {
      family: fam,
      from,
      to,
      property: "downgrade",
      build() {
        const c = a.codec();
        return fc.asyncProperty(a.arbitrary(to), async (v) => {
          const predicted = predictLoss(sv().downgradeLoss, a.fieldValues(v));
          const bytes = await encodeAt(c, v, to);
          const r = await attempt(() => convertBytes(c, bytes, to, target(from)));
          if (!r.ok) {
            if (r.wire === null) throw new Error(`downgrade threw a non-wire error: ${describeError(r.error)}`);
            checkRefusal(r.wire, predicted, "downgrade");
            return;
          }
          if (predicted.length) throw new Error(`downgrade was silent: it succeeded although ${predicted.map(describeLoss).join("; ")}`);
          await a.expect(c, r.value, v, from);
          // Lossless means the way back gives the very same stream.
          const back = await convertBytes(c, r.value, from, target(to));
          const same = back.byteLength === bytes.byteLength && firstDiff(back, bytes) === bytes.byteLength;
          if (!same) throw new Error(`downgrade is not lossless: ${to} → ${from} → ${to} differs at byte ${firstDiff(back, bytes)}`);
        });
      },
    },
    {
      family: fam,
      from,
      to,
      property: "forward",
      build() {
        const c = a.codec();
        const expect = sv().forward;
        return fc.asyncProperty(a.arbitrary(to), async (v) => {
          const bytes = await encodeAt(c, v, to);
          for (const [op, run] of [
            ["verify", () => c.verify(StreamReader.of(bytes), from, {})],
            ["decode", () => decodeDoc(c, bytes, from)],
          ] as const) {
            const r = await attempt(run as () => Promise<unknown>);
            if (expect === "skip") {
              if (!r.ok) throw new Error(`a ${from} reader must skip what ${to} adds, but ${op} failed: ${r.wire ? r.wire.message : describeError(r.error)}`);
              continue;
            }
            if (r.ok) throw new Error(`a ${fam}@${from} reader ${op} accepted ${fam}@${to} data`);
            if (r.wire === null) throw new Error(`${op} with a ${from} reader threw a non-wire error: ${describeError(r.error)}`);
            // Clean: a typed error that points into the header (where the version is), not a
            // misparse that trips over something later in the stream.
            const atHeader = r.wire.offset < sv().headerBytes && r.wire.code !== "TRUNCATED";
            if (!atHeader) {
              throw new Error(`${op} with a ${from} reader rejected ${to} data with ${r.wire.code} at offset ${r.wire.offset} (${r.wire.message}), beyond the ${sv().headerBytes} header bytes`);
            }
          }
        });
      },
    },
    {
      family: fam,
      from,
      to,
      property: "static-dynamic",
      build() {
        const c = a.codec();
        const seen = { upgrade: new Set<string>(), downgrade: new Set<string>() };
        const property = fc.asyncProperty(a.arbitrary(from), a.arbitrary(to), async (x, y) => {
          const s = sv();
          for (const [dir, v, src, dst, rules] of [
            ["upgrade", x, from, to, s.upgradeLoss],
            ["downgrade", y, to, from, s.downgradeLoss],
          ] as const) {
            const predicted = predictLoss(rules, a.fieldValues(v)).length ? "refused" : "converted";
            const o = await observe(c, v, src, dst, rules);
            if (o.kind !== predicted) throw new Error(`${dir}: the spec predicts ${predicted}, the codec ${o.kind}${o.detail ? ` (${o.detail})` : ""}`);
            seen[dir].add(predicted);
          }
          const bytes = await encodeAt(c, y, to);
          const r = await attempt(() => c.verify(StreamReader.of(bytes), from, {}));
          const fwd = r.ok ? "skip" : "reject";
          if (fwd !== s.forward) throw new Error(`forward: the spec predicts ${s.forward}, the ${from} reader did ${fwd}`);
        });
        // A direction the spec calls conditional must have been seen both ways, or the
        // arbitrary never reached the values the static checker worries about.
        const after = (): string | null => {
          for (const [dir, rules] of [
            ["upgrade", sv().upgradeLoss],
            ["downgrade", sv().downgradeLoss],
          ] as const) {
            if (rules.length && seen[dir].size < 2) {
              return `${dir}: the spec predicts refusals when ${rules.map(describeLoss).join("; ")}, but the runs only saw ${[...seen[dir]].join(", ") || "nothing"}: the arbitrary does not cover both cases`;
            }
          }
          return null;
        };
        return { property, after };
      },
    },
  ];
  return cells;
}
