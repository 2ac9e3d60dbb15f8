"""Native-messaging hosts for browser extensions, on nmframe's Rust core.

A browser starts a native-messaging host and talks to it over its stdin and stdout:
each message is a 32-bit length in native byte order and that many bytes of UTF-8 JSON.
A host may send at most 1 MiB (exactly 1,048,576 bytes is allowed; a longer reply makes
the browser close the port); Chromium sends at most 64 MiB, Firefox up to 4 GiB.

    import nmframe

    host = nmframe.Host()            # stdout guarded: print() goes to stderr
    for message in host:             # values, as json.loads gives them
        host.send({"echo": message})

`Host()` takes the process's stdin and stdout as every nmframe binding does: the real
stdout moved to a private descriptor and descriptor 1 (and `sys.stdout`) pointed at
stderr, binary mode on Windows, the stdin pipe enlarged on Linux, `host.caller` read
from the command line. Replies over 1 MiB are refused before a byte is written
(`MessageTooLarge`); replies sent while more requests are waiting go out in one write.

- `serve(handler)`: a host's main loop: each message's value to `handler`, whose return
  value (unless None) is the reply; errors are logged and the host goes on.
- `Host(chunked=True)`: messages of any size both ways, through nmframe's chunked
  envelope (the extension uses the JavaScript package nmframe-port).
- `nmframe.aio.Host`: the same for asyncio (`async for message in host`).
- `dumps`, `loads`, `validate`: the core's JSON, also for your own framing.
"""

from __future__ import annotations

import atexit
import sys
TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (milliseconds per start)

from ._errors import (
    Closed,
    Disconnected,
    EmptyMessage,
    Error,
    InvalidJson,
    InvalidMessage,
    InvalidUtf8,
    MessageTooLarge,
    NestingTooDeep,
    StreamError,
    TransferFailed,
)
from ._nmframe import (
    CHROMIUM_MAX_BROWSER_TO_HOST,
    MAX_BROWSER_TO_HOST,
    MAX_HOST_TO_BROWSER,
    Caller,
    Frames,
    dumps,
    fnv1a32,
    loads,
    validate,
)

__all__ = [
    "Host",
    "Caller",
    "Frames",
    "serve",
    "dumps",
    "loads",
    "validate",
    "fnv1a32",
    "MAX_HOST_TO_BROWSER",
    "MAX_BROWSER_TO_HOST",
    "CHROMIUM_MAX_BROWSER_TO_HOST",
    # The exceptions, named one by one (a type checker reads this list as it is).
    "Error",
    "InvalidMessage",
    "EmptyMessage",
    "MessageTooLarge",
    "InvalidUtf8",
    "InvalidJson",
    "NestingTooDeep",
    "TransferFailed",
    "Disconnected",
    "Closed",
    "StreamError",
]

from ._nmframe import Host as _Host

if TYPE_CHECKING:  # typing and logging cost a host milliseconds at every start
    import logging
    from typing import Any, Callable, Optional


def _log() -> logging.Logger:
    """The `nmframe` logger, where skipped messages and failed handlers are reported.
    With no logging configuration of the program's own they reach stderr (logging's
    last resort), the browser's log. Imported when first needed: hosts start per
    connection, and `logging` alone costs several milliseconds."""
    import logging

    return logging.getLogger("nmframe")


class Host(_Host):
    """A native-messaging host on this process's stdin and stdout.

    Keyword-only options:

    - `guard_stdout` (True): move the real stdout aside and point descriptor 1 and
      `sys.stdout` at stderr, so that a stray `print()` cannot corrupt the stream.
    - `max_inbound` (None: the protocol's 4 GiB - 1): the largest message read; a
      longer one announced ends the stream (`StreamError`).
    - `chunked` (False): messages of any size both ways, through nmframe's chunked
      envelope (the extension uses nmframe-port). Its limits: `max_message` (bytes of
      one message, 1 GiB), `max_buffered` (bytes held for all incoming messages, 1 GiB),
      `window` (parts in flight before an acknowledgement, 8), `timeout` (seconds of
      silence within one incoming message, 30) and `ack_timeout` (seconds a send waits
      for an acknowledgement, 30).
    - `argv` (None: `sys.argv`): the command line to read the caller from.

    Receive with `for message in host` (values), `host.frames()` (bytes as they came),
    `host.recv()` or `host.recv_bytes()`; send with `host.send(value)` or
    `host.send_bytes(json_text)`. Sends may come from any thread, also while another
    thread waits in a receive (a chunked host sends while no message is arriving).
    Blocking calls release the GIL. Replies still queued when the interpreter exits are
    written then.
    """

    def __init__(self, **options: Any) -> None:
        # A browser that stops reading the host's log must not stop the host: writes
        # to stderr that fail are dropped.
        if not isinstance(sys.stderr, _QuietStream) and sys.stderr is not None:
            sys.stderr = _QuietStream(sys.stderr)
        if options.get("guard_stdout", True):
            # Descriptor 1 is stderr now: what Python still buffered for stdout goes
            # there, and `print()` from now on goes to stderr at once, not through
            # stdout's buffer.
            if sys.stdout is not None and not isinstance(sys.stdout, _QuietStream):
                try:
                    sys.stdout.flush()
                except (OSError, ValueError):
                    pass
            sys.stdout = sys.stderr
        atexit.register(self._flush_at_exit)


class _QuietStream:
    """A text stream whose writes and flushes ignore OSError (a closed pipe): a
    diagnostic must never be what stops a host."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        try:
            return int(self._inner.write(text))
        except OSError:
            return len(text)

    def flush(self) -> None:
        try:
            self._inner.flush()
        except OSError:
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def serve(handler: Callable[[Any], Any], host: Optional[Host] = None, **options: Any) -> None:
    """Serves the browser until it closes the pipe: each message's value goes to
    `handler`, and what it returns, unless None, is sent back as the reply.

    A message that is not JSON, a handler that raises, and a reply that cannot be sent
    (over 1 MiB, not JSON-serializable) are logged (on stderr, the browser's log, through
    the `nmframe` logger) and the host goes on to the next message, as nmframe's Rust
    `Server` does. It returns when the browser closes the pipe or has gone, and raises
    `StreamError` when the stream broke.

    `host` is a `Host` of your own; without one, `Host(**options)` is made.
    """
    if host is None:
        host = Host(**options)
    elif options:
        raise TypeError("serve() takes a host or options for one, not both")
    for message in host:
        try:
            reply = handler(message)
        except Exception:
            _log().exception("the handler failed; going on with the next message")
            continue
        if reply is None:
            continue
        try:
            host.send(reply)
        except Disconnected:
            return
        except (InvalidMessage, TypeError, ValueError) as err:
            _log().error("reply not sent: %s", err)
