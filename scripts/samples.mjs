// The sample streams `npm start` inspects and verifies: small real files from
// fixtures/ (fixtures/README.md says how each was made), one per kind of stream.
export const SAMPLES = [
  "fixtures/context/ctx2-le.bin",
  "fixtures/qemu/pc-7.2-stopped.mig",
  "fixtures/qemu-releases/10.0/pc-10.0-stopped.mig",
  "fixtures/xen/libxl_hvm_xs.bin",
];
