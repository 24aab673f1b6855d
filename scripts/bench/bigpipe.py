#!/usr/bin/env python3
"""
`cat FILE` with a 1 MiB pipe: sets the capacity of its standard-output pipe
with fcntl(F_SETPIPE_SZ) before copying FILE to it. Node cannot resize a pipe
itself; the bench uses this writer to show how much of the stdin figure is
the kernel's default 64 KiB pipe rather than the reader.
"""
import fcntl
import os
import sys

F_SETPIPE_SZ = 1031
try:
    fcntl.fcntl(1, F_SETPIPE_SZ, 1 << 20)
except OSError:
    pass  # not a pipe, or above /proc/sys/fs/pipe-max-size: copy anyway
fd = os.open(sys.argv[1], os.O_RDONLY)
while True:
    block = os.read(fd, 1 << 20)
    if not block:
        break
    view = memoryview(block)
    while view:
        view = view[os.write(1, view):]
