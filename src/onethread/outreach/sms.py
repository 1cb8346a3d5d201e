"""SMS through a provider: one interface, a file provider for development and an HTTP provider.

The HTTP provider POSTs JSON ``{"reference", "to", "from", "text"}`` to ``ONETHREAD_SMS_URL`` with
``Authorization: Bearer ONETHREAD_SMS_TOKEN`` and expects 2xx with ``{"id": ...}``, the provider's
own id, which its delivery receipts name. Our ``reference`` (the message id) lets a provider
that deduplicates drop a repeat. Receipts come back to ``POST /api/v1/channels/sms/receipts``
signed with HMAC-SHA256 (``verify_signature``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Protocol

from onethread.config import Settings
from onethread.outreach.rules import Outcome


class Provider(Protocol):
    def send(self, reference: str, to: str, text: str) -> Outcome: ...


class FileProvider:
    """Development: each SMS is a JSON file named by its reference (a repeat overwrites, never doubles)."""

    def __init__(self, folder: str, sender: str):
        self.folder, self.sender = Path(folder), sender

    def send(self, reference: str, to: str, text: str) -> Outcome:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"{reference}.json"
            path.write_text(json.dumps({"reference": reference, "to": to, "from": self.sender, "text": text}),
                            encoding="utf-8")
        except OSError as exc:
            return Outcome("retry", f"cannot write the SMS file: {exc}")
        return Outcome("sent", f"written to {path}", provider_ref=f"file:{reference}")


class HttpProvider:
    def __init__(self, url: str, token: str | None, sender: str, timeout: float = 15.0):
        self.url, self.token, self.sender, self.timeout = url, token, sender, timeout

    def send(self, reference: str, to: str, text: str) -> Outcome:
        body = json.dumps({"reference": reference, "to": to, "from": self.sender, "text": text}).encode()
        request = urllib.request.Request(self.url, data=body, method="POST",
                                         headers={"Content-Type": "application/json",
                                                  **({"Authorization": f"Bearer {self.token}"} if self.token
                                                     else {})})
        sent = False
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                sent = True
                data = json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as exc:
            kind = "failed" if 400 <= exc.code < 500 and exc.code not in (408, 429) else "retry"
            return Outcome(kind, f"the SMS provider answered {exc.code}: {exc.read()[:300]!r}")
        except (urllib.error.URLError, OSError) as exc:
            return Outcome("retry", f"cannot reach the SMS provider: {exc}")
        except ValueError as exc:
            if sent:
                return Outcome("unknown", f"the SMS provider accepted it but its answer is unreadable: {exc}")
            raise
        ref = data.get("id") if isinstance(data, dict) else None
        if not isinstance(ref, str) or not ref:
            return Outcome("unknown", "the SMS provider accepted it without an id")
        return Outcome("sent", f"accepted by the SMS provider as {ref}", provider_ref=ref)


class NoProvider:
    def send(self, reference: str, to: str, text: str) -> Outcome:
        return Outcome("retry", "no SMS provider is configured (ONETHREAD_SMS_PROVIDER)")


def provider(settings: Settings) -> Provider:
    if settings.sms_provider == "file":
        return FileProvider(settings.sms_file_dir, settings.sms_sender)
    if settings.sms_provider == "http" and settings.sms_url:
        return HttpProvider(settings.sms_url, settings.sms_token, settings.sms_sender)
    return NoProvider()


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str | None, body: bytes, header: str | None) -> bool:
    if not secret or not header:
        return False
    return hmac.compare_digest(signature(secret, body), header.strip())
