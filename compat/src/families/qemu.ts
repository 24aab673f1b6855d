/** The QEMU stream family (3 ↔ 4) in the matrix. */
import type fc from "fast-check";
import { NotImplemented } from "../codec-io.js";
import type { StreamAdapter } from "../stream-pair.js";

const todo = (): never => {
  throw new NotImplemented("not implemented: qemuCodec / qemu arbitraries");
};

export const qemuAdapter: StreamAdapter<unknown> = {
  family: "qemu",
  codec: todo,
  arbitrary: (): fc.Arbitrary<unknown> => todo(),
  toDoc: todo,
  project: todo,
  retag: todo,
  fieldValues: todo,
};
