"""The browser's side of a host's pipes, for tests that run hosts as browsers do: a
real process, a 32-bit native-order length before each message."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import List, Optional, Sequence

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ORIGIN = "chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/"
MiB = 1 << 20


class Browser:
    """A started host and the browser's ends of its stdin, stdout and stderr."""

    def __init__(self, argv: Sequence[str], args: Sequence[str] = (ORIGIN,)) -> None:
        # Python buffers stdout when it is a pipe, as in a host a browser starts; this
        # machine's environment may say otherwise (PYTHONUNBUFFERED).
        env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
        self.proc = subprocess.Popen(
            [sys.executable, *argv, *args],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._stderr: List[bytes] = []
        self._drain = threading.Thread(target=self._collect, daemon=True)
        self._drain.start()

    def _collect(self) -> None:
        assert self.proc.stderr is not None
        for chunk in iter(lambda: self.proc.stderr.read1(65536), b""):  # type: ignore[union-attr]
            self._stderr.append(chunk)

    @property
    def stderr(self) -> str:
        return b"".join(self._stderr).decode("utf-8", "replace")

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, payload: bytes) -> None:
        self.write(frame(payload))

    def recv(self) -> Optional[bytes]:
        """The next frame from the host, or None when its stdout ends."""
        assert self.proc.stdout is not None
        header = self.proc.stdout.read(4)
        if len(header) < 4:
            return None
        (n,) = struct.unpack("=I", header)
        payload = self.proc.stdout.read(n)
        assert len(payload) == n, f"a {n}-byte frame cut at {len(payload)}; stderr:\n{self.stderr}"
        return payload

    def reply(self) -> bytes:
        got = self.recv()
        assert got is not None, f"no reply; the host's stderr:\n{self.stderr}"
        return got

    def roundtrip(self, payload: bytes) -> bytes:
        self.send(payload)
        return self.reply()

    def close(self, timeout: float = 10) -> int:
        """Closes the host's stdin, as a browser does on disconnect; the exit status."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            rc = self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        self._drain.join(5)
        return rc

    def expect_stderr(self, needle: str, timeout: float = 5) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.stderr:
            assert time.monotonic() < deadline, f"stderr lacks {needle!r}:\n{self.stderr}"
            time.sleep(0.01)


def frame(payload: bytes) -> bytes:
    return struct.pack("=I", len(payload)) + payload


def script(code: str) -> List[str]:
    """argv for a host written inline."""
    return ["-c", textwrap.dedent(code)]


@pytest.fixture
def browsers():
    """Starts hosts; every one still running at the end of the test is killed."""
    started: List[Browser] = []

    def start(argv: Sequence[str], args: Sequence[str] = (ORIGIN,)) -> Browser:
        b = Browser(argv, args)
        started.append(b)
        return b

    yield start
    for b in started:
        if b.proc.poll() is None:
            b.proc.kill()
            b.proc.wait()
