#!/usr/bin/env python3
"""A host that sends and receives messages of any size: nmframe's chunked envelope
(docs/CHUNKING.md), the other end of the JavaScript package nmframe-port. It answers
the requests of the Rust example (core/examples/chunked_host.rs), objects with an `op`
and an `id`, answered with the same `id`:

- {"op":"echo","id":1,...}: the request itself comes back, whatever its size;
- {"op":"make","id":2,"bytes":N}: a reply whose JSON text is exactly N bytes,
  {"id":2,"data":"..."}, the letters of a fixed sequence the extension regenerates;
- {"op":"size","id":3,...}: {"id":3,"bytes":B,"crc32":C} of the request's JSON text.

A transfer the extension botched is reported on stderr and to the extension as
{"transfer_error":CODE,"message":TEXT}; the host goes on.

Try it with `nmframe run --chunked -m '{"op":"make","id":1,"bytes":3000000}' --
python3 python/examples/chunked_host.py`.
"""

import sys
import zlib
from typing import Any, Dict, Union

import nmframe

ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
A, C, MASK = 1103515245, 12345, 0xFFFFFFFF
# Byte b of a state's top byte gives letter ALPHABET[b >> 2] (the state's top six bits).
TOP_SIX = bytes(ALPHABET[b >> 2] for b in range(256))
LANES = 4096


def letters(n: int) -> bytes:
    """`n` letters of a 32-bit LCG from 1, six bits per letter (as the Rust host makes
    them). A loop per letter would take seconds for 64 MiB in Python: instead LANES
    stretches of the sequence advance together, as 64-bit lanes of one integer."""
    if n == 0:
        return b""
    stride = -(-n // LANES)  # each lane makes `stride` letters
    # The state before each lane's first letter: x_(j*stride), by jumping ahead.
    jump_a, jump_c = 1, 0
    for _ in range(stride):
        jump_a, jump_c = (jump_a * A) & MASK, (jump_c * A + C) & MASK
    starts, x = [], 1
    for _ in range(LANES):
        starts.append(x)
        x = (x * jump_a + jump_c) & MASK
    lanes = int.from_bytes(b"".join(s.to_bytes(8, "little") for s in starts), "little")
    width = LANES * 64
    add = int.from_bytes(C.to_bytes(8, "little") * LANES, "little")
    keep = int.from_bytes(MASK.to_bytes(8, "little") * LANES, "little")
    out = bytearray(stride * LANES)
    for t in range(stride):
        lanes = (lanes * A + add) & keep
        out[t::stride] = lanes.to_bytes(width // 8, "little")[3::8]
    return bytes(out[:n]).translate(TOP_SIX)


def answer(text: bytes) -> Union[bytes, Dict[str, Any]]:
    """The reply to one request's JSON text: a value, or bytes to send as they are."""
    try:
        request = nmframe.loads(text)
    except nmframe.InvalidMessage as err:
        return {"error": str(err)}
    if not isinstance(request, dict) or not isinstance(request.get("id"), int):
        return {"error": "a request is an object with op and id"}
    op, id_ = request.get("op"), request["id"]
    if op == "echo":
        return text
    if op == "size":
        return {"id": id_, "bytes": len(text), "crc32": zlib.crc32(text)}
    if op == "make":
        head = b'{"id":%d,"data":"' % id_
        n = (request.get("bytes") or 0) - len(head) - 2
        if n < 0:
            return {"id": id_, "error": "too small"}
        return head + letters(n) + b'"}'
    return {"id": id_, "error": f"no op {op!r}"}


def main() -> int:
    try:
        host = nmframe.Host(chunked=True)
    except OSError as err:
        print(f"chunked_host: {err}", file=sys.stderr)
        return 1
    while True:
        try:
            reply = answer(host.recv_bytes())
        except nmframe.TransferFailed as err:
            print(f"chunked_host: {err}", file=sys.stderr)
            reply = {"transfer_error": err.code, "message": str(err)}
        except (nmframe.Closed, nmframe.Disconnected):
            return 0
        except nmframe.StreamError as err:
            print(f"chunked_host: {err}", file=sys.stderr)
            return 1
        try:
            if isinstance(reply, bytes):
                host.send_bytes(reply)
            else:
                host.send(reply)
        except (nmframe.TransferFailed, nmframe.InvalidMessage) as err:
            print(f"chunked_host: reply not sent: {err}", file=sys.stderr)
        except nmframe.Disconnected:
            return 0
        except nmframe.StreamError as err:
            print(f"chunked_host: {err}", file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
