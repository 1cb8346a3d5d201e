"""A hand-typed or mangled query parameter on a page gets a readable page, never the framework's
JSON 422: the supervisor's ``?page=``, the portal's ``?sent=``."""

from __future__ import annotations

import re

from tests.support.pages_store_supervisor import sign_in, world
from tests.support.portal_api import sign_in as portal_sign_in
from tests.support.portal_api import world as portal_world  # noqa: F401 (a fixture)

HTML = {"Accept": "text/html"}


def test_a_page_number_that_is_not_one_says_so_on_the_supervisor_page(client, uow, clock):
    world(uow, clock)
    sign_in(client, "lee.lead")
    for bad in ("0", "abc", "-1", "1.5", "99999999", "9" * 5000):
        r = client.get("/supervisor", params={"page": bad}, headers=HTML)
        assert r.status_code == 400, (bad, r.status_code)
        assert r.headers["content-type"].startswith("text/html")
        assert re.search(r'id="err-page" role="alert">There is no page .*pages are numbered 1 to 10000', r.text)
        assert "Past a clock:" in r.text  # the first page is shown under the message
    for fine in ("1", "2", " 3 ", ""):
        r = client.get("/supervisor", params={"page": fine}, headers=HTML)
        assert r.status_code == 200 and 'id="err-page"' not in r.text, fine


def test_the_portal_case_page_takes_any_sent_flag(client, portal_world, uow):  # noqa: F811
    page = f"/portal/cases/{portal_world['margaret_case']}"
    assert client.get(page, params={"sent": "abc"}, headers=HTML, follow_redirects=False).status_code == 303
    portal_sign_in(client, "margaret.hughes@mail.example")
    odd = client.get(page, params={"sent": "abc"}, headers=HTML)
    assert odd.status_code == 200 and "Your message was sent" not in odd.text
    sent = client.get(page, params={"sent": "1"}, headers=HTML)
    assert sent.status_code == 200 and "Your message was sent to Gertrude Blanc" in sent.text
