/**
 * Beyond adjacent pairs: every release of a sample device against every later
 * one (Avro's "transitive" scope). This is where a moving minimum_version_id
 * shows: release j loads release i's stream exactly when i's version_id is at
 * least j's minimum_version_id, refusing otherwise with a typed error, and
 * schema-diff predicts the same. Seeds from FC_SEED / FC_NUM_RUNS.
 */
import fc from "fast-check";
import { WireError } from "@vmstream/framing";
import { arbitraryState, propertyParams, type VmsdLike } from "@vmstream/testing";
import { type Vmsd, dumpVmstateFile, loadState, sampleDevices, saveState, schemaDiff } from "@vmstream/vmstate";
import { describe, expect, test } from "vitest";

const pairs = sampleDevices.flatMap((d) => {
  const rel = Object.keys(d.versions)
    .map(Number)
    .sort((a, b) => a - b);
  return rel.flatMap((i, k) => rel.slice(k + 1).map((j) => ({ device: d.name, i, j, a: d.versions[i]!, b: d.versions[j]! })));
});

describe("VMState sample devices: every older release against every newer one", () => {
  test("the NIC's minimum_version_id really moves (release 1 streams stop loading at release 3)", () => {
    const nic = pairs.find((p) => p.device === "sample-nic" && p.i === 1 && p.j === 3);
    expect(nic).toBeDefined();
    expect(nic!.a.version).toBeLessThan(nic!.b.minimumVersion);
  });

  test.each(pairs.map((p) => ({ ...p, id: `${p.device} ${p.i}→${p.j}` })))("$id", ({ a, b, device }) => {
    const loads = a.version >= b.minimumVersion && a.version <= b.version;
    const dump = (s: Vmsd) => dumpVmstateFile([{ name: device, schema: s }]);
    const errors = schemaDiff(dump(a), dump(b)).filter((f) => f.severity === "error");
    expect(errors.length === 0, `schema-diff ${errors.map((f) => f.message).join("; ")}`).toBe(loads);
    fc.assert(
      fc.property(arbitraryState(a as unknown as VmsdLike), (v) => {
        const bytes = saveState(a, v, { format: 3 });
        let ok: boolean;
        try {
          loadState(b, bytes, { version: a.version, format: 3 });
          ok = true;
        } catch (e) {
          if (!(e instanceof WireError)) throw e;
          ok = false;
        }
        expect(ok).toBe(loads);
      }),
      propertyParams(200),
    );
  });
});
