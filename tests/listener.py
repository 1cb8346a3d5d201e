"""A real HTTP listener for the hub and webhook tests: ``http.server`` in a thread on a free port.

It records every POST (path, headers, raw body), answers with the statuses it is told (one per
request, then the last one again), and can hold a request until released (to kill a worker while
it waits for the answer). ``verify`` checks a delivery's signature the way a receiver would.
"""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
import time
from dataclasses import dataclass


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> dict:
        return json.loads(self.raw)

    @property
    def event_id(self) -> str:
        return self.headers["x-onethread-event-id"]


class Listener:
    def __init__(self, statuses: tuple[int, ...] = (204,), hold_first: bool = False):
        self.statuses = list(statuses)
        self.received: list[Received] = []
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.hold_first = hold_first
        self._lock = threading.Lock()
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with listener._lock:
                    listener.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()},
                                                      raw))
                    n = len(listener.received)
                    status = listener.statuses[min(n, len(listener.statuses)) - 1]
                listener.arrived.set()
                if listener.hold_first and n == 1:
                    listener.release.wait(60)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:  # the sender is gone (killed while it waited)
                    pass

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> Listener:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 60) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} deliveries, got {len(self.received)}")


def verify(secret: str, received: Received, now: float | None = None, skew: int = 300) -> None:
    """What a receiver does: the signature is HMAC-SHA256 of "{timestamp}.{raw body}" with the secret,
    and the timestamp is fresh (``now``: the receiver's clock, the real one unless the test moves
    onethread's)."""
    stamp = received.headers["x-onethread-timestamp"]
    expected = "sha256=" + hmac.new(secret.encode(), stamp.encode() + b"." + received.raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, received.headers["x-onethread-signature"]), "bad signature"
    assert abs((now or time.time()) - int(stamp)) <= skew, "stale timestamp"
