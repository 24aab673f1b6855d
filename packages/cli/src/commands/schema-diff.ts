import { UsageError } from "../errors.js";

/** Filled in by the VMState checker work (`schemaDiff` in @vmstream/vmstate). */
export async function schemaDiffCommand(_src: string, _dst: string, _json: boolean): Promise<void> {
  throw new UsageError("schema-diff is not available in this build yet");
}
