"""nmframe for asyncio: a host whose messages are awaited and whose sends may come
from any task.

    import asyncio
    from nmframe import aio

    async def main():
        host = aio.Host()
        async for message in host:
            asyncio.create_task(answer(host, message))

    async def answer(host, message):
        await host.send({"id": message["id"], "ok": True})

    asyncio.run(main())

A thread of the host's own reads ahead (at most `max_pending` messages, then it waits
for the program to take them), and another writes, in the order the sends were made:
the event loop never blocks on the pipes. Values are turned into JSON on the loop's
thread, when `send` is called, so a dict changed afterwards goes as it was.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from typing import Any, AsyncIterator, Optional, Tuple

from . import Host as _SyncHost
from ._errors import Closed, Disconnected, InvalidMessage, TransferFailed
from ._nmframe import Caller, dumps

__all__ = ["Host"]

_log = logging.getLogger("nmframe")


class Host:
    """An asyncio host on this process's stdin and stdout. Takes the options of
    `nmframe.Host`, and `max_pending` (64): how many messages are read ahead."""

    def __init__(self, *, max_pending: int = 64, **options: Any) -> None:
        self._host = _SyncHost(**options)
        self._slots = threading.Semaphore(max_pending)
        self._queue: Optional[asyncio.Queue[Tuple[bool, Any]]] = None
        self._reader: Optional[threading.Thread] = None
        self._writer = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="nmframe-writer")
        self._end: Optional[BaseException] = None

    @property
    def caller(self) -> Caller:
        """Who started the host (see `nmframe.Caller`)."""
        return self._host.caller

    @property
    def sync(self) -> _SyncHost:
        """The blocking host underneath."""
        return self._host

    def _start(self) -> asyncio.Queue[Tuple[bool, Any]]:
        if self._queue is None:
            loop = asyncio.get_running_loop()
            self._queue = asyncio.Queue()
            self._reader = threading.Thread(
                target=self._read, args=(loop, self._queue), name="nmframe-reader", daemon=True
            )
            self._reader.start()
        return self._queue

    def _read(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[Tuple[bool, Any]]) -> None:
        while True:
            self._slots.acquire()
            try:
                item: Tuple[bool, Any] = (True, self._host.recv())
            except BaseException as err:  # noqa: BLE001 - handed to the awaiting task
                item = (False, err)
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:
                return  # the loop has closed
            if not item[0] and getattr(item[1], "fatal", True):
                return

    async def recv(self) -> Any:
        """The next message's value. Raises as `nmframe.Host.recv` does: `Closed` at the
        end (and at every call after it), `InvalidMessage` for a message that is not
        JSON (the next call goes on), `StreamError` when the stream broke."""
        if self._end is not None:
            raise self._end
        queue = self._start()
        ok, item = await queue.get()
        self._slots.release()
        if ok:
            return item
        if getattr(item, "fatal", True):
            self._end = item
        raise item

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[Any]:
        while True:
            try:
                yield await self.recv()
            except (Closed, Disconnected):
                return
            except (InvalidMessage, TransferFailed) as err:
                _log.warning("skipped a message: %s", err)

    async def send(self, value: Any) -> None:
        """Sends `value` as JSON; returns once it is written. Refusals (over 1 MiB:
        `MessageTooLarge`; not JSON-serializable: `TypeError` or `ValueError`) are raised
        before anything is written; `Disconnected` when the browser has gone."""
        text = dumps(value)
        await asyncio.get_running_loop().run_in_executor(self._writer, self._host._send_dumped, text)

    async def send_bytes(self, data: bytes) -> None:
        """Sends a JSON text as it is, once checked (as `nmframe.Host.send_bytes`)."""
        data = bytes(data)
        await asyncio.get_running_loop().run_in_executor(self._writer, self._host.send_bytes, data)

    async def flush(self) -> None:
        """Writes every queued reply now."""
        await asyncio.get_running_loop().run_in_executor(self._writer, self._host.flush)

    def close(self) -> None:
        """Stops the writer thread once what was sent is written."""
        self._writer.shutdown(wait=True)


