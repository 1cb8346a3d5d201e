"""``POST /api/v1/channels/social/{platform}``: signed deliveries become contacts, once; anything
unsigned, wrongly signed or stale is a 401 that writes nothing; a post from a customer who is on a
call right now joins that call (S3.5)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from onethread.access.rules import SYSTEM
from onethread.app import create_app
from onethread.bootstrap import build
from onethread.config import Settings
from onethread.customers import identifier_service
from onethread.db.outbox import OutboxEvent
from onethread.models import Contact, MatchItem, TimelineEntry
from tests.support.sessions_api import make_customer, make_staff
from tests.tmf_schema import assert_tmf_error

SECRET = "whsec-test-3b1f0c"
URL = "/api/v1/channels/social"


@pytest.fixture
def settings(database_url) -> Settings:
    return Settings(database_url=database_url, env="test", max_body_bytes=64_000, social_webhook_secret=SECRET)


def payload(clock, post_id="1001", handle="@priyashah", text="On hold for 40 minutes", **extra) -> bytes:
    body = {"type": "post", "postId": post_id, "handle": handle, "text": text,
            "createdAt": clock.now().isoformat().replace("+00:00", "Z"), **extra}
    return json.dumps(body, separators=(",", ":")).encode()


def signed(clock, body: bytes, secret: str = SECRET, skew: int = 0, platform: str = "x") -> dict[str, str]:
    """What the platform sends: the timestamp, and the HMAC of "{timestamp}.{platform}.{body}"."""
    ts = str(int(clock.now().timestamp()) + skew)
    mac = hmac.new(secret.encode(), f"{ts}.{platform}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Onethread-Timestamp": ts, "X-Onethread-Signature": f"sha256={mac}",
            "Content-Type": "application/json"}


def deliver(client, clock, body: bytes, platform="x", **kw):
    return client.post(f"{URL}/{platform}", content=body, headers=signed(clock, body, platform=platform, **kw))


def counts(container) -> tuple[int, int, int, int]:
    with container.sessions() as s:
        return tuple(s.scalar(select(func.count()).select_from(t))
                     for t in (Contact, MatchItem, TimelineEntry, OutboxEvent))


def priya_with_handle(uow, clock) -> str:
    cid = make_customer(uow, clock, "Priya", "Shah")
    with uow() as s:
        identifier_service.assign(s, clock, SYSTEM, customer_id=cid, kind="social", value="x:@PriyaShah")
    return cid


def test_a_signed_post_is_recorded_for_the_handles_holder_and_a_redelivery_is_200(client, uow, clock, container):
    cid = priya_with_handle(uow, clock)
    body = payload(clock, url="https://x.example/priyashah/status/1001")
    r = deliver(client, clock, body)
    assert r.status_code == 201, r.text
    contact = r.json()
    assert contact["@type"] == "Contact" and contact["channel"] == "social" and contact["kind"] == "post"
    assert contact["customerId"] == cid and contact["matchStatus"] == "matched"
    assert contact["channelMessageId"] == "x:1001" and contact["created"] is True
    with container.sessions() as s:
        row = s.get(Contact, contact["id"])
        assert row.identifiers == {"social": "x:priyashah"} and row.direction == "inbound"
        assert row.extra == {"platform": "x", "postId": "1001", "handle": "priyashah",
                             "url": "https://x.example/priyashah/status/1001"}
        assert row.actor_name == "x webhook"
    before = counts(container)
    again = deliver(client, clock, body)
    assert again.status_code == 200 and again.json()["id"] == contact["id"] and again.json()["created"] is False
    # the platform's alias is the same platform: still a redelivery
    assert deliver(client, clock, body, platform="twitter").status_code == 200
    assert counts(container) == before
    timeline = client.get(f"/api/v1/customers/{cid}/timeline", params={"kind": "contact"},
                          headers=make_staff(uow, clock, "jo.agent", "Jo", "agent")[2]).json()["entries"]
    assert [e["detail"] for e in timeline] == ["On hold for 40 minutes"]


def test_an_unknown_handle_goes_to_the_match_queue(client, clock, container):
    r = deliver(client, clock, payload(clock, handle="nobody_we_know", post_id="77"))
    assert r.status_code == 201
    assert r.json()["customerId"] is None and r.json()["matchStatus"] == "queued" and r.json()["matchItemId"]


def test_a_direct_message_and_a_reply_join_the_thread(client, clock, container):
    first = deliver(client, clock, payload(clock, post_id="p1", text="help")).json()
    reply_body = json.dumps({"type": "direct_message", "postId": "p2", "handle": "priyashah", "text": "my number is",
                             "inReplyTo": "p1", "createdAt": clock.now().isoformat()}).encode()
    reply = deliver(client, clock, reply_body)
    assert reply.status_code == 201, reply.text
    assert reply.json()["kind"] == "direct_message" and reply.json()["threadId"] == first["threadId"] == first["id"]


@pytest.mark.parametrize("tamper", ["bad_signature", "other_secret", "no_signature", "no_timestamp", "stale",
                                    "future", "body_changed", "not_unix_seconds", "replayed_timestamp"])
def test_unauthentic_deliveries_are_401_and_write_nothing(client, clock, container, tamper):
    body = payload(clock)
    headers = signed(clock, body)
    if tamper == "bad_signature":
        headers["X-Onethread-Signature"] = "sha256=" + "0" * 64
    elif tamper == "other_secret":
        headers = signed(clock, body, secret="guessed")
    elif tamper == "no_signature":
        del headers["X-Onethread-Signature"]
    elif tamper == "no_timestamp":
        del headers["X-Onethread-Timestamp"]
    elif tamper == "stale":
        headers = signed(clock, body, skew=-301)
    elif tamper == "future":
        headers = signed(clock, body, skew=301)
    elif tamper == "body_changed":
        body = body.replace(b"40 minutes", b"4 minutes")
    elif tamper == "not_unix_seconds":
        headers["X-Onethread-Timestamp"] = clock.now().isoformat()
    elif tamper == "replayed_timestamp":  # an old signed delivery sent again with a fresh timestamp
        old = signed(clock, body, skew=-3600)
        headers["X-Onethread-Signature"] = old["X-Onethread-Signature"]
    r = client.post(f"{URL}/x", content=body, headers=headers)
    err = assert_tmf_error(r, 401)
    assert err["code"] == "NOT_AUTHENTICATED"
    assert counts(container) == (0, 0, 0, 0)


def test_a_delivery_signed_five_minutes_ago_is_still_accepted(client, clock):
    body = payload(clock)
    assert deliver(client, clock, body, skew=-300).status_code == 201


def test_with_no_secret_configured_every_delivery_is_refused(database_url, clock):
    container = build(Settings(database_url=database_url, env="test"), clock=clock)
    try:
        with TestClient(create_app(container=container)) as client:
            body = payload(clock)
            for headers in (signed(clock, body), signed(clock, body, secret=""), {}):
                body_ = assert_tmf_error(client.post(f"{URL}/x", content=body, headers=headers), 401)
                assert "not configured" in body_["message"]
        assert counts(container) == (0, 0, 0, 0)
    finally:
        container.dispose()


def test_signed_but_malformed_is_400_unknown_platform_404_and_nothing_written(client, clock, container):
    cases = [
        (b"{not json", "x", 400),
        (payload(clock, shoeSize=42), "x", 400),
        (payload(clock, handle="not a handle!"), "x", 400),
        (payload(clock, post_id=""), "x", 400),
        (json.dumps({"type": "story", "postId": "1", "handle": "a", "text": "t",
                     "createdAt": clock.now().isoformat()}).encode(), "x", 400),
        (json.dumps({"type": "post", "postId": "1", "handle": "a", "text": "t",
                     "createdAt": "2026-03-02T09:00:00"}).encode(), "x", 400),  # no zone: ambiguous
        (payload(clock), "myspace", 404),
    ]
    for body, platform, status in cases:
        assert_tmf_error(deliver(client, clock, body, platform=platform), status)
    assert counts(container) == (0, 0, 0, 0)


def test_s3_5_a_post_from_a_customer_on_a_call_joins_that_call(client, uow, clock, container):
    cid = priya_with_handle(uow, clock)
    _, _, agent = make_staff(uow, clock, "jo.agent", "Jo Reyes", "agent", "Contact centre")
    call = client.post("/api/v1/sessions", json={"channel": "phone", "externalId": "pbx-1", "customerId": cid},
                       headers=agent).json()
    clock.advance(timedelta(minutes=40))
    r = deliver(client, clock, payload(clock, text="On hold for 40 minutes to get MY OWN number in my name"))
    assert r.status_code == 201, r.text
    assert r.json()["sessionId"] == call["id"] and r.json()["customerId"] == cid
    view = client.get(f"/api/v1/sessions/{call['id']}", headers=agent).json()
    assert [(c["channel"], c["kind"]) for c in view["contacts"]] == [("social", "post")]

    # once the call has ended, a later post is its own contact
    client.post(f"/api/v1/sessions/{call['id']}/end", headers=agent)
    later = deliver(client, clock, payload(clock, post_id="1002", text="thanks, sorted"))
    assert later.status_code == 201 and later.json()["sessionId"] is None


def test_deliveries_keep_the_social_channel_green_and_silence_turns_it_red(client, uow, clock, container, token_for):
    from onethread.outreach import health

    lead = token_for("team_lead")
    board = {c["name"]: c for c in client.get("/api/v1/channels/health", headers=lead).json()}
    assert board["social"]["why"] == "configured, not used yet"
    assert deliver(client, clock, payload(clock)).status_code == 201
    board = {c["name"]: c for c in client.get("/api/v1/channels/health", headers=lead).json()}
    assert "social" not in board and board["social:x"]["state"] == "green"
    assert board["social:x"]["lastSuccessAt"] == clock.now().isoformat()
    with uow() as s:  # an operator who expects a delivery every 10 minutes
        health.heard_from(s, clock, name="social:x", kind="social", expected_every=600)
    clock.advance(timedelta(minutes=11))
    board = {c["name"]: c for c in client.get("/api/v1/channels/health", headers=lead).json()}
    assert board["social:x"]["state"] == "red"
    assert deliver(client, clock, payload(clock, post_id="1002")).status_code == 201
    board = {c["name"]: c for c in client.get("/api/v1/channels/health", headers=lead).json()}
    assert board["social:x"]["state"] == "green"


def test_the_telephony_platforms_calls_show_on_the_channel_board(client, clock, token_for):
    lead = token_for("team_lead")
    agent_call = client.post("/api/v1/sessions", headers=token_for("agent"),
                             json={"channel": "phone", "externalId": "call-typed-by-hand"})
    assert agent_call.status_code == 201
    board = {c["name"]: c for c in client.get("/api/v1/channels/health", headers=lead).json()}
    assert board["telephony"]["state"] == "off"  # an agent's own session is not the platform speaking
    call = client.post("/api/v1/sessions", headers=token_for("integration"),
                       json={"channel": "phone", "externalId": "call-7731"})
    assert call.status_code == 201
    board = {c["name"]: c for c in client.get("/api/v1/channels/health", headers=lead).json()}
    assert board["telephony"]["state"] == "green" and board["telephony"]["lastSuccessAt"] == clock.now().isoformat()


def test_a_delivery_signed_for_one_platform_is_refused_on_another(client, uow, clock, container):
    """The signature covers the platform: one signed delivery cannot become a contact per platform."""
    priya_with_handle(uow, clock)
    body = payload(clock, post_id="one-post")
    headers = signed(clock, body, platform="x")
    assert client.post(f"{URL}/x", content=body, headers=headers).status_code == 201
    before = counts(container)
    for other in ("instagram", "facebook", "tiktok"):
        r = client.post(f"{URL}/{other}", content=body, headers=headers)
        assert_tmf_error(r, 401)
        assert "does not match" in r.json()["message"]
    old_style = hmac.new(SECRET.encode(), headers["X-Onethread-Timestamp"].encode() + b"." + body,
                         hashlib.sha256).hexdigest()
    assert_tmf_error(client.post(f"{URL}/x", content=body, headers={**headers,
                                 "X-Onethread-Signature": f"sha256={old_style}"}), 401)
    assert counts(container) == before
