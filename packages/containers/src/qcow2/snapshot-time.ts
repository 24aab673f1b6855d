const pad2 = (x: number): string => String(x).padStart(2, "0");

/**
 * A snapshot's date (seconds since the epoch, as the qcow2 snapshot table
 * stores it) the way `qemu-img snapshot -l` prints it with TZ=UTC, with the
 * zone named: "2026-12-07 04:41:47 UTC". UTC, so that every machine and the
 * browser print the same text.
 */
export function snapshotDate(sec: number): string {
  const d = new Date(sec * 1000);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} UTC`;
}

/** A snapshot's VM clock (nanoseconds) as QEMU's `info snapshots` and `qemu-img snapshot -l` print it: "00:00:01.532". */
export function vmClock(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  return `${pad2(Math.floor(ms / 3_600_000))}:${pad2(Math.floor(ms / 60_000) % 60)}:${pad2(Math.floor(ms / 1000) % 60)}.${String(ms % 1000).padStart(3, "0")}`;
}
