#!/usr/bin/env python3
"""
Run Xen's installed verify-stream-v2 with its two Python-3 defects fixed in
memory (the installed files are untouched), so it can serve as the bench peer:

  1. EMULATOR_XENSTORE_DATA compares a bytes item with a str, so any
     non-empty payload is refused as "Data not NUL terminated".
  2. The big-endian option check masks with the bit number (0), so it never
     fires.

Usage: xen-verify.py TOOL [verify-stream-v2 options]; PYTHONPATH must hold the
package's lib/python (the bench sets it).
"""
import runpy
import sys
from struct import calcsize, unpack

from xen.migration import libxc, libxl
from xen.migration.verify import RecordError, StreamError


def xenstore_data(self, content):
    size = calcsize(libxl.EMULATOR_HEADER_FORMAT)
    if len(content) < size:
        raise RecordError("Length must be at least %d bytes, got %d" % (size, len(content)))
    emu_id, _ = unpack(libxl.EMULATOR_HEADER_FORMAT, content[:size])
    if emu_id not in libxl.emulator_id_to_str:
        raise RecordError("Unrecognised emulator id 0x%x" % (emu_id,))
    data = content[size:]
    if data:
        if data[-1:] != b"\0":
            raise RecordError("Data not NUL terminated")
        if len(data[:-1].split(b"\0")) % 2:
            raise RecordError("Expected an even number of strings")


libxl.VerifyLibxl.verify_record_emulator_xenstore_data = xenstore_data
libxl.record_verifiers[libxl.REC_TYPE_emulator_xenstore_data] = xenstore_data


def refuse_big_endian(original, fmt):
    """Wrap a header check: read the header once, refuse options bit 0, replay the stock checks."""

    def check(self):
        fields = self.unpack_exact(fmt)
        options = fields[3] if fmt == libxc.IHDR_FORMAT else fields[2]
        if options & 1:
            raise StreamError("Big-endian stream (options bit 0 set) not supported")
        saved = self.unpack_exact
        self.unpack_exact = lambda _fmt: fields
        try:
            original(self)
        finally:
            self.unpack_exact = saved

    return check


libxc.VerifyLibxc.verify_ihdr = refuse_big_endian(libxc.VerifyLibxc.verify_ihdr, libxc.IHDR_FORMAT)
libxl.VerifyLibxl.verify_hdr = refuse_big_endian(libxl.VerifyLibxl.verify_hdr, libxl.HDR_FORMAT)

tool = sys.argv.pop(1)
sys.argv[0] = tool
runpy.run_path(tool, run_name="__main__")
