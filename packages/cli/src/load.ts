import type { FamilyCodec } from "@vmstream/framing";
import { UsageError } from "./errors.js";
import { DETECTION } from "./formats.js";

/*
 * The command line loads only the codec package a stream needs: importing all
 * of them costs tens of milliseconds of start-up that every command paid,
 * which is most of a small file's run time. (The eager `registry.ts` stays for
 * the web inspector, whose bundle holds every codec anyway.)
 */
const loaders: Record<string, () => Promise<FamilyCodec>> = {
  // The context family alone: its own entry point skips the other Xen formats' modules.
  context: async () => (await import("@vmstream/libxl/context")).contextCodec,
  qemu: async () => (await import("@vmstream/vmstate")).qemuCodec,
  libxc: async () => (await import("@vmstream/libxl")).libxcCodec,
  libxl: async () => (await import("@vmstream/libxl")).libxlCodec,
  xl: async () => (await import("@vmstream/libxl")).xlCodec,
  legacy: async () => (await import("@vmstream/legacy")).legacyCodec,
};

export async function loadCodec(family: string): Promise<FamilyCodec> {
  const load = Object.hasOwn(loaders, family) ? loaders[family] : undefined;
  if (!load) throw new UsageError(`no codec for family ${family} in this build`);
  return load();
}

/** Same answer as the registry's `detect`, loading only the codecs whose sniff passes. */
export async function detectFormat(head: Uint8Array): Promise<{ codec: FamilyCodec; version: string } | null> {
  for (const { family, sniff } of DETECTION) {
    if (!sniff(head)) continue;
    const codec = await loadCodec(family);
    const version = codec.detect(head);
    if (version !== null) return { codec, version };
  }
  return null;
}
