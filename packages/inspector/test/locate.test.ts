import { describe, expect, it } from "vitest";
import { holderOf, labelOf, locateAll } from "../src/view/locate.js";

// Shapes as the codecs' inspect JSON has them (qemu sections, libxl listing, legacy chunks).
const doc = {
  format: "qemu@3",
  sections: [
    { offset: 26, kind: "start", idstr: "ram", instance: 0, version: 4, size: 170 },
    { offset: 196, kind: "part", idstr: "ram", size: 100 },
    { offset: 400, kind: "full", idstr: "timer", instance: 0, version: 2, size: 48, fields: [{ offset: "410", name: "ticks", size: 8 }] },
  ],
  fault: { offset: 300, message: "x" },
};

describe("locating stream items in codec JSON", () => {
  it("finds every object with an offset, with its length and a name, but not the codec's fault object", () => {
    const items = locateAll(doc);
    expect(items.map((i) => [i.path.join("."), i.offset, i.length, i.label])).toEqual([
      ["sections.0", 26, 170, "ram #0 v4"],
      ["sections.1", 196, 100, "ram"],
      ["sections.2", 400, 48, "timer #0 v2"],
      ["sections.2.fields.0", 410, 8, "ticks"],
    ]);
  });

  it("puts a fault in the innermost item holding it, else after the last item before it", () => {
    const items = locateAll(doc);
    expect(holderOf(items, 412)?.label).toBe("ticks");
    expect(holderOf(items, 440)?.label).toBe("timer #0 v2");
    expect(holderOf(items, 300)?.path.join(".")).toBe("sections.1"); // between sections: after the part section
    expect(holderOf(items, 3)).toBeUndefined();
  });

  it("gives an item without a length the bytes up to its next sibling", () => {
    const items = locateAll({ chunks: [{ offset: 8, name: "tsc_info" }, { offset: 32, name: "end" }] });
    expect(items.map((i) => i.length)).toEqual([24, undefined]);
  });

  it("names wrapper records by their content and ignores hostile non-numeric offsets", () => {
    expect(labelOf({ libxc: { type: "HEADER", version: 3 } })).toBe("libxc HEADER v3");
    expect(locateAll({ a: { offset: "1e3" }, b: { offset: -1 }, c: { offset: "__proto__" } })).toEqual([]);
  });
});
