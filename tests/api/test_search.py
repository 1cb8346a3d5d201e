"""Full-text search through the real app, on SQLite and PostgreSQL: a word of an e-mail finds the
contact, a word of a case's title finds the case, a customer is found by a reversed name, a typo,
a handle without its '@' and any identifier (never against a former holder of a number), filters
narrow, the best match comes first then the newest, snippets are escaped, only those who may read
customers may search (each result an audited read), and bad parameters are a 400."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.cases import service as cases
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.models import AuditEntry
from onethread.privacy import service as privacy
from tests.support.search import PASSWORD
from tests.support.search import world as world
from tests.tmf_schema import assert_tmf_error

URL = "/api/v1/search"


def ids(body: dict, kind: str) -> list[str]:
    return [h["id"] for h in body[kind]]


def test_a_word_of_an_email_finds_the_contact_and_a_title_word_finds_the_case(client, world, admin):
    r = client.get(URL, params={"q": "wifi"}, headers=admin)
    assert r.status_code == 200, r.text
    assert ids(r.json(), "contacts") == [world["wifi"]]
    hit = r.json()["contacts"][0]
    assert hit["customer"] == {"id": world["edith"], "name": "Edith Clarke"}
    assert "<mark>wifi</mark>" in hit["snippetHtml"].lower()
    assert ids(client.get(URL, params={"q": "thunderstorm"}, headers=admin).json(), "cases") == [world["case"]]
    assert ids(client.get(URL, params={"q": "router"}, headers=admin).json(), "contacts") == [world["wifi"]]


def test_a_reversed_name_a_typo_and_a_handle_without_its_at_find_the_customer(client, world, admin):
    for q in ("Clarke Edith", "Edith Clarkw", "Edtih Clarke", "edith_c", "@edith_c", "07700 900123"):
        body = client.get(URL, params={"q": q, "type": "customer"}, headers=admin).json()
        assert ids(body, "customers")[:1] == [world["edith"]], q
    both = client.get(URL, params={"q": "clarke", "type": "customer"}, headers=admin).json()
    assert set(ids(both, "customers")) == {world["edith"], world["tom"]}
    assert ids(client.get(URL, params={"q": "Zebedee Quux"}, headers=admin).json(), "customers") == []


def test_a_number_that_moved_on_is_never_found_against_its_former_holder(client, world, admin, uow, clock):
    with uow() as s:
        holding = identifier_service.holdings_of(s, world["edith"], at=clock.now())
        phone = next(h for h, ident in holding if ident.kind == "msisdn")
        identifier_service.end_holding(s, clock, SYSTEM, phone.id, at=clock.now() - timedelta(days=1))
    body = client.get(URL, params={"q": "07700 900123"}, headers=admin).json()
    assert body["customers"] == [] and body["contacts"] == [] and body["cases"] == []
    assert body["formerHolderOnly"] == ["Phone number +447700900123"]


def test_the_best_match_comes_first_then_the_newest(client, world, admin):
    body = client.get(URL, params={"q": "roaming charge", "type": "contact"}, headers=admin).json()
    found = ids(body, "contacts")
    # the subject weighs more than the text; equal texts: the newer first
    assert found[0] == world["titled"]
    assert found.index(world["new_bill"]) < found.index(world["old_bill"])
    assert set(found) == {world["titled"], world["new_bill"], world["old_bill"], world["called"]}
    ranks = [h["rank"] for h in body["contacts"]]
    assert ranks == sorted(ranks, reverse=True)


@pytest.mark.parametrize("window_days", [(30, 365), (0.5, 2)])
def test_search_with_more_matches_than_it_ranks_ranks_the_newest_and_says_so(client, world, admin, clock,
                                                                           monkeypatch, window_days):
    from onethread.search import rules

    everything = client.get(URL, params={"q": "roaming charge"}, headers=admin).json()
    assert everything["recentOnly"] == [] and len(everything["contacts"]) == 4
    monkeypatch.setattr(rules, "CANDIDATES", 2)
    monkeypatch.setattr(rules, "WINDOW_DAYS", window_days)
    body = client.get(URL, params={"q": "roaming charge"}, headers=admin).json()
    # four contacts match: the two newest (5 hours and a day ago) are ranked, the older ones are not
    assert set(ids(body, "contacts")) == {world["called"], world["new_bill"]}
    assert body["recentOnly"] == ["contact"]  # one case matches: all of it was ranked
    assert ids(body, "cases") == [world["other"]]
    older = client.get(URL, params={"q": "roaming charge", "to": (clock.now() - timedelta(days=10)).isoformat()},
                       headers=admin).json()  # a date range reaches the older ones
    assert set(ids(older, "contacts")) == {world["old_bill"], world["titled"]} and older["recentOnly"] == []
    assert client.post("/login", data={"username": "ann.agent", "password": PASSWORD},
                       follow_redirects=False).status_code == 303
    page = client.get("/search", params={"q": "roaming charge"}).text
    assert "More than 2 contacts match: showing the most recent matches" in page
    assert "More than 2 cases match" not in page


def test_filters_narrow_the_results(client, world, admin):
    def found(**params):
        return client.get(URL, params={"q": "roaming charge", **params}, headers=admin).json()

    assert ids(found(channel="phone"), "contacts") == [world["called"]]
    assert ids(found(channel="phone"), "cases") == [world["other"]]
    assert found(channel="phone")["customers"] == []  # a customer has no channel
    assert ids(found(owner=world["ann"]), "contacts") == [world["called"]]
    assert ids(found(team=world["front"]), "cases") == [world["other"]]
    assert ids(found(team=world["back"]), "cases") == []
    assert ids(found(status="open", type="case"), "cases") == [world["other"]]
    assert ids(found(status="closed", type="case"), "cases") == []
    since = found(**{"from": "2026-02-25T00:00:00Z", "type": "contact"})
    assert set(ids(since, "contacts")) == {world["new_bill"], world["called"]}
    assert set(ids(found(to="2026-02-25T00:00:00Z", type="contact"), "contacts")) == {world["old_bill"],
                                                                                       world["titled"]}
    assert ids(found(market="GB"), "cases") == [world["other"]]
    assert ids(found(market="FR"), "cases") == []


def test_search_words_are_the_web_search_syntax(client, world, admin):
    def found(q):
        return set(ids(client.get(URL, params={"q": q, "type": "contact"}, headers=admin).json(), "contacts"))

    assert found('"roaming charge" -invoice') == {world["titled"], world["called"]}
    assert found("wifi or modem") == {world["wifi"], world["evil"]}
    assert found('"charge roaming"') == set()


def test_snippets_are_escaped(client, world, admin):
    hit = client.get(URL, params={"q": "modem"}, headers=admin).json()["contacts"][0]
    assert "<script>" not in hit["snippetHtml"]
    assert "&amp; Jerry" in hit["snippetHtml"] and "5 &lt; 6" in hit["snippetHtml"]
    assert "<mark>modem</mark>" in hit["snippetHtml"]
    assert "5 < 6" in hit["snippet"]  # the plain text, for a client that escapes it itself


def test_a_change_is_searchable_in_its_own_transaction(client, world, admin, uow, clock):
    with uow() as s:
        sam = access.staff_principal(access.get_user(s, world["sam"]))
        cases.reply(s, clock, sam, world["case"], text="Engineer booked to replace the splitter.", channel="email")
        customers.update_customer(s, clock, SYSTEM, customers.get_customer(s, world["tom"]),
                                  {"name": "Thomas Clarke-Hughes"})
    assert ids(client.get(URL, params={"q": "Hughes Thomas", "type": "customer"}, headers=admin).json(),
               "customers") == [world["tom"]]
    assert ids(client.get(URL, params={"q": "splitter", "type": "case"}, headers=admin).json(),
               "cases") == [world["case"]]


def test_each_step_of_a_case_log_is_searchable_and_a_renamed_or_closed_case_is_found_as_it_is_now(
        client, world, admin, uow, clock):
    def cases_for(q, **params):
        return ids(client.get(URL, params={"q": q, "type": "case", **params}, headers=admin).json(), "cases")

    with uow() as s:
        sam = access.staff_principal(access.get_user(s, world["sam"]))
        for word in ("kangaroo", "platypus", "echidna"):
            cases.reply(s, clock, sam, world["case"], text=f"Checked the {word} line again.", channel="email")
    for word in ("kangaroo", "platypus", "echidna", "thunderstorm"):
        assert cases_for(word) == [world["case"]], word
    with uow() as s:
        sam = access.staff_principal(access.get_user(s, world["sam"]))
        cases.update_details(s, clock, sam, world["case"], title="Broadband down after lightning")
        cases.reply(s, clock, sam, world["case"], text="The wallaby cable is fixed.", channel="email")
    assert cases_for("thunderstorm") == [] and cases_for("lightning") == [world["case"]]
    assert cases_for("wallaby") == [world["case"]] and cases_for("kangaroo") == [world["case"]]
    with uow() as s:
        sam = access.staff_principal(access.get_user(s, world["sam"]))
        cases.close(s, clock, sam, world["case"], outcome="Replaced the wombat filter", customer_confirmed=True)
    for word in ("wombat", "wallaby", "platypus", "lightning"):
        assert cases_for(word, status="closed") == [world["case"]], word
    assert cases_for("wombat", status="open") == []


def test_an_erased_customer_is_no_longer_found_by_name_or_words(client, world, admin, uow, clock):
    with uow() as s:
        boss = access.create_user(s, clock, username="ada.admin", display_name="Ada Admin", role="admin",
                                  password=None)
        sam = access.staff_principal(access.get_user(s, world["sam"]))
        cases.close(s, clock, sam, world["case"], outcome="Splitter replaced; line stable.",
                    customer_confirmed=True)
        privacy.erase(s, clock, access.staff_principal(boss), world["edith"], reason="customer asked (ticket 77)")
    assert ids(client.get(URL, params={"q": "Edith", "type": "customer"}, headers=admin).json(), "customers") == []
    assert client.get(URL, params={"q": "wifi"}, headers=admin).json()["contacts"] == []


def test_only_those_who_read_customers_may_search_and_each_result_is_audited(client, world, admin, token_for, uow):
    r = client.get(URL, params={"q": "wifi"}, headers=token_for("field_subcontractor"))
    assert r.status_code == 403
    assert_tmf_error(r, 403)
    assert client.get(URL, params={"q": "wifi"}).status_code == 401
    before = count_audit(uow, "search")
    body = client.get(URL, params={"q": "roaming charge"}, headers=token_for("agent")).json()
    shown = len(body["customers"]) + len(body["cases"]) + len(body["contacts"])
    assert shown > 0 and count_audit(uow, "search") - before == shown


def count_audit(uow, purpose: str) -> int:
    with uow() as s:
        return s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.purpose == purpose))


@pytest.mark.parametrize("params,field", [
    ({}, "q"), ({"q": "  "}, "q"), ({"q": "x" * 201}, "q"), ({"q": "wifi", "type": "bill"}, "type"),
    ({"q": "wifi", "limit": "0"}, "limit"), ({"q": "wifi", "from": "yesterday"}, "from"),
    ({"q": "wifi", "colour": "red"}, "colour"),
    ({"q": "wifi", "from": "2026-03-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}, "from"),
])
def test_bad_parameters_are_a_400_naming_them(client, world, admin, params, field):
    r = client.get(URL, params=params, headers=admin)
    assert r.status_code == 400, r.text
    assert_tmf_error(r, 400)


def test_the_desktop_search_box_shows_customers_cases_and_contacts(client, world):
    assert client.post("/login", data={"username": "ann.agent", "password": PASSWORD},
                       follow_redirects=False).status_code == 303
    page = client.get("/search", params={"q": "roaming charge"})
    assert page.status_code == 200
    assert f'href="/cases/{world["other"]}" class="hit">Roaming charge disputed</a>' in page.text
    assert "4 contacts" in page.text and "<mark>" in page.text
    evil = client.get("/search", params={"q": "modem", "type": "contact"}).text
    assert "<script>alert" not in evil and "Tom &amp; Jerry" in evil
    narrowed = client.get("/search", params={"q": "roaming charge", "channel": "phone"}).text
    assert "1 contact<" in narrowed and "customers for" not in narrowed
    bad = client.get("/search", params={"q": "roaming", "from": "someday"})
    assert bad.status_code == 400 and 'id="from-error"' in bad.text


def test_the_migration_indexes_the_rows_that_were_there_before_it(client, world, admin, container):
    from alembic.script import ScriptDirectory

    from onethread.db import migrate

    engine = container.engine
    below = ScriptDirectory.from_config(migrate.alembic_config(engine)).get_revision("0025").down_revision
    migrate.downgrade(engine, below)  # the index is gone; the contacts, cases and customers stay
    migrate.upgrade(engine)
    body = client.get(URL, params={"q": "wifi"}, headers=admin).json()
    assert ids(body, "contacts") == [world["wifi"]]
    assert ids(client.get(URL, params={"q": "thunderstorm"}, headers=admin).json(), "cases") == [world["case"]]
    assert ids(client.get(URL, params={"q": "Clarke Edith"}, headers=admin).json(), "customers")[:1] == [
        world["edith"]]
