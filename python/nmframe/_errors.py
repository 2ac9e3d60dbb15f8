"""The exceptions of nmframe. Their messages are the core's, the same in every binding,
with the numbers (sizes, limits, byte offsets) also given as attributes."""

from __future__ import annotations

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing (milliseconds per start)

if TYPE_CHECKING:
    from typing import Optional

__all__ = [
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


class Error(Exception):
    """Base class of every error nmframe raises."""

    #: Whether the stream is over: no message can be read or sent after it.
    fatal: bool = False
    #: A short name of what went wrong, the same in every binding (libnmframe's
    #: `nmf_status_str`): "frame too large", "invalid JSON", ...
    kind: str = "error"


class InvalidMessage(Error, ValueError):
    """A message that cannot be sent or was not valid: nothing was written (sending),
    or the message was skipped (receiving); the host goes on."""

    #: The message's size in bytes, when known.
    size: Optional[int] = None


class EmptyMessage(InvalidMessage):
    """An empty message: Chromium drops it, Firefox disconnects."""

    kind = "empty frame"


class MessageTooLarge(InvalidMessage):
    """A reply over the browsers' limit of 1 MiB (1,048,576 bytes; exactly 1 MiB is
    allowed). Refused before a byte was written: `size` and `limit` say by how much."""

    kind = "frame too large"

    limit: int = 1 << 20


class InvalidUtf8(InvalidMessage):
    """Not UTF-8: `offset` is that of the first bad byte."""

    kind = "invalid UTF-8"

    offset: int = 0


class InvalidJson(InvalidMessage):
    """Not one JSON text: `offset` is the byte where the parser gave up."""

    kind = "invalid JSON"

    offset: int = 0


class NestingTooDeep(InvalidMessage):
    """Valid JSON nested deeper than a decoder that builds values allows (`limit`
    levels); `Host.recv_bytes` and `Host.frames` still deliver it."""

    kind = "JSON nested deeper than the document's limit"

    offset: int = 0
    limit: int = 0


class TransferFailed(Error):
    """A message of a chunked host that failed (too large, corrupted, aborted, timed
    out, or refused by the extension): `code` names why, `id` is the sender's number
    for it. The stream goes on."""

    kind = "a message in parts failed; the stream goes on"

    code: str = ""
    id: Optional[int] = None


class Disconnected(Error):
    """The browser has gone (its end of the host's stdout is closed): a normal end of a
    session. The host should exit."""

    kind = "peer disconnected"

    fatal = True


class Closed(Error, EOFError):
    """The browser closed the host's stdin, as it does on disconnect. The host should
    exit."""

    kind = "end of stream"

    fatal = True


class StreamError(Error):
    """The stream broke: it ended inside a message (the numbers say where), a message
    was announced over the inbound cap, or reading or writing failed (a full disk). The
    host should say so on stderr and exit with a failure status."""

    kind = "I/O error"

    fatal = True
