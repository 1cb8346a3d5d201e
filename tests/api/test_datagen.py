"""``onethread bench generate``: a small operator generated into real SQLite and PostgreSQL, then
checked the way the app and the benchmarks will use it (counts, determinism, the identifier
invariant, recycled numbers, the long tail, open cases with clocks, the 360 over HTTP)."""

from __future__ import annotations

import hashlib
import os
import signal
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from onethread.customers import queries
from onethread.customers import rules as customer_rules
from onethread.datagen import run as run_module
from onethread.datagen.run import generate
from onethread.datagen.shape import BATCH_TABLES, TABLES, Options
from onethread.datagen.ulid import time_of
from onethread.db import migrate
from onethread.db.base import Base
from onethread.db.engine import make_engine
from onethread.db.session import session_scope
from onethread.interactions import timeline
from onethread.models import Case, CaseClock, Contact, Customer, IdentifierHolding

N = 120


def options(clock, seed: int = 5, **extra) -> Options:
    # Customers 7 and 107 are the long tail here (every 100th from the 8th).
    return Options(customers=N, now=clock.now(), seed=seed, long_tail_every=100, long_tail_min=1000,
                   long_tail_max=1200, **extra)


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.scalar(select(func.count()).select_from(Base.metadata.tables[t])) for t in TABLES}


def digest(engine) -> str:
    """A fingerprint of every generated row, read back through the ORM's types."""
    h = hashlib.sha256()
    with engine.connect() as conn:
        for name in TABLES:
            table = Base.metadata.tables[name]
            columns = select(*(table.c[c] for c in TABLES[name]))
            for row in conn.execute(columns.order_by(*table.primary_key.columns)):
                h.update(repr(tuple(row)).encode())
    return h.hexdigest()


