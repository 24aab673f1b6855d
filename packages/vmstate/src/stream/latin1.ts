/**
 * @deprecated The latin1 helpers live in ../latin1.ts, named by direction
 * (`bytesToLatin1`, `latin1ToBytes`, `latin1AsUtf8`). These aliases keep
 * older imports (ram.ts) working until they move.
 */
export { bytesToLatin1 as latin1, latin1ToBytes as latin1Bytes, latin1AsUtf8 as asUtf8 } from "../latin1.js";
