"""The network side of deliveries: resolving a callback's host and POSTing to the address checked.

The connection goes to the very address that was checked against the allow-list (the host name
still names the server: ``Host`` header, TLS server name and certificate check), so a DNS answer
that changes between the check and the connection (DNS rebinding) cannot point a delivery at an
internal address. Redirects are not followed.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass

from onethread.integrations.rules import Callback

MAX_ERROR_TEXT = 300


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an IP literal resolves to itself); empty when none."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    seen: list[str] = []
    for info in infos:
        address = info[4][0].split("%", 1)[0]  # drop an IPv6 scope
        if address not in seen:
            seen.append(address)
    return seen


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no HTTP answer at all
    error: str | None  # None: 2xx


def post(callback: Callback, address: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST ``body`` to ``callback``, connecting to ``address``. Never raises for network trouble."""
    if callback.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            callback.host, callback.port, timeout=timeout, context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(callback.host, callback.port, timeout=timeout)

    def pinned(addr, timeout=None, source_address=None):  # the checked address, the callback's port
        return socket.create_connection((address, addr[1]), timeout, source_address)

    conn._create_connection = pinned  # http.client's hook for opening the socket
    try:
        conn.request("POST", callback.target, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read(MAX_ERROR_TEXT * 4).decode("utf-8", "replace")
        if 200 <= response.status < 300:
            return Answer(response.status, None)
        return Answer(response.status, f"HTTP {response.status}: {' '.join(text.split())[:MAX_ERROR_TEXT]}")
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        return Answer(None, f"{type(exc).__name__}: {exc}"[:MAX_ERROR_TEXT])
    finally:
        conn.close()
