import { isQcow2 } from "./qcow2/header.js";
import { isSaveImage } from "./libvirt/header.js";

export type ContainerKind = "qcow2" | "libvirt-save";

/** Bytes `detectContainer` looks at. */
export const CONTAINER_DETECT_BYTES = 16;

/** Which container a file's first bytes announce, or null for anything else (a bare stream). */
export function detectContainer(head: Uint8Array): ContainerKind | null {
  if (isQcow2(head)) return "qcow2";
  if (isSaveImage(head)) return "libvirt-save";
  return null;
}
