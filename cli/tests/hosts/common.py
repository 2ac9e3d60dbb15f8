"""Framing helpers for the deliberately broken test hosts (native byte order)."""
import struct
import sys

stdin = sys.stdin.buffer
stdout = sys.stdout.buffer


def read_message():
    header = stdin.read(4)
    if len(header) < 4:
        return None
    (length,) = struct.unpack("=I", header)
    return stdin.read(length)


def write_frame(payload, length=None):
    stdout.write(struct.pack("=I", len(payload) if length is None else length) + payload)
    stdout.flush()
