"""Where attachment bytes live. ``Store`` is what the service needs; ``FilesystemStore`` keeps them
in a directory (the default, ``ONETHREAD_ATTACHMENTS_DIR``). Keys are content addresses (the
SHA-256 of the bytes), so the same file is kept once and a key never names two contents.

A file is written before the transaction that records it commits; if that transaction rolls back
the file stays, unreferenced (it costs its bytes and nothing else, and the same file sent again
reuses it).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol


class Store(Protocol):
    def put(self, data: bytes) -> str:
        """Keep the bytes; returns their key."""

    def get(self, key: str) -> bytes:
        """The bytes kept under ``key`` (``FileNotFoundError`` when they are gone)."""

    def delete(self, key: str) -> None:
        """Forget the bytes kept under ``key`` (nothing happens when they are gone already)."""


def key_of(data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    return f"sha256/{digest[:2]}/{digest}"


class FilesystemStore:
    """Files under ``root``: ``sha256/ab/abcdef...``, written to a temporary file and renamed into
    place, so a reader never sees half a file."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if len(parts) != 3 or parts[0] != "sha256" or not all(p.isalnum() for p in parts[1:]):
            raise FileNotFoundError(key)
        return self.root.joinpath(*parts)

    def put(self, data: bytes) -> str:
        key = key_of(data)
        path = self._path(key)
        if path.exists():
            return key
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except FileNotFoundError:  # a key that names no file
            return
