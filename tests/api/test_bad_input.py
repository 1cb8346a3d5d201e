"""Input no part of onethread can keep is a clear 400, never a 500, on both databases (issue 19):
a NUL character anywhere a person types text, paging beyond what a database integer holds, and a
streamed body over the limit (413, as documented)."""

from __future__ import annotations

from sqlalchemy import func, select

from onethread.models import Party
from tests.support.pages_login import make_user, sign_in
from tests.tmf_schema import assert_tmf_error

PARTY = "/tmf-api/party/v5"
CUSTOMERS = "/tmf-api/customer/v5/customer"


def parties(container) -> int:
    with container.sessions() as s:
        return s.scalar(select(func.count()).select_from(Party))


def test_a_nul_character_in_json_form_or_query_is_a_400_that_writes_nothing(client, admin, container):
    before = parties(container)
    for body in ({"givenName": "Ann\u0000", "familyName": "Hughes"},
                 {"givenName": "Ann", "familyName": "Hughes", "title": "Ms\u0000"},
                 {"givenName": "Ann", "familyName": "Hughes", "tmf\u0000": "x"}):
        r = client.post(f"{PARTY}/individual", json=body, headers=admin)
        assert_tmf_error(r, 400)
        assert "NUL" in r.json()["message"]
    raw = b'{"givenName": "Ann\\u0000", "familyName": "Hughes"}'
    assert_tmf_error(client.post(f"{PARTY}/individual", content=raw,
                                 headers={**admin, "Content-Type": "application/json"}), 400)
    assert parties(container) == before
    for url in (f"{PARTY}/individual?name=a%00b", f"{CUSTOMERS}?name=%00", f"{CUSTOMERS}/abc%00def",
                "/api/v1/staff?role=agent%00"):
        assert_tmf_error(client.get(url, headers=admin), 400)
    # a quoted backslash followed by "u0000" is ordinary text, not a NUL
    fine = client.post(f"{PARTY}/individual", content=b'{"givenName": "A\\\\u0000", "familyName": "B"}',
                       headers={**admin, "Content-Type": "application/json"})
    assert fine.status_code == 201 and fine.json()["givenName"] == "A\\u0000"


def test_a_nul_character_in_the_sign_in_forms_is_a_readable_400_page(client, uow, clock):
    make_user(uow, clock)
    for url, data in (("/login", {"username": "ann\x00agent", "password": "x"}),
                      ("/login", {"username": "ann.agent", "password": "pass\x00word"}),
                      ("/portal/login", {"login": "a\x00@example.com", "password": "whatever1234"})):
        r = client.post(url, data=data, follow_redirects=False)
        assert r.status_code == 400 and r.headers["content-type"].startswith("text/html"), url
        assert "NUL" in r.text and "set-cookie" not in r.headers
    r = client.post("/login", files={"username": (None, "ann\x00"), "password": (None, "x")},
                    follow_redirects=False)
    assert r.status_code == 400  # a multipart field too
    assert sign_in(client).status_code == 303  # the ordinary form still works


def test_a_nul_byte_inside_an_uploaded_file_is_not_refused(client, uow, clock):
    make_user(uow, clock)
    r = client.post("/login", files={"username": (None, "ann.agent"), "password": (None, "nope nope"),
                                     "extra": ("blob.bin", b"\x00\x01\x00", "application/octet-stream")},
                    follow_redirects=False)
    assert r.status_code == 401  # reached the sign-in (wrong password), not refused by the guard


def test_paging_beyond_a_database_integer_is_a_400(client, admin):
    for url in (f"{CUSTOMERS}?offset=9223372036854775808", f"{CUSTOMERS}?limit=99999999999999999999",
                f"{PARTY}/individual?offset=18446744073709551616", "/api/v1/staff?offset=9223372036854775808"):
        r = client.get(url, headers=admin)
        assert_tmf_error(r, 400)
        assert "at most 9223372036854775807" in r.json()["message"]
    edge = client.get(f"{CUSTOMERS}?offset=9223372036854775807", headers=admin)
    assert edge.status_code == 200 and edge.json() == []  # the largest offset is a page past the end


def test_an_oversized_streamed_body_gets_413_as_documented(client, admin):
    def chunks():
        for _ in range(20):
            yield b'{"givenName": "' + b"x" * 4000
        yield b'", "familyName": "y"}'

    r = client.post(f"{PARTY}/individual", content=chunks(), headers={**admin, "Content-Type": "application/json"})
    assert "content-length" not in {k.lower() for k in r.request.headers}
    assert_tmf_error(r, 413)


def test_percent_and_underscore_in_name_filters_match_themselves(client, admin, uow, clock):
    from onethread.access.rules import SYSTEM
    from onethread.customers import service as customers

    with uow() as s:
        for given, family in (("Ann", "Hughes"), ("Bo_b", "Price"), ("Cara", "100% Fibre")):
            party = customers.create_individual(s, clock, SYSTEM, given_name=given, family_name=family)
            customers.create_customer(s, clock, SYSTEM, party_id=party.id, name=f"{given} {family}")
        customers.create_organization(s, clock, SYSTEM, name="Acme_Ltd")
        customers.create_organization(s, clock, SYSTEM, name="Acme Holdings")

    def names(url, key):
        r = client.get(url, headers=admin)
        assert r.status_code == 200, r.text
        return sorted(item[key] for item in r.json())

    assert names(f"{CUSTOMERS}?name=%25", "name") == ["Cara 100% Fibre"]
    assert names(f"{CUSTOMERS}?name=_", "name") == ["Bo_b Price"]
    assert names(f"{PARTY}/individual?name=_", "givenName") == ["Bo_b"]
    assert names(f"{PARTY}/individual?name=%25", "givenName") == ["Cara"]
    assert names(f"{PARTY}/organization?name=e_l", "name") == ["Acme_Ltd"]
    assert names(f"{CUSTOMERS}?name=hug", "name") == ["Ann Hughes"]  # ordinary matching unchanged


def test_a_staff_member_without_a_team_does_not_break_the_store_customer_page(client, admin, uow, clock):
    from tests.support.pages_store_supervisor import sign_in as store_sign_in
    from tests.support.pages_store_supervisor import world

    w = world(uow, clock)
    r = client.post("/api/v1/staff", json={"username": "nat.noteam", "displayName": "Nat Noteam", "role": "agent",
                                           "password": "a long enough password"}, headers=admin)
    assert r.status_code == 201, r.text
    store_sign_in(client, "sol.store")
    page = client.get(f"/store/customers/{w.customer}")
    assert page.status_code == 200
    assert 'optgroup label="No team"' in page.text and "Nat Noteam" in page.text
    assert page.text.index("Contact centre") < page.text.index("No team")  # people without a team come last
