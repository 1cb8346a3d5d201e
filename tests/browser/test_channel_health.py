"""The channel board in a real browser: a stopped mail server turns the SMTP channel red on the
supervisor view (with an alert naming it), and it turns green again by itself once the server is
back, each time after a worker pass. A reply by e-mail then shows on the case as sent."""

from __future__ import annotations

from datetime import timedelta

import pytest

from onethread.access import service as access
from onethread.access.rules import SYSTEM
from onethread.cases import service as cases
from onethread.config import Settings
from onethread.customers import identifier_service
from onethread.customers import service as customers
from onethread.jobs.runner import run_once
from tests.browser.steps import sign_in
from tests.support.mail import dovecot as dovecot
from tests.support.mail import postfix as postfix

PASSWORD = "correct horse battery"


@pytest.fixture
def settings(database_url, postfix) -> Settings:
    return Settings(database_url=database_url, env="test", smtp_host="127.0.0.1", smtp_port=postfix.port,
                    smtp_security="none", smtp_timeout_seconds=5)


def board_state(page) -> str:
    page.goto("/supervisor")
    return page.locator("#channel-board tr[data-channel='smtp'] .state").inner_text()


def test_a_stopped_mail_server_turns_red_on_the_supervisor_view_and_green_after_restart(
        page, uow, clock, container, postfix, shot):
    with uow() as s:
        team = access.create_team(s, clock, name="Contact centre")
        lead = access.create_user(s, clock, username="lee.lead", display_name="Lee Carter", role="team_lead",
                                  password=PASSWORD, team_id=team.id)
        party = customers.create_individual(s, clock, SYSTEM, given_name="Margaret", family_name="Hughes")
        cust = customers.create_customer(s, clock, SYSTEM, party_id=party.id)
        identifier_service.assign(s, clock, SYSTEM, customer_id=cust.id, kind="email",
                                  value="margaret.hughes@mail.example", valid_from=clock.now() - timedelta(days=30))
        case = cases.open_new(s, clock, access.staff_principal(lead), customer_id=cust.id, kind="complaint",
                              title="No incoming calls", opened_via="phone")
        case_id = case.id
    run_once(container)
    sign_in(page, "lee.lead", PASSWORD)
    assert board_state(page) == "green"

    postfix.stop()
    clock.advance(timedelta(minutes=2))  # an idle channel known to be green is probed once a minute
    try:
        run_once(container)
        assert board_state(page) == "red"
        alert = page.locator("#channels-alert")
        assert "1 channel failing: smtp://127.0.0.1" in alert.inner_text()
        assert "cannot use" in page.locator("#channel-board tr[data-channel='smtp']").inner_text()
        shot(page, "supervisor-channel-red")
        # A reply queued meanwhile waits; nothing is lost.
        page.goto(f"/cases/{case_id}")
        page.get_by_label("Your reply").fill("We are looking at your line today.")
        page.get_by_label("Send by").select_option("email")
        page.get_by_role("button", name="Send reply").click()
        run_once(container)
        page.goto(f"/cases/{case_id}")
        assert page.locator("#messages .status").first.inner_text() == "queued"
    finally:
        postfix.start()
    clock.advance(timedelta(minutes=2))  # the retry's backoff
    run_once(container)
    assert board_state(page) == "green"
    assert page.locator("#channels-alert").count() == 0
    shot(page, "supervisor-channel-green")
    page.goto(f"/cases/{case_id}")
    assert page.locator("#messages .status").first.inner_text() == "sent"
    shot(page, "case-messages")
