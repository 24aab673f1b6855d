/**
 * Three made-up devices, each declared at three or four versions the way QEMU
 * devices evolve, for the compat matrix and for schema-diff:
 *
 * - `sample-uart` gains a FIFO through `version_id`-gated fields (VMSTATE_*_V);
 * - `sample-timer` keeps its version and grows by subsections with `needed`;
 * - `sample-nic` drops an old field into VMSTATE_UNUSED and moves
 *   `minimum_version_id` up, so old streams stop loading on purpose.
 *
 * Version N of a device is the schema a QEMU at that release would carry; it
 * must load everything from N' in [minimumVersion, N] (property-tested).
 */
import { defineVmsd, type State, type Vmsd } from "../schema/types.js";

export interface SampleDevice {
  /** Section idstr and vmsd name. */
  name: string;
  /** release number → the device's schema at that release (`schema.version` is its version_id, which
   *  sample-timer never bumps: it grows by subsections only). */
  versions: Readonly<Record<number, Vmsd>>;
}

// ---- sample-uart: a 16450 that becomes a 16550 -------------------------------

const uartRegs = [
  { name: "divider", type: "uint16" },
  { name: "rbr", type: "uint8" },
  { name: "ier", type: "uint8" },
  { name: "iir", type: "uint8" },
  { name: "lcr", type: "uint8" },
  { name: "mcr", type: "uint8" },
  { name: "lsr", type: "uint8" },
  { name: "msr", type: "uint8" },
  { name: "scr", type: "uint8" },
] as const;

const uartV1 = defineVmsd({ name: "sample-uart", version: 1, minimumVersion: 1, fields: [...uartRegs] });

const uartV2 = defineVmsd({
  name: "sample-uart",
  version: 2,
  minimumVersion: 1,
  fields: [
    ...uartRegs,
    { name: "fcr", type: "uint8", version: 2 },
    { name: "fifo_level", type: "uint8", version: 2 },
    { name: "fifo", type: "uint8", num: 16, version: 2 },
  ],
});

const uartV3 = defineVmsd({
  name: "sample-uart",
  version: 3,
  minimumVersion: 1,
  fields: [
    ...uartRegs,
    { name: "fcr", type: "uint8", version: 2 },
    { name: "fifo_level", type: "uint8", version: 2 },
    { name: "fifo", type: "uint8", num: 16, version: 2 },
    { name: "timeout_timer", type: "timer", version: 3 },
    { name: "thr_ipending", type: "int32", version: 3 },
  ],
});

// ---- sample-timer: grows by subsections ----------------------------------------

const timerBase = [
  { name: "count", type: "uint32" },
  { name: "mode", type: "uint8" },
  { name: "next_expiry", type: "timer" },
] as const;

const timerOffset = defineVmsd({
  name: "sample-timer/offset",
  version: 1,
  minimumVersion: 1,
  fields: [{ name: "offset", type: "int64" }],
  // Like hpet/offset: only sent when the guest moved the clock.
  needed: (_s: State, own: State | undefined) => own !== undefined && own.offset !== 0n,
});

const timerIrq = defineVmsd({
  name: "sample-timer/irq",
  version: 1,
  minimumVersion: 1,
  fields: [
    { name: "irq_level", type: "bool" },
    { name: "irq_count", type: "uint32" },
  ],
  needed: (_s: State, own: State | undefined) => own !== undefined && (own.irq_level !== false || own.irq_count !== 0),
});

const timerV1 = defineVmsd({ name: "sample-timer", version: 1, minimumVersion: 1, fields: [...timerBase] });
const timerV2 = defineVmsd({ name: "sample-timer", version: 1, minimumVersion: 1, fields: [...timerBase], subsections: [timerOffset] });
const timerV3 = defineVmsd({
  name: "sample-timer",
  version: 1,
  minimumVersion: 1,
  fields: [...timerBase],
  subsections: [timerOffset, timerIrq],
});

// ---- sample-nic: minimum_version_id moves --------------------------------------

const nicRing = defineVmsd({
  name: "sample-nic/desc",
  version: 1,
  minimumVersion: 1,
  fields: [
    { name: "addr", type: "uint64" },
    { name: "len", type: "uint16" },
    { name: "flags", type: "uint16" },
  ],
});

const nicV1 = defineVmsd({
  name: "sample-nic",
  version: 1,
  minimumVersion: 1,
  fields: [
    { name: "mac", type: "buffer", size: 6 },
    { name: "status", type: "uint32" },
    { name: "legacy_irq", type: "uint8" },
    { name: "rx_count", type: "uint16" },
    { name: "rx", type: "struct", vmsd: nicRing, count: { field: "rx_count", width: "uint16" } },
  ],
});

const nicV2 = defineVmsd({
  name: "sample-nic",
  version: 2,
  minimumVersion: 1,
  fields: [
    { name: "mac", type: "buffer", size: 6 },
    { name: "status", type: "uint32" },
    { name: "legacy_irq", type: "uint8" },
    { name: "rx_count", type: "uint16" },
    { name: "rx", type: "struct", vmsd: nicRing, count: { field: "rx_count", width: "uint16" } },
    { name: "tx_count", type: "uint32", version: 2 },
  ],
});

// v3 retires legacy_irq (its byte stays on the wire as VMSTATE_UNUSED) and
// refuses v1 streams, whose rings predate the descriptor flags semantics.
const nicV3 = defineVmsd({
  name: "sample-nic",
  version: 3,
  minimumVersion: 2,
  fields: [
    { name: "mac", type: "buffer", size: 6 },
    { name: "status", type: "uint32" },
    { name: "unused", type: "unused_buffer", size: 1 },
    { name: "rx_count", type: "uint16" },
    { name: "rx", type: "struct", vmsd: nicRing, count: { field: "rx_count", width: "uint16" } },
    { name: "tx_count", type: "uint32", version: 2 },
    { name: "mtu", type: "uint16", version: 3 },
  ],
});

// v4 stops accepting v2 too, and moves the MAC into a subsection-free struct.
const nicV4 = defineVmsd({
  name: "sample-nic",
  version: 4,
  minimumVersion: 3,
  fields: [
    { name: "mac", type: "buffer", size: 6 },
    { name: "status", type: "uint32" },
    { name: "unused", type: "unused_buffer", size: 1 },
    { name: "rx_count", type: "uint16" },
    { name: "rx", type: "struct", vmsd: nicRing, count: { field: "rx_count", width: "uint16" } },
    { name: "tx_count", type: "uint32", version: 2 },
    { name: "mtu", type: "uint16", version: 3 },
    { name: "offloads", type: "uint64", version: 4 },
  ],
});

export const sampleUart: SampleDevice = { name: "sample-uart", versions: { 1: uartV1, 2: uartV2, 3: uartV3 } };
export const sampleTimer: SampleDevice = { name: "sample-timer", versions: { 1: timerV1, 2: timerV2, 3: timerV3 } };
export const sampleNic: SampleDevice = { name: "sample-nic", versions: { 1: nicV1, 2: nicV2, 3: nicV3, 4: nicV4 } };

export const sampleDevices: readonly SampleDevice[] = [sampleUart, sampleTimer, sampleNic];

/** The releases of a sample device in ascending order. */
export function sampleReleases(d: SampleDevice): { release: number; schema: Vmsd }[] {
  return Object.keys(d.versions)
    .map(Number)
    .sort((a, b) => a - b)
    .map((release) => ({ release, schema: d.versions[release]! }));
}
