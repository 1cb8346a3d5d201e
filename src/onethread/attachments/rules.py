"""Pure rules for attachments: what a file's bytes say it is, whether it may be kept, its name."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# What the bytes begin with, per type we keep. A file whose declared type disagrees with its bytes
# is refused: a ".pdf" that is a program is not kept because it says it is a PDF.
_SIGNATURES: tuple[tuple[str, tuple[bytes, ...]], ...] = (
    ("image/jpeg", (b"\xff\xd8\xff",)),
    ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ("image/gif", (b"GIF87a", b"GIF89a")),
    ("application/pdf", (b"%PDF-",)),
)
TEXT_TYPES = frozenset({"text/plain", "text/csv"})
DEFAULT_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "application/pdf",
                 "text/plain", "text/csv")
NAME_MAX = 255
GENERIC = frozenset({"", "application/octet-stream", "binary/octet-stream"})


class Refused(ValueError):
    """The file is not kept; the message says why, in words for the sender."""


def sniff(data: bytes) -> str | None:
    """The type the bytes show, or None when they show none we know."""
    for content_type, prefixes in _SIGNATURES:
        if any(data.startswith(p) for p in prefixes):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
        return "image/heic"
    if b"\x00" not in data[:8192]:
        try:
            data[:65536].decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < 65536 - 4:  # not a character cut in half at the end of the sample
                return None
        return "text/plain"
    return None


def safe_name(name: str | None, content_type: str) -> str:
    """A file name safe to store and to offer back: no folders, no control characters, not empty."""
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[\\/]", text)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip().lstrip(".")
    if not text:
        text = "attachment" + {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif",
                               "image/webp": ".webp", "image/heic": ".heic", "application/pdf": ".pdf",
                               "text/plain": ".txt", "text/csv": ".csv"}.get(content_type, "")
    if len(text) > NAME_MAX:
        stem, dot, ext = text.rpartition(".")
        text = (stem[:NAME_MAX - len(ext) - 1] + dot + ext) if dot and len(ext) < 16 else text[:NAME_MAX]
    return text


@dataclass(frozen=True)
class Checked:
    filename: str
    content_type: str
    size: int


def check(name: str | None, declared: str | None, data: bytes, *, max_bytes: int,
          allowed: tuple[str, ...] | frozenset[str]) -> Checked:
    """Whether a file may be kept: not empty, not larger than ``max_bytes``, of an allowed type, and
    its bytes of the type it declares (a declared ``application/octet-stream`` takes what the bytes
    show). Raises ``Refused`` saying why."""
    label = f"{name!r}" if name else "the file"
    if not data:
        raise Refused(f"{label} is empty")
    if len(data) > max_bytes:
        raise Refused(f"{label} is {len(data):,} bytes; files of at most {max_bytes:,} bytes are kept")
    shown = sniff(data)
    claimed = (declared or "").split(";")[0].strip().lower()
    if claimed in GENERIC:
        claimed = shown or ""
    if not claimed or claimed not in allowed:
        kinds = ", ".join(sorted(allowed))
        raise Refused(f"{label} is {claimed or 'of a type we cannot tell'}; onethread keeps {kinds}")
    if claimed in TEXT_TYPES:
        if shown != "text/plain":
            raise Refused(f"{label} says it is {claimed} but its content is not text")
    elif shown != claimed:
        raise Refused(f"{label} says it is {claimed} but its content is {shown or 'something else'}")
    return Checked(safe_name(name, claimed), claimed, len(data))
