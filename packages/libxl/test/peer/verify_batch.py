#!/usr/bin/env python3
"""
Run Debian's verify-stream-v2 (xen-utils) over many streams in one process.

Input (argv[1]): a file of entries, each `u32 format-length, format, u32
data-length, data` (little-endian), format one of libxc, libxl, xl.
Output: one JSON line per entry: {"rc": 0|1|2, "error": "<last line>"}.

The stock tool has two Python 3 defects that we correct here, in memory only
(the installed files are untouched):
  * its EMULATOR_XENSTORE_DATA check compares a byte with a one-character
    string, so every non-empty key/value payload fails; we check the payload
    as bytes;
  * its endianness check masks the options with the bit's *number* (0), so a
    big-endian flag is never seen; we look at the bit before the stock check.
"""
import io, json, os, runpy, struct, sys, traceback

LIB = os.environ.get("XEN_PYTHON", "/usr/lib/xen-4.17/lib/python")
TOOL = os.environ.get("XEN_VERIFY", "/usr/lib/xen-4.17/bin/verify-stream-v2")
sys.path.insert(0, LIB)

from xen.migration import libxc as xc, libxl as xl          # noqa: E402
from xen.migration.verify import RecordError, StreamError    # noqa: E402


def checked_xenstore(self, body):
    if len(body) < 8:
        raise RecordError("Length must be at least 8 bytes, got %d" % len(body))
    emu_id, _ = struct.unpack("<II", body[:8])
    if emu_id not in xl.emulator_id_to_str:
        raise RecordError("Unrecognised emulator id 0x%x" % emu_id)
    kv = body[8:]
    if kv:
        if kv[-1] != 0:
            raise RecordError("Data not NUL terminated")
        if len(kv[:-1].split(b"\0")) % 2:
            raise RecordError("Expected an even number of strings")


xl.VerifyLibxl.verify_record_emulator_xenstore_data = checked_xenstore
xl.record_verifiers[xl.REC_TYPE_emulator_xenstore_data] = checked_xenstore


def refuse_big_endian(stock, size, opt_at, opt_fmt):
    """Wrap a header check: read the header, test bit 0, replay the bytes to the stock check."""
    def check(self):
        raw = self.rdexact(size)
        (opts,) = struct.unpack_from(opt_fmt, raw, opt_at)
        if opts & 1:
            raise StreamError("Big-endian stream (options bit 0) cannot be restored")
        real = self.read
        replay = io.BytesIO(raw)

        def read(n):
            got = replay.read(n)
            return got + real(n - len(got)) if len(got) < n else got
        self.read = read
        try:
            stock(self)
        finally:
            self.read = real
    return check


xc.VerifyLibxc.verify_ihdr = refuse_big_endian(xc.VerifyLibxc.verify_ihdr, 24, 16, ">H")
xl.VerifyLibxl.verify_hdr = refuse_big_endian(xl.VerifyLibxl.verify_hdr, 16, 12, ">I")

tool = runpy.run_path(TOOL, run_name="verify_stream_v2")
read_stream = tool["read_stream"]
g = read_stream.__globals__


def run(fmt, data):
    g["fin"] = io.BytesIO(data)
    g["quiet"] = False
    g["verbose"] = False
    err = io.StringIO()
    saved = sys.stderr
    sys.stderr = err
    try:
        rc = read_stream(fmt)
    except BaseException:   # the tool lets nothing escape, but stay safe
        traceback.print_exc()
        rc = 2
    finally:
        sys.stderr = saved
    lines = [l for l in err.getvalue().splitlines() if l.strip()]
    last = lines[-1] if lines else ""
    if last == "Please fix me" and len(lines) >= 2:
        last = lines[-2]
    return rc, last


def main():
    with open(sys.argv[1], "rb") as f:
        buf = f.read()
    pos = 0
    out = sys.stdout
    while pos < len(buf):
        (n,) = struct.unpack_from("<I", buf, pos)
        fmt = buf[pos + 4:pos + 4 + n].decode()
        pos += 4 + n
        (m,) = struct.unpack_from("<I", buf, pos)
        data = buf[pos + 4:pos + 4 + m]
        pos += 4 + m
        rc, last = run(fmt, data)
        out.write(json.dumps({"rc": rc, "error": last}) + "\n")


if __name__ == "__main__":
    main()
