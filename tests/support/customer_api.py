"""Customers created through the TMF customer API."""

from __future__ import annotations

BASE = "/tmf-api/customer/v5/customer"


def make_individual(client, headers, given="Jane", family="Doe"):
    r = client.post("/tmf-api/party/v5/individual", json={"@type": "Individual", "givenName": given,
                                                          "familyName": family}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def make_customer(client, headers, **kw):
    party = make_individual(client, headers, **kw)
    r = client.post(BASE, json={"@type": "Customer", "engagedParty": {"@type": "PartyRef", "id": party["id"]},
                                "validFor": {"startDateTime": "2015-06-01T00:00:00Z"}}, headers=headers)
    assert r.status_code == 201, r.text
    return r
