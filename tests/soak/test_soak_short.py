"""The short soak (``make soak`` is the long one, docs/reliability.md): a real server and worker,
contacts arriving from client threads that retry anything not acknowledged, 3 SIGKILLs of the
server and 2 of the worker at random moments. Nothing acknowledged may be lost, nothing doubled,
every contact keeps exactly one outbox event, and no request may get a 5xx other than 503."""

from __future__ import annotations

from bench.soak import soak
from sqlalchemy.engine import make_url


def test_killing_the_server_and_the_worker_loses_and_doubles_nothing(backend, request, tmp_path):
    pg = None
    if backend == "postgresql":
        pg = make_url(request.getfixturevalue("pg_url")).set(drivername="postgresql").render_as_string(
            hide_password=False)
    figures = soak(backend, pg, server_kills=3, worker_kills=2, clients=3, seed=7, drain_seconds=10,
                   log_dir=tmp_path)
    assert figures.server_kills == 3 and figures.worker_kills == 2
    assert figures.contacts_sent > 10 and figures.connection_failures > 0, figures  # the kills were felt
    assert figures.contacts_lost == 0 and figures.contacts_duplicated == 0, figures
    assert figures.contacts_in_db == figures.contacts_sent, figures
    assert figures.events_lost == 0 and figures.events_duplicated == 0, figures
    assert figures.answers_other_5xx == 0 and figures.answers_4xx == 0, figures
