"""The vulnerable-customer world: Sofia owns the case of Edith, 89, with her son as representative
and two consented vulnerability records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.cases import service as cases
from onethread.customers import identifier_service
from onethread.customers import service as customers

PASSWORD = "correct horse battery"


MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # 10:00 in London, a working Monday


def world(uow, clock, *, needs_age=("assisted_channels", "proactive_contact", "priority"),
          needs_digital=("no_digital_only_contact", "letters")) -> dict:
    """Sofia (a specialist in a team led by Marta) owns Edith's case; Edith is 89, not at ease
    online, with her son as representative and two consented vulnerability records."""
    clock.set(MONDAY)
    with uow() as s:
        team = access.create_team(s, clock, name="Specialists")
        sofia = access.create_user(s, clock, username="sofia.l", display_name="Sofia Lind", role="specialist",
                                   password=PASSWORD, team_id=team.id)
        marta = access.create_user(s, clock, username="marta.lead", display_name="Marta Lopez", role="team_lead",
                                   password=None, team_id=team.id)
        access.set_team_lead(s, team.id, marta.id)
        _, secret = access.create_token(s, clock, name="sofia-desk", role="specialist", staff_user_id=sofia.id)
        edith_p = customers.create_individual(s, clock, SYSTEM, given_name="Edith", family_name="Clarke",
                                              birth_date=date(1937, 2, 11))
        edith = customers.create_customer(s, clock, SYSTEM, party_id=edith_p.id, customer_since=date(1998, 5, 1))
        identifier_service.assign(s, clock, SYSTEM, customer_id=edith.id, kind="email",
                                  value="robert.clarke@mail.example")
        robert = customers.create_individual(s, clock, SYSTEM, given_name="Robert", family_name="Clarke")
        customers.add_representative(s, clock, SYSTEM, customer_id=edith.id, party_id=robert.id, relationship="son",
                                     permissions=["view_cases", "receive_letters"],
                                     valid_from=MONDAY.date() - timedelta(days=30))
        review = MONDAY.date() + timedelta(days=180)
        customers.record_vulnerability(s, clock, SYSTEM, customer_id=edith.id, kind="age", consent_given=True,
                                       review_on=review, note="89 years old; lives alone", needs=list(needs_age))
        customers.record_vulnerability(s, clock, SYSTEM, customer_id=edith.id, kind="digital_exclusion",
                                       consent_given=True, review_on=review, needs=list(needs_digital),
                                       note="No e-mail or smartphone; by phone or letter, or via her son")
        case = cases.open_new(s, clock, SYSTEM, customer_id=edith.id, kind="damage_claim", owner_id=sofia.id,
                              title="Heating pipe drilled during the fibre installation", opened_via="phone")
        return {"edith": edith.id, "case": case.id, "sofia": sofia.id, "marta": marta.id,
                "as_sofia": {"Authorization": f"Bearer {secret}"}}
