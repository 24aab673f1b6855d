/**
 * A few real device descriptions of QEMU 7.2 (x86 `pc`), restated from their
 * VMSTATE_* declarations: fw_cfg (hw/nvram/fw_cfg.c), mc146818rtc
 * (hw/rtc/mc146818rtc.c), i8254 (hw/timer/i8254_common.c), the ISA serial
 * port (hw/char/serial.c, serial-isa.c, util/fifo8.c) and the ISA floppy
 * controller (hw/block/fdc.c, fdc-isa.c). Tests check that they
 * decode and re-encode real 7.2 streams and reproduce QEMU's vmdesc entries.
 *
 * `cSize` values are C `sizeof`s as QEMU 7.2's `-dump-vmstate` prints them.
 *
 * QEMU's `needed()` callbacks read device internals; here a subsection is
 * sent when the state holds a value for it, which is what a loaded state says.
 */
import { defineVmsd, type Vmsd } from "../schema/types.js";

const fwCfgDma = defineVmsd({ name: "fw_cfg/dma", fields: [{ name: "dma_addr", type: "uint64" }] });

const fwCfgAcpiMr = defineVmsd({
  name: "fw_cfg/acpi_mr",
  version: 1,
  minimumVersion: 1,
  fields: [
    { name: "table_mr_size", type: "uint64" },
    { name: "linker_mr_size", type: "uint64" },
    { name: "rsdp_mr_size", type: "uint64" },
  ],
});

export const fwCfg: Vmsd = defineVmsd({
  name: "fw_cfg",
  version: 2,
  minimumVersion: 1,
  fields: [
    { name: "cur_entry", type: "uint16" },
    // VMSTATE_UINT16_HACK: version 1 streams carry cur_offset as be16.
    { name: "cur_offset", type: "uint16", info: "int32_as_uint16", exists: (_s, v) => v === 1, cSize: 4 },
    { name: "cur_offset", type: "uint32", version: 2 },
  ],
  subsections: [fwCfgDma, fwCfgAcpiMr],
});

const rtcReinject = defineVmsd({
  name: "mc146818rtc/irq_reinject_on_ack_count",
  version: 1,
  minimumVersion: 1,
  fields: [{ name: "irq_reinject_on_ack_count", type: "uint16" }],
});

export const mc146818rtc: Vmsd = defineVmsd({
  name: "mc146818rtc",
  version: 3,
  minimumVersion: 1,
  fields: [
    { name: "cmos_data", type: "buffer", size: 128 },
    { name: "cmos_index", type: "uint8" },
    { name: "unused", type: "unused_buffer", size: 7 * 4 },
    { name: "periodic_timer", type: "timer" },
    { name: "next_periodic_time", type: "int64" },
    { name: "unused", type: "unused_buffer", size: 3 * 8 },
    { name: "irq_coalesced", type: "uint32", version: 2 },
    { name: "period", type: "uint32", version: 2 },
    { name: "base_rtc", type: "uint64", version: 3 },
    { name: "last_update", type: "uint64", version: 3 },
    { name: "offset", type: "int64", version: 3 },
    { name: "update_timer", type: "timer", version: 3 },
    { name: "next_alarm_time", type: "uint64", version: 3 },
  ],
  subsections: [rtcReinject],
});

const pitChannel = defineVmsd({
  name: "pit channel",
  version: 2,
  minimumVersion: 2,
  fields: [
    { name: "count", type: "int32" },
    { name: "latched_count", type: "uint16" },
    { name: "count_latched", type: "uint8" },
    { name: "status_latched", type: "uint8" },
    { name: "status", type: "uint8" },
    { name: "read_state", type: "uint8" },
    { name: "write_state", type: "uint8" },
    { name: "write_latch", type: "uint8" },
    { name: "rw_mode", type: "uint8" },
    { name: "mode", type: "uint8" },
    { name: "bcd", type: "uint8" },
    { name: "gate", type: "uint8" },
    { name: "count_load_time", type: "int64" },
    { name: "next_transition_time", type: "int64" },
  ],
});

export const i8254: Vmsd = defineVmsd({
  name: "i8254",
  version: 3,
  minimumVersion: 2,
  fields: [
    { name: "channels[0].irq_disabled", type: "uint32", version: 3 },
    { name: "channels", type: "struct", vmsd: pitChannel, num: 3, version: 2, cSize: 56 },
    { name: "channels[0].next_transition_time", type: "int64" }, // formerly irq_timer
  ],
});

const fifo8 = defineVmsd({
  name: "Fifo8",
  version: 1,
  minimumVersion: 1,
  fields: [
    // The size is the destination's own `capacity` (not on the wire): pass it in LoadOptions.current.
    { name: "data", type: "buffer", sizeField: "capacity", version: 1 },
    { name: "head", type: "uint32" },
    { name: "num", type: "uint32" },
  ],
});

