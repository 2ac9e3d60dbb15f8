#!/usr/bin/env python3
"""Drives a host with one message in flight, as an extension awaiting each reply does,
and checks every reply: the driver for looking at a host's system calls per message.

    python3 benches/pingpong.py SIZE COUNT [--stream] [--cpu] -- HOST [ARGS...]

SIZE is the payload's length in bytes (a JSON string, at least 2), COUNT the round
trips. With --stream, a second thread writes all COUNT messages in bursts of up to
1 MiB (as the e2e bench does) while the replies are read. Put a tracer in front of the
host to see where its time goes, for example every thread's calls counted, or which
thread writes:

    python3 benches/pingpong.py 65536 2000 -- strace -f -c -o calls.txt target/release/nmframe echo
    python3 benches/pingpong.py 65536 200 -- strace -f -e trace=writev,poll -o calls.txt \\
        target/release/bench-hosts/echo_host_c chrome-extension://x/

With --cpu it also prints the host's CPU per message, every thread, counted from the
21st message to the last reply (with no tracer in front: the count is the host's own
process). Run two builds in turn, a few times, and compare the medians, for example:

    for i in 1 2 3 4 5; do for h in /tmp/before/nmframe target/release/nmframe; do
        python3 benches/pingpong.py 65536 1000 --cpu -- $h echo; done; done

The cell-by-cell CPU figures of BENCHMARKS.md come from the e2e bench (`--latency`); this
gives the system calls behind them, and side-by-side checks of one change.
"""

import os
import struct
import subprocess
import sys
import threading
from typing import IO


# Messages before the CPU count starts (--cpu): the host's start-up and first
# allocations are not what a message costs.
WARM_UP = 20


def cpu_ns(pid: int) -> int:
    """The CPU time of every thread of process `pid` so far, in nanoseconds (the first
    field of each thread's /proc schedstat, as the e2e bench reads it)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass  # a thread that ended meanwhile
    return total


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
    options = set()
    while len(args) > 2 and args[2] in ("--stream", "--cpu"):
        options.add(args.pop(2))
    stream, cpu = "--stream" in options, "--cpu" in options
    if stream and cpu:
        # The writer runs ahead of the replies: no message boundary to count from.
        print("pingpong: --cpu counts one message in flight, not with --stream", file=sys.stderr)
        return 2
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
    cpu_from = 0
    for i in range(count):
        if i == WARM_UP:
            cpu_from = cpu_ns(proc.pid)
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
    spent = cpu_ns(proc.pid) - cpu_from
    if writer is not None:
        writer.join()
    else:
        proc.stdin.close()
    status = proc.wait()
    what = "messages streamed" if stream else "round trips"
    print(f"pingpong: {count} {what} of {size} bytes, host exit status {status}")
    if cpu and count > WARM_UP:
        print(f"pingpong: host CPU per message {spent / 1e3 / (count - WARM_UP):.1f} us (every thread, after {WARM_UP} warm-up messages)")
    return 0 if status == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
