import { RefusedError } from "@vmstream/framing";
import type { RandomAccess } from "../random-access.js";
import { type Qcow2Header, readQcow2Header } from "./header.js";
import { type Qcow2Snapshot, readSnapshotTable } from "./snapshots.js";
import { Qcow2VmStateSource } from "./vmstate.js";

export interface Qcow2Image {
  header: Qcow2Header;
  snapshots: Qcow2Snapshot[];
  /** The VM state of a snapshot, as a seekable Source every stream codec reads. */
  vmState(snap: Qcow2Snapshot): Qcow2VmStateSource;
}

/** Read a qcow2 image's header and snapshot table; nothing else is read until a VM state is. */
export async function openQcow2(ra: RandomAccess): Promise<Qcow2Image> {
  const header = await readQcow2Header(ra);
  const snapshots = await readSnapshotTable(ra, header);
  return { header, snapshots, vmState: (snap) => new Qcow2VmStateSource(ra, header, snap) };
}

/**
 * A snapshot by id or by name, in QEMU's order (an id first, then a name).
 * Several with the same name are ambiguous and refused, naming their ids.
 */
export function findSnapshot(image: Qcow2Image, ref: string): Qcow2Snapshot {
  const byId = image.snapshots.find((s) => s.id === ref);
  if (byId) return byId;
  const byName = image.snapshots.filter((s) => s.name === ref);
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) throw new RefusedError(`snapshot name '${ref}' is ambiguous (ids ${byName.map((s) => s.id).join(", ")}): name it by id`, image.header.snapshotsOffset);
  const known = image.snapshots.map((s) => `${s.id} ${s.name}`).join(", ") || "none";
  throw new RefusedError(`no snapshot '${ref}' (snapshots: ${known})`, image.header.snapshotsOffset);
}