const serialSub = (name: string, fields: Vmsd["fields"]) => defineVmsd({ name: `serial/${name}`, version: 1, minimumVersion: 1, fields });

const serialCore = defineVmsd({
  name: "serial",
  version: 3,
  minimumVersion: 2,
  fields: [
    { name: "divider", type: "uint16", version: 2 },
    { name: "rbr", type: "uint8" },
    { name: "ier", type: "uint8" },
    { name: "iir", type: "uint8" },
    { name: "lcr", type: "uint8" },
    { name: "mcr", type: "uint8" },
    { name: "lsr", type: "uint8" },
    { name: "msr", type: "uint8" },
    { name: "scr", type: "uint8" },
    { name: "fcr_vmstate", type: "uint8", version: 3 },
  ],
  subsections: [
    serialSub("thr_ipending", [{ name: "thr_ipending", type: "int32" }]),
    serialSub("tsr", [
      { name: "tsr_retry", type: "uint32" },
      { name: "thr", type: "uint8" },
      { name: "tsr", type: "uint8" },
    ]),
    serialSub("recv_fifo", [{ name: "recv_fifo", type: "struct", vmsd: fifo8, version: 1, cSize: 24 }]),
    serialSub("xmit_fifo", [{ name: "xmit_fifo", type: "struct", vmsd: fifo8, version: 1, cSize: 24 }]),
    serialSub("fifo_timeout_timer", [{ name: "fifo_timeout_timer", type: "timer" }]),
    serialSub("timeout_ipending", [{ name: "timeout_ipending", type: "int32" }]),
    serialSub("poll", [
      { name: "poll_msl", type: "int32" },
      { name: "modem_status_poll", type: "timer" },
    ]),
  ],
});

/** serial-isa's description: the SerialState embedded as a VMS_STRUCT. */
export const isaSerial: Vmsd = defineVmsd({
  name: "serial",
  version: 3,
  minimumVersion: 2,
  fields: [{ name: "state", type: "struct", vmsd: serialCore, cSize: 656 }],
});

const fdriveSub = (name: string) =>
  defineVmsd({ name: `fdrive/${name}`, version: 1, minimumVersion: 1, fields: [{ name, type: "uint8" }] });

const fdrive = defineVmsd({
  name: "fdrive",
  version: 1,
  minimumVersion: 1,
  fields: [
    { name: "head", type: "uint8" },
    { name: "track", type: "uint8" },
    { name: "sect", type: "uint8" },
  ],
  subsections: [fdriveSub("media_changed"), fdriveSub("media_rate"), fdriveSub("perpendicular")],
});

const fdcCore = defineVmsd({
  name: "fdc",
  version: 2,
  minimumVersion: 2,
  fields: [
    ...["sra", "srb", "dor_vmstate", "tdr", "dsr", "msr", "status0", "status1", "status2"].map((name) => ({ name, type: "uint8" as const })),
    // Command FIFO: its length is the destination's fifo_size, which is not migrated.
    { name: "fifo", type: "uint8", count: { field: "fifo_size", width: "int32" } },
    { name: "data_pos", type: "uint32" },
    { name: "data_len", type: "uint32" },
    ...["data_state", "data_dir", "eot", "timer0", "timer1", "precomp_trk", "config", "lock", "pwrd"].map((name) => ({
      name,
      type: "uint8" as const,
    })),
    { name: "num_floppies", type: "uint8_equal" },
    { name: "drives", type: "struct", vmsd: fdrive, num: 2, version: 1, cSize: 48 },
  ],
  subsections: [
    defineVmsd({ name: "fdc/reset_sensei", version: 1, minimumVersion: 1, fields: [{ name: "reset_sensei", type: "int32" }] }),
    defineVmsd({ name: "fdc/result_timer", version: 1, minimumVersion: 1, fields: [{ name: "result_timer", type: "timer" }] }),
    defineVmsd({ name: "fdc/phase", version: 1, minimumVersion: 1, fields: [{ name: "phase", type: "uint8" }] }),
  ],
});

/** isa-fdc's description. Load with `current: { state: { fifo_size: 512, num_floppies } }`. */
export const isaFdc: Vmsd = defineVmsd({
  name: "fdc",
  version: 2,
  minimumVersion: 2,
  fields: [{ name: "state", type: "struct", vmsd: fdcCore, cSize: 672 }],
});

/** Section idstr → description, for the devices above. */
export const qemu72Devices: Readonly<Record<string, Vmsd>> = {
  fw_cfg: fwCfg,
  fdc: isaFdc,
  mc146818rtc,
  i8254,
  serial: isaSerial,
};
