/** The libxc family (2 → 3) in the matrix. */
import type fc from "fast-check";
import { NotImplemented } from "../codec-io.js";
import type { StreamAdapter } from "../stream-pair.js";

const todo = (): never => {
  throw new NotImplemented("not implemented: libxcCodec / libxc arbitraries");
};

export const libxcAdapter: StreamAdapter<unknown> = {
  family: "libxc",
  codec: todo,
  arbitrary: (): fc.Arbitrary<unknown> => todo(),
  toDoc: todo,
  project: todo,
  retag: todo,
  fieldValues: todo,
};