def empty(engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE team SET lead_id = NULL"))
        for name in reversed(TABLES):
            conn.execute(Base.metadata.tables[name].delete())


@pytest.fixture
def generated(database_url, container, clock):
    report = generate(database_url, options(clock), batch_size=40, workers=2, progress=None)
    return report


def test_every_row_the_report_counts_is_in_the_database(generated, container):
    assert generated.rows == counts(container.engine)
    rows = generated.rows
    assert rows["customer"] == rows["party"] == N
    assert rows["contact"] >= 2000  # the long tail alone has thousands
    assert rows["case_file"] > N // 2 and rows["charge"] > 5 * N and rows["bill"] > N
    assert all(rows[t] > 0 for t in BATCH_TABLES), {t: n for t, n in rows.items() if not n}
    with container.engine.connect() as conn:
        # Every customer-owned row names its customer, and the same customer as its case.
        for name, columns in TABLES.items():
            if "customer_id" in columns:
                nulls = conn.scalar(text(f'SELECT count(*) FROM "{name}" WHERE customer_id IS NULL'))
                assert nulls == 0, name
        for name in ("case_event", "commitment", "harm", "case_task", "case_clock", "escalation"):
            wrong = conn.scalar(text(f'SELECT count(*) FROM "{name}" x JOIN case_file c ON c.id = x.case_id '
                                     "WHERE x.customer_id <> c.customer_id"))
            assert wrong == 0, name
        wrong = conn.scalar(text("SELECT count(*) FROM charge x JOIN bill b ON b.id = x.bill_id "
                                 "WHERE x.customer_id <> b.customer_id"))
        assert wrong == 0
        # Each contact has its timeline entry.
        assert conn.scalar(text("SELECT count(*) FROM contact c LEFT JOIN timeline_entry t ON t.ref_id = c.id "
                                "AND t.kind = 'contact' WHERE t.id IS NULL")) == 0


def test_the_same_seed_gives_the_same_rows_and_another_seed_does_not(generated, database_url, container, clock):
    first = digest(container.engine)
    empty(container.engine)
    # Other batch size and worker count: the rows depend on the seed and options only.
    generate(database_url, options(clock), batch_size=7, workers=1, progress=None)
    assert digest(container.engine) == first
    empty(container.engine)
    generate(database_url, options(clock, seed=6), batch_size=40, workers=2, progress=None)
    assert digest(container.engine) != first


def test_a_database_with_customers_is_refused(generated, database_url, container, clock):
    from onethread.errors import Conflict

    with pytest.raises(Conflict):
        generate(database_url, options(clock), progress=None)
    assert counts(container.engine)["customer"] == N


def test_identifiers_never_have_two_holders_at_once_and_numbers_are_recycled(generated, session):
    holdings = defaultdict(list)
    for h in session.scalars(select(IdentifierHolding)):
        holdings[h.identifier_id].append(h)
    for spans in holdings.values():
        spans.sort(key=lambda h: h.valid_from)
        for a, b in pairwise(spans):
            assert not customer_rules.overlaps(a.valid_from, a.valid_to, b.valid_from, b.valid_to), (a.id, b.id)
    recycled = [spans for spans in holdings.values() if len({h.customer_id for h in spans}) > 1]
    assert recycled, "no number was held by one customer, then another"
    for spans in recycled:
        assert spans[0].valid_to is not None and spans[0].valid_to + timedelta(days=90) <= spans[-1].valid_from


def test_a_long_tail_customer_has_thousands_of_contacts(generated, session):
    per_customer = Counter(session.scalars(select(Contact.customer_id)))
    top = per_customer.most_common()
    assert top[0][1] >= 1000 and top[1][1] >= 1000
    ordinary = sorted(per_customer[c] for c in session.scalars(select(Customer.id)))[: N - 2]
    assert ordinary[len(ordinary) // 2] < 30  # the typical customer has a handful


def test_open_cases_have_running_clocks_and_a_sweep_at_now_finds_some_due(generated, session, clock):
    now = clock.now()
    open_ids = set(session.scalars(select(Case.id).where(Case.status != "closed")))
    assert open_ids
    running = session.scalars(select(CaseClock).where(CaseClock.fired_at.is_(None),
                                                      CaseClock.stopped_at.is_(None))).all()
    with_clocks = set(session.scalars(select(CaseClock.case_id).where(CaseClock.case_id.in_(open_ids))))
    assert with_clocks == open_ids  # every open case has its clocks
    ticking = {c.case_id for c in running}
    assert ticking <= open_ids and len(ticking) > len(open_ids) / 2  # closing a case stops its clocks
    due = [c for c in running if c.due_at <= now]
    assert 0 < len(due) < len(running)
    # Clocks due before the last sweep (a day ago) fired then, with an escalation.
    assert all(c.due_at > now - timedelta(hours=24) for c in due)
    fired = session.scalars(select(CaseClock).where(CaseClock.fired_at.is_not(None))).all()
    assert fired and all(c.fired_at >= c.due_at for c in fired)


def test_ids_sort_by_when_the_row_happened(generated, session, clock):
    for contact in session.scalars(select(Contact).limit(200)):
        assert abs(time_of(contact.id) - contact.occurred_at) < timedelta(milliseconds=1)
    assert all(c.occurred_at <= clock.now() for c in session.scalars(select(Contact).limit(500)))


def test_the_app_reads_a_generated_customers_360_and_whole_timeline(generated, container, client, token_for, clock):
    headers = token_for("agent")
    with session_scope(container.sessions) as s:
        tail = s.scalar(select(Contact.customer_id).group_by(Contact.customer_id)
                        .order_by(func.count().desc()).limit(1))
        recycled_holder = s.scalar(
            select(IdentifierHolding.customer_id).where(IdentifierHolding.identifier_id.in_(
                select(IdentifierHolding.identifier_id).group_by(IdentifierHolding.identifier_id)
                .having(func.count(IdentifierHolding.customer_id.distinct()) > 1)),
                IdentifierHolding.valid_to.is_(None))
            .order_by(IdentifierHolding.valid_from.desc()).limit(1))
        expected = s.scalar(select(func.count()).select_from(timeline.TimelineEntry)
                            .where(timeline.TimelineEntry.customer_id == tail))
        # The services themselves: the profile, then the timeline page by page to its end.
        profile = queries.customer_profile(s, s.get(Customer, tail), clock.now(), "GBP")
        assert profile.customer.id == tail and profile.accounts
        seen, cursor, last = 0, None, None
        while True:
            page = timeline.read(s, tail, limit=100, cursor=cursor)
            for e in page.entries:
                assert last is None or (e.occurred_at, e.id) < last
                last = (e.occurred_at, e.id)
            seen += len(page.entries)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == expected > 1000
    for customer_id in (tail, recycled_holder):
        r = client.get(f"/api/v1/customers/{customer_id}/360", headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["customerId"] == customer_id and body["products"]
        entries = body["timeline"]["entries"]
        if customer_id == tail:  # the newest page, and a cursor to the thousands behind it
            assert len(entries) == 20 and body["timeline"]["nextCursor"]
        assert entries
        if body["timeline"]["nextCursor"] is None:  # the whole story: it starts with becoming a customer
            assert entries[-1]["kind"] == "customer"
        if customer_id == recycled_holder:  # holds the recycled number now
            assert any(i["kind"] == "msisdn" for i in body["profile"]["identifiers"])
        r = client.get(f"/api/v1/customers/{customer_id}/timeline", params={"limit": 50}, headers=headers)
        assert r.status_code == 200, r.text


def test_now_is_the_end_of_the_data(database_url, container):
    now = datetime(2030, 6, 1, 12, tzinfo=UTC)
    generate(database_url, Options(customers=30, now=now, seed=2), progress=None)
    with session_scope(container.sessions) as s:
        latest = s.scalar(select(func.max(Contact.occurred_at)))
        earliest = s.scalar(select(func.min(Customer.created_at)))
    assert now - timedelta(days=30) < latest <= now
    assert earliest < now - timedelta(days=365)


def test_the_command_generates_reports_and_refuses_a_second_run(database_url, container):
    import os
    import subprocess
    import sys
    from pathlib import Path

    command = [str(Path(sys.executable).with_name("onethread")), "bench", "generate", "--customers", "25",
               "--seed", "3", "--now", "2026-03-02T09:00:00Z", "--database-url", database_url]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONETHREAD_")}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "[generate] 25/25 customers (100.0%)" in done.stderr  # progress, with rows/s and ETA
    line = next(x for x in done.stdout.splitlines() if x.startswith("customer "))
    assert line.split()[1] == "25"
    assert "peak RSS" in done.stdout
    assert counts(container.engine)["customer"] == 25
    again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 1
    assert "already has customers" in again.stderr
    bad = subprocess.run([*command[:-4], "--now", "yesterday", "--database-url", database_url], capture_output=True,
                         text=True, env=env, timeout=60)
    assert bad.returncode == 1 and "not an ISO-8601" in bad.stderr


# --- PostgreSQL: indexes and constraints dropped for the load, re-created after it -------------

SCHEMA_SQL = text(
    "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
    "UNION ALL SELECT t.relname, c.conname || ' ' || pg_get_constraintdef(c.oid) FROM pg_constraint c "
    "JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
    "WHERE n.nspname = current_schema()")


def schema(url: str) -> list[tuple[str, str]]:
    """Every index and constraint definition, by table (constraints by name and definition)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        found = sorted((table, definition) for table, definition in conn.execute(SCHEMA_SQL))
    engine.dispose()
    return found


def _admin(url: str, *statements: str) -> None:
    engine = create_engine(make_url(url).set(database="postgres").render_as_string(hide_password=False),
                           isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for sql in statements:
            conn.execute(text(sql))
    engine.dispose()


@contextmanager
def own_database(url: str, suffix: str) -> Iterator[str]:
    """A database of its own next to the test database, dropped at the end."""
    parsed = make_url(url)
    name = f"{parsed.database}_{suffix}"
    _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Indexes are dropped and re-created on PostgreSQL only: these tests run there alone (never as a
# skipped SQLite case: CI allows no skip).
pg_only = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


@pytest.fixture(scope="module")
def migrated_schema(pg_url) -> list[tuple[str, str]]:
    with own_database(pg_url, "fresh") as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        return schema(url)


@pg_only
def test_after_generating_the_indexes_and_constraints_are_exactly_the_migrated_ones(
        generated, database_url, migrated_schema):
    assert generated.deferred > 100
    assert set(generated.rebuild) == {"key", "index", "exclusion", "foreign key", "analyze"}
    found = schema(database_url)
    assert found == migrated_schema
    kinds = " ".join(d for _, d in found)
    assert "EXCLUDE USING gist" in kinds and "WHERE ((fired_at IS NULL)" in kinds and "FOREIGN KEY" in kinds
    with make_engine(database_url).connect() as conn:  # every foreign key checked, none left NOT VALID
        assert conn.scalar(text("SELECT count(*) FROM pg_constraint WHERE NOT convalidated")) == 0


@pg_only
def test_an_interrupted_load_still_puts_every_index_and_constraint_back(
        database_url, container, clock, migrated_schema, monkeypatch):
    batches = []

    class Interrupted(run_module.Generator):
        def batch(self, first, last):
            batches.append(first)
            if len(batches) == 3:
                os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C: KeyboardInterrupt in the main thread
                time.sleep(1)  # let it land before the rest of the batches
            return super().batch(first, last)

    monkeypatch.setattr(run_module, "Generator", Interrupted)
    # Python's own Ctrl-C handler, whatever an earlier test in this process installed (a server
    # started in-process replaces it with one that does not raise).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            generate(database_url, options(clock), batch_size=10, workers=2, progress=None)
    finally:
        signal.signal(signal.SIGINT, previous)
    written = counts(container.engine)["customer"]
    assert 0 < written < N and written % 10 == 0  # whole batches only
    assert schema(database_url) == migrated_schema


def test_a_constraint_the_rows_violate_is_named_and_the_command_fails(pg_url, migrated_schema,
                                                                      monkeypatch):
    from typer.testing import CliRunner

    from onethread.cli.main import app

    class Duplicating(run_module.Generator):
        def batch(self, first, last):
            rows = super().batch(first, last)
            if first == 0:
                rows["contact"].append(rows["contact"][0])  # the same id twice: a generator bug
            return rows

    monkeypatch.setattr(run_module, "Generator", Duplicating)
    with own_database(pg_url, "broken") as url:
        done = CliRunner().invoke(app, ["bench", "generate", "--customers", "20", "--now", "2026-03-02T09:00:00Z",
                                        "--database-url", url, "--quiet"])
        assert done.exit_code == 1
        assert "pk_contact on contact" in done.output and "NOT usable" in done.output
        assert "is duplicated" in done.output  # PostgreSQL's own reason, with the key
        # The rest was re-created: only the contact key and what depends on it are missing.
        missing = {d for _, d in migrated_schema} - {d for _, d in schema(url)}
        assert missing and all("contact" in d for d in missing), missing

