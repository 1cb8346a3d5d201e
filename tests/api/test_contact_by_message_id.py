"""A contact can be found by its channel's own message id (``externalIdentifier.id``)."""

from __future__ import annotations

from tests.support.party_interaction_api import BASE, body, make_customer
from tests.tmf_schema import assert_tmf_error


def test_a_contact_is_found_by_its_channel_message_id(client, admin, uow, clock):
    cid = make_customer(uow, clock)
    made = {}
    for message_id, channel in (("<a1@mail.example>", "email"), ("CALL-77", "phone"), ("CALL-78", "phone")):
        r = client.post(BASE, json=body(cid, message_id=message_id, channel=channel), headers=admin)
        assert r.status_code == 201, r.text
        made[message_id] = r.json()["id"]

    found = client.get(BASE, params={"externalIdentifier.id": "<a1@mail.example>"}, headers=admin)
    assert found.status_code == 200 and found.headers["X-Total-Count"] == "1"
    [contact] = found.json()
    assert contact["id"] == made["<a1@mail.example>"]
    assert {"id": "<a1@mail.example>", "externalIdentifierType": "messageId"}.items() <= \
        contact["externalIdentifier"][0].items()

    both = client.get(BASE, params={"externalIdentifier.id": "CALL-78", "channel": "phone"}, headers=admin)
    assert [c["id"] for c in both.json()] == [made["CALL-78"]]
    assert client.get(BASE, params={"externalIdentifier.id": "CALL-78", "channel": "email"},
                      headers=admin).json() == []
    assert client.get(BASE, params={"externalIdentifier.id": "nothing-like-it"}, headers=admin).json() == []


def test_an_overlong_message_id_filter_is_a_400(client, admin):
    r = client.get(BASE, params={"externalIdentifier.id": "x" * 301}, headers=admin)
    assert "externalIdentifier.id" in assert_tmf_error(r, 400)["message"]


def test_a_misnamed_message_id_filter_is_a_400_naming_it_not_the_whole_list(client, admin, uow, clock):
    cid = make_customer(uow, clock)
    assert client.post(BASE, json=body(cid, message_id="M-9"), headers=admin).status_code == 201
    r = client.get(BASE, params={"messageId": "M-9"}, headers=admin)
    message = assert_tmf_error(r, 400)["message"]
    assert "messageId" in message and "externalIdentifier.id" in message  # what it does take
