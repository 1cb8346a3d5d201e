"""The write gate: on SQLite, one request at a time changes data inside a process.

SQLite has one write lock for the whole database, and a request that changes data holds it
from its first statement to its commit, across the thread hand-offs of the request (the
dependencies, the endpoint, the commit each run in the server's thread pool). Left to SQLite,
the requests that wait for the lock wait *in* a pool thread (its busy handler sleeps and
retries): with more writers than threads, every thread can end up waiting for the lock while
the request holding it waits for a thread, until the busy timeout fails them all.

The gate moves that wait onto the event loop: a writing request takes the gate before its
first statement and gives it back after its commit, and while it waits it holds no thread and
no connection. Waiters are served in arrival order (SQLite's busy handler is not fair), and one
that waits longer than its budget gets :class:`GateTimeout` (a 503 with ``Retry-After``).

It is thread-safe and not tied to one event loop: an app may be driven from several loops
(a test client starts one per request), and the hand-over is ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque


class GateTimeout(Exception):
    """The gate was not free within the caller's budget."""


class WriteGate:
    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def acquire(self, timeout: float) -> None:
        """Take the gate, waiting at most ``timeout`` seconds (then :class:`GateTimeout`)."""
        with self._mutex:
            if not self._held and not self._waiters:
                self._held = True
                return
            loop = asyncio.get_running_loop()
            entry = (loop, loop.create_future())
            self._waiters.append(entry)
        try:
            await asyncio.wait_for(entry[1], timeout)
        except BaseException as exc:
            with self._mutex:
                still_waiting = entry in self._waiters
                if still_waiting:
                    self._waiters.remove(entry)
            if still_waiting:  # never handed the gate: nothing to give back
                if isinstance(exc, TimeoutError):
                    raise GateTimeout(f"the database was busy for {timeout:g} s") from None
                raise
            # Handed the gate just as the wait ended: a timeout keeps it (the caller goes on);
            # a cancelled caller passes it on.
            if not isinstance(exc, TimeoutError):
                self.release()
                raise

    def release(self) -> None:
        """Give the gate to the longest waiter, or free it."""
        with self._mutex:
            while self._waiters:
                loop, future = self._waiters.popleft()
                try:
                    loop.call_soon_threadsafe(_wake, future)
                    return  # still held: now by that waiter
                except RuntimeError:  # its event loop is gone, and the waiter with it
                    continue
            self._held = False


def _wake(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)
