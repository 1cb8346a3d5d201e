"""S3 "Whose number is it?": a recycled number resolves to whoever held it at that moment.

Tom held the number from 2012 until seven years ago; then it was recycled to Priya, who has
held it since. Registering her new phone must never find Tom, and nobody may quietly give the
number back to him: the evidence view shows who held it when.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.tmf_schema import assert_tmf_error

V1 = "/api/v1"
NUMBER = "07700 900301"
E164 = "+447700900301"


def _customer(client, headers, given, family, since: date) -> str:
    party = client.post("/tmf-api/party/v5/individual", json={"givenName": given, "familyName": family},
                        headers=headers).json()
    r = client.post("/tmf-api/customer/v5/customer",
                    json={"engagedParty": {"id": party["id"]},
                          "validFor": {"startDateTime": f"{since.isoformat()}T00:00:00Z"}}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def _holder(client, headers, when: datetime | None = None) -> str | None:
    params = {"kind": "msisdn", "value": NUMBER, **({"at": _iso(when)} if when else {})}
    r = client.get(f"{V1}/identifiers/resolve", params=params, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] in ("found", "none"), body  # never ambiguous: one holder at a time
    return body["customerId"]


def test_s3_a_recycled_number_resolves_to_its_holder_at_each_moment(client, token_for, clock):
    agent = token_for("agent")
    today = clock.now()
    first_day = datetime(2012, 3, 1, tzinfo=UTC)
    recycled = datetime(today.year - 7, 9, 1, tzinfo=UTC)  # seven years ago (and a bit)
    tom = _customer(client, agent, "Tom", "Bennett", first_day.date())
    priya = _customer(client, agent, "Priya", "Shah", recycled.date())

    assert client.post(f"{V1}/customers/{tom}/identifiers",
                       json={"kind": "msisdn", "value": NUMBER, "validFrom": _iso(first_day)},
                       headers=agent).status_code == 201
    moved = client.post(f"{V1}/identifiers/move", json={"kind": "msisdn", "value": NUMBER, "toCustomerId": priya,
                                                        "at": _iso(recycled), "reason": "number recycled"},
                        headers=agent)
    assert moved.status_code == 201, moved.text
    assert moved.json()["ended"]["customerId"] == tom

    # Today it is Priya's; in the old period it was Tom's; before 2012 nobody's.
    assert _holder(client, agent) == priya
    assert _holder(client, agent, datetime(2015, 6, 1, tzinfo=UTC)) == tom
    assert _holder(client, agent, first_day - timedelta(seconds=1)) is None
    assert _holder(client, agent, recycled) == priya
    assert _holder(client, agent, recycled - timedelta(seconds=1)) == tom

    # Month by month from 2011 to today: exactly the holder of that moment, never a former one.
    month = datetime(2011, 1, 1, tzinfo=UTC)
    while month <= today:
        expected = None if month < first_day else tom if month < recycled else priya
        assert _holder(client, agent, month) == expected, month
        month = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)

    # She registers her new phone: the number cannot be put back in Tom's name...
    wrong = client.post(f"{V1}/customers/{tom}/identifiers", json={"kind": "msisdn", "value": "+44 7700 900301"},
                        headers=agent)
    body = assert_tmf_error(wrong, 409)
    assert "Priya Shah" in body["message"] and recycled.date().isoformat() in body["message"]
    # ... and her new handset is hers from today.
    phone = client.post(f"{V1}/customers/{priya}/identifiers", json={"kind": "imei", "value": "353879234252633"},
                        headers=agent)
    assert phone.status_code == 201, phone.text

    # The evidence view: every holder, oldest first, with the period.
    history = client.get(f"{V1}/identifiers/history", params={"kind": "msisdn", "value": NUMBER},
                         headers=agent).json()
    assert history["value"] == E164
    assert [(h["customerName"], h["validFrom"], h["validTo"]) for h in history["holdings"]] == [
        ("Tom Bennett", _iso(first_day), _iso(recycled)), ("Priya Shah", _iso(recycled), None)]
    profile = client.get(f"{V1}/customers/{priya}/profile", headers=agent).json()
    assert {(i["kind"], i["value"]) for i in profile["identifiers"]} == {("msisdn", E164),
                                                                        ("imei", "353879234252633")}
    assert profile["tenure"]["years"] == 6  # since September seven years ago, on 2 March

    # Months pass: still Priya's, still never Tom's.
    for _ in range(18):
        clock.advance(timedelta(days=30))
        assert _holder(client, agent) == priya
    assert _holder(client, agent, datetime(2013, 1, 1, tzinfo=UTC)) == tom
    tom_now = client.get(f"{V1}/customers/{tom}/identifiers", headers=agent).json()
    assert tom_now == []
    tom_ever = client.get(f"{V1}/customers/{tom}/identifiers", params={"history": "true"}, headers=agent).json()
    assert [(h["value"], h["endReason"]) for h in tom_ever] == [(E164, "number recycled")]
