#!/usr/bin/env python3
"""A native-messaging host that echoes every message back unchanged, on nmframe.

Each message goes back as the bytes that came, once checked to be UTF-8 JSON of at most
1 MiB. A message it cannot echo (over 1 MiB, or not JSON) is answered with
{"error", "size", "fnv1a32"} (the size and FNV-1a checksum of what arrived, as every
echo host in nmframe does), and the host goes on. It exits when the browser closes its
stdin or goes away; with status 1 when the stream broke (the reason on stderr).

Drive it with `nmframe run -m '{"a":1}' -- python3 python/examples/echo_host.py`.
"""

import sys

import nmframe


def main() -> int:
    try:
        host = nmframe.Host()
    except OSError as err:
        print(f"echo_host: {err}", file=sys.stderr)
        return 1
    try:
        for frame in host.frames():
            try:
                host.send_bytes(frame)
            except nmframe.InvalidMessage as err:
                print(f"echo_host: not echoing a {len(frame)}-byte message: {err}", file=sys.stderr)
                host.send({"error": err.kind, "size": len(frame), "fnv1a32": nmframe.fnv1a32(frame)})
    except nmframe.Disconnected:
        return 0
    except nmframe.StreamError as err:
        print(f"echo_host: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
