#!/usr/bin/env python3
"""Drives a host with one message in flight, as an extension awaiting each reply does,
and checks every reply: the driver for looking at a host's system calls per message.

    python3 benches/pingpong.py SIZE COUNT [--stream] -- HOST [ARGS...]

SIZE is the payload's length in bytes (a JSON string, at least 2), COUNT the round
trips. With --stream, a second thread writes all COUNT messages in bursts of up to
1 MiB (as the e2e bench does) while the replies are read. Put a tracer in front of the
host to see where its time goes, for example every thread's calls counted, or which
thread writes:

    python3 benches/pingpong.py 65536 2000 -- strace -f -c -o calls.txt target/release/nmframe echo
    python3 benches/pingpong.py 65536 200 -- strace -f -e trace=writev,poll -o calls.txt \\
        target/release/bench-hosts/echo_host_c chrome-extension://x/

The CPU figures of BENCHMARKS.md come from the e2e bench (`--latency`); this gives the
system calls behind them.
"""

import struct
import subprocess
import sys
import threading
from typing import IO


def write_bursts(stdin: IO[bytes], frame: bytes, count: int) -> None:
    per_burst = max(1, (1 << 20) // len(frame))
    left = count
    while left:
        n = min(per_burst, left)
        stdin.write(frame * n)
        stdin.flush()
        left -= n
    stdin.close()


def main() -> int:
    args = sys.argv[1:]
    stream = len(args) > 2 and args[2] == "--stream"
    if stream:
        del args[2]
    if len(args) < 4 or args[2] != "--":
        print(__doc__.strip().splitlines()[3], file=sys.stderr)
        return 2
    size, count, host = int(args[0]), int(args[1]), args[3:]
    if size < 2:
        print("pingpong: SIZE must be at least 2 (a JSON string)", file=sys.stderr)
        return 2
    payload = b'"' + b"x" * (size - 2) + b'"'
    frame = struct.pack("=I", len(payload)) + payload
    proc = subprocess.Popen(host, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    writer = None
    if stream:
        writer = threading.Thread(target=write_bursts, args=(proc.stdin, frame, count))
        writer.start()
    for i in range(count):
        if not stream:
            proc.stdin.write(frame)
            proc.stdin.flush()
        header = proc.stdout.read(4)
        if len(header) < 4:
            print(f"pingpong: the host closed its stdout after {i} replies", file=sys.stderr)
            return 1
        (length,) = struct.unpack("=I", header)
        if proc.stdout.read(length) != payload:
            print(f"pingpong: reply {i + 1} differs from the message sent", file=sys.stderr)
            return 1
    if writer is not None:
        writer.join()
    else:
        proc.stdin.close()
    status = proc.wait()
    what = "messages streamed" if stream else "round trips"
    print(f"pingpong: {count} {what} of {size} bytes, host exit status {status}")
    return 0 if status == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
