/**
 * The shapes of compiled descriptions, shared by the compiler (plan.ts) and
 * the interpreter loop (run.ts) so that neither imports the other both ways.
 */
import type { ByteReader, ByteWriter } from "@vmstream/framing";
import type { QemuJsonWriter } from "./json-writer.js";
import type { SaveFormat, State, Vmsd, VmsdField } from "./types.js";

export interface RunContext {
  format: SaveFormat;
  depth: number;
  /** The reader holds a window of a longer stream: a peek past its end asks for more bytes instead of ending the subsections. */
  windowed?: boolean;
}

/** Encodes/decodes one element of a field. `size` is vmstate_size() for that field. */
export interface ElementCodec {
  load(r: ByteReader, size: number, cur: unknown, ctx: RunContext): unknown;
  save(w: ByteWriter, v: unknown, size: number, ctx: RunContext, desc: QemuJsonWriter | null): void;
  /** Fewest bytes one element can take on the wire (0 when unknown), for count checks. */
  minWire: number;
}

export interface FieldPlan {
  def: VmsdField;
  /** Key in the state value. */
  key: string;
  /** Name in vmdesc (`name[k]` for duplicates). */
  descName: string;
  /** vmdesc `"type"`. */
  typeName: string;
  /** Opens a `"struct": {…}` child in vmdesc (VMS_STRUCT only). */
  structChild: boolean;
  compressible: boolean;
  isArray: boolean;
  present(state: State, version: number): boolean;
  /** vmstate_n_elems() against the state being loaded/saved. */
  count(state: State, offset: number): number;
  /** vmstate_size() against the state. */
  size(state: State, offset: number): number;
  elem: ElementCodec;
  /**
   * The whole field's load and save, when its value representation is not the
   * interpreter's state value (fields of a stream's vmdesc: document values).
   * Chosen once by the compiler; absent means the loop's own array handling.
   */
  load?(r: ByteReader, target: State, ctx: RunContext): void;
  save?(w: ByteWriter, state: State, ctx: RunContext): void;
}

export interface VmsdPlan {
  vmsd: Vmsd;
  fields: FieldPlan[];
  /** Exact-name lookup of subsections (compiled lazily: descriptions may be cyclic). */
  subsection(name: string): VmsdPlan | undefined;
  subsections(): VmsdPlan[];
  /** Name as bytes, for the subsection prefix test without decoding. */
  nameBytes: Uint8Array;
}
