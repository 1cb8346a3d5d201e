"""SMS through a real HTTP provider (a small server the test starts) with signed delivery receipts,
and through the file provider for development."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from onethread.access.rules import SYSTEM
from onethread.config import Settings
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.jobs.runner import run_once
from onethread.outreach import sms
from tests.tmf_schema import assert_tmf_error

TMF = "/tmf-api/communicationManagement/v4/communicationMessage"
SECRET = "receipts-secret"


class Provider(BaseHTTPRequestHandler):
    received: list[dict] = []
    answer = 200

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.headers.get("Authorization") != "Bearer provider-token":
            self.send_response(401)
            self.end_headers()
            return
        type(self).received.append(body)
        self.send_response(type(self).answer)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"id": f"prov-{len(type(self).received)}"}).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def provider():
    Provider.received, Provider.answer = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(database_url, provider, tmp_path) -> Settings:
    return Settings(database_url=database_url, env="test", sms_provider="http",
                    sms_url=f"http://127.0.0.1:{provider.server_address[1]}/send", sms_token="provider-token",
                    sms_webhook_secret=SECRET, sms_sender="Operator")


@pytest.fixture
def customer_id(uow, clock) -> str:
    with uow() as s:
        party = customers.create_individual(s, clock, SYSTEM, given_name="Daniel", family_name="Okafor")
        cust = customers.create_customer(s, clock, SYSTEM, party_id=party.id)
        identifier_service.assign(s, clock, SYSTEM, customer_id=cust.id, kind="msisdn", value="07700 900101",
                                  valid_from=clock.now() - timedelta(days=100), region="GB")
        return cust.id


def sms_to(customer_id: str, text: str) -> dict:
    return {"messageType": "SMS", "content": text, "sender": {"name": "Store"},
            "receiver": [{"party": {"id": customer_id, "@referredType": "Customer"}}]}


def signed(body: dict, secret: str = SECRET) -> tuple[bytes, dict]:
    raw = json.dumps(body).encode()
    return raw, {"X-Onethread-Signature": sms.signature(secret, raw), "Content-Type": "application/json"}


def test_an_sms_goes_through_the_http_provider_and_its_signed_receipt_marks_it_delivered(
        client, admin, container, customer_id):
    queued = client.post(TMF, headers=admin, json=sms_to(customer_id, "Your replacement arrives tomorrow.")).json()
    assert queued["status"] == "queued" and Provider.received == []
    report = run_once(container)
    assert "1 sent" in report.outreach, report.summary()
    assert Provider.received == [{"reference": queued["id"], "to": "+447700900101", "from": "Operator",
                                  "text": "Your replacement arrives tomorrow."}]
    sent = client.get(f"{TMF}/{queued['id']}", headers=admin).json()
    assert sent["status"] == "sent"

    raw, headers = signed({"id": "prov-1", "status": "delivered", "at": "2026-03-02T09:05:00+00:00"})
    assert_tmf_error(client.post("/api/v1/channels/sms/receipts", content=raw,
                                 headers={**headers, "X-Onethread-Signature": "sha256=forged"}), 401)
    answer = client.post("/api/v1/channels/sms/receipts", content=raw, headers=headers)
    assert answer.status_code == 200, answer.text
    assert client.post("/api/v1/channels/sms/receipts", content=raw, headers=headers).status_code == 200  # a repeat
    done = client.get(f"{TMF}/{queued['id']}", headers=admin).json()
    assert done["status"] == "delivered" and done["sendTimeComplete"] == "2026-03-02T09:05:00+00:00"
    assert done["reasons"][-1]["code"] == "RECEIPT_DELIVERED"
    raw, headers = signed({"id": "prov-404", "status": "delivered"})
    assert_tmf_error(client.post("/api/v1/channels/sms/receipts", content=raw, headers=headers), 404)
    board = {c["kind"]: c for c in client.get("/api/v1/channels/health", headers=admin).json()}
    assert board["sms"]["state"] == "green"


def test_a_provider_that_refuses_fails_the_message_and_turns_the_channel_red(client, admin, container, customer_id):
    Provider.answer = 422
    queued = client.post(TMF, headers=admin, json=sms_to(customer_id, "x")).json()
    run_once(container)
    failed = client.get(f"{TMF}/{queued['id']}", headers=admin).json()
    assert failed["status"] == "failed" and "answered 422" in failed["lastError"]
    board = {c["kind"]: c for c in client.get("/api/v1/channels/health", headers=admin).json()}
    assert board["sms"]["state"] == "red"


def test_the_file_provider_writes_each_sms_once(tmp_path):
    provider = sms.FileProvider(str(tmp_path / "sms"), "Operator")
    first = provider.send("01ABC", "+447700900101", "hello")
    again = provider.send("01ABC", "+447700900101", "hello")
    assert first.kind == again.kind == "sent" and first.provider_ref == "file:01ABC"
    [written] = list((tmp_path / "sms").iterdir())
    assert json.loads(written.read_text())["to"] == "+447700900101"
