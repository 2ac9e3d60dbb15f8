#!/usr/bin/env python3
"""A host that botches chunked transfers on request, for the browser suite: each request
{"fault": F, "id": N} is answered with a transfer that goes wrong in way F, then with a
plain {"id": N, "ok": true}, so the extension sees the error and a port that still works.

  abort      two parts, then an abort frame
  truncate   two parts, then an end frame announcing more bytes than were sent
  malformed  a part without its data, then the rest of a good transfer
  checksum   a whole transfer whose end frame carries the wrong CRC-32
  version    two parts of envelope version 1, which the extension (version 2) refuses
"""
import json
import struct
import sys
import zlib

out = sys.stdout.buffer


def send(obj):
    body = json.dumps(obj, separators=(",", ":")).encode()
    out.write(struct.pack("=I", len(body)) + body)
    out.flush()


def envelope(t, id, version=2, **fields):
    return {"$nmframe": version, "t": t, "id": id, **fields}


def main():
    inp = sys.stdin.buffer
    transfer = 1000
    while True:
        head = inp.read(4)
        if len(head) < 4:
            return
        (n,) = struct.unpack("=I", head)
        request = json.loads(inp.read(n))
        if not isinstance(request, dict) or "fault" not in request:
            continue  # an acknowledgement or refusal from the extension
        fault, rid = request["fault"], request.get("id")
        transfer += 1
        text = json.dumps({"id": rid, "never": "delivered"})
        a, b = text[:10], text[10:]
        if fault == "abort":
            send(envelope("part", transfer, seq=0, data=a))
            send(envelope("part", transfer, seq=1, data=b))
            send(envelope("abort", transfer, reason="the host ran out of rows"))
        elif fault == "truncate":
            send(envelope("part", transfer, seq=0, data=a))
            send(envelope("part", transfer, seq=1, data=b))
            send(envelope("end", transfer, seq=2, bytes=len(text) + 100, crc32=zlib.crc32(text.encode())))
        elif fault == "malformed":
            send(envelope("part", transfer, seq=0))
            send(envelope("part", transfer, seq=1, data=b))
            send(envelope("end", transfer, seq=2, bytes=len(text), crc32=zlib.crc32(text.encode())))
        elif fault == "checksum":
            send(envelope("part", transfer, seq=0, data=a))
            send(envelope("part", transfer, seq=1, data=b))
            send(envelope("end", transfer, seq=2, bytes=len(text), crc32=zlib.crc32(text.encode()) ^ 1))
        elif fault == "version":
            send(envelope("part", transfer, version=1, seq=0, data=a))
            send(envelope("part", transfer, version=1, seq=1, data=b))
        send({"id": rid, "ok": True})


if __name__ == "__main__":
    main()
