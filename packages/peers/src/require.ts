/**
 * Whether CI demands the real peers: `.ci/run` sets VMSTREAM_INTEROP=required,
 * so a missing tool fails there instead of quietly skipping.
 */
export function interopRequired(): boolean {
  return process.env.VMSTREAM_INTEROP === "required";
}

// One warning per peer and process: a file asks for the same peer per test.
const warned = new Set<string>();

/**
 * Gate for a test that needs peer `name`: true when it is present. When it is
 * missing, throws under VMSTREAM_INTEROP=required (a missing peer is a failure
 * in CI), otherwise prints why the test skips and returns false.
 * Use: `describe.skipIf(!requirePeer("QEMU 5.2", qemuRelease("5.2") !== undefined))`.
 */
export function requirePeer(name: string, present: unknown): boolean {
  if (present !== undefined && present !== null && present !== false) return true;
  const hint = "install it with `bash scripts/peers/install.sh` (as root)";
  if (interopRequired()) throw new Error(`peer ${name} is missing and VMSTREAM_INTEROP=required: ${hint}`);
  if (!warned.has(name)) {
    warned.add(name);
    console.warn(`skipping tests that need ${name}: it is missing; ${hint}`);
  }
  return false;
}
