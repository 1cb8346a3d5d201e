"""Keeping the search index in step: every contact, case and customer has one ``search_doc``
row, rewritten in the transaction that changed it.

The rows are written from the source tables by ``INSERT ... SELECT`` (the same statements fill
the index for rows that existed before it, in the migration, and rebuild it after a bulk load), so
what is indexed is what is stored. An in-process event handler (``on_event``, registered in
``bootstrap``) rewrites the row of the contact, case or customer an event is about: every change
to them records an event in its own transaction (the timeline is projected the same way). On
PostgreSQL the statement also computes the ``tsv`` column; on SQLite triggers copy the row into
the FTS5 tables.
"""

from __future__ import annotations

import functools

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.orm import Session

from onethread.kernel.events import DomainEvent
from onethread.search import rules

COLUMNS = "kind, ref_id, customer_id, channel, status, owner_id, market, lang, at, title, body, names"
MAX_BODY = 100_000  # characters of a body indexed (a tsvector holds at most 1 MB)


def _lang(column: str) -> str:
    whens = " ".join(f"WHEN '{m}' THEN '{lang}'" for m, lang in sorted(rules.MARKET_LANGUAGE.items()))
    return f"(CASE UPPER({column}) {whens} ELSE '{rules.FALLBACK_LANGUAGE}' END)"


def _selects(dialect: str) -> dict[str, str]:
    """One SELECT per kind giving the index row's columns, in ``COLUMNS`` order."""
    pg = dialect == "postgresql"
    agg = "string_agg({0}, ' ')" if pg else "group_concat({0}, ' ')"
    if pg:
        said = ("(SELECT string_agg(x->>'name', ' ') FROM jsonb_array_elements(CASE WHEN jsonb_typeof(c.attachments)"
                " = 'array' THEN c.attachments ELSE '[]'::jsonb END) x)")
        kept = "(SELECT string_agg(a.filename, ' ') FROM attachment a WHERE a.contact_id = c.id)"
        files = f"COALESCE({said}, '') || ' ' || COALESCE({kept}, '')"
        # File names also as words: PostgreSQL's parser reads "router-lights.jpg" as one file token.
        body = (f"LEFT(COALESCE(c.text, '') || ' ' || {files} || ' ' || regexp_replace({files}, '[._-]+', ' ', 'g'), "
                f"{MAX_BODY})")
    else:
        said = ("(SELECT group_concat(json_extract(x.value, '$.name'), ' ') FROM json_each(CASE WHEN "
                "json_type(c.attachments) = 'array' THEN c.attachments ELSE '[]' END) x)")
        kept = "(SELECT group_concat(a.filename, ' ') FROM attachment a WHERE a.contact_id = c.id)"
        body = (f"SUBSTR(COALESCE(c.text, '') || ' ' || COALESCE({said}, '') || ' ' || COALESCE({kept}, ''), 1, "
                f"{MAX_BODY})")
    notes = agg.format("e.text")
    case_body = (f"COALESCE(cf.customer_account, '') || ' ' || COALESCE(cf.outcome, '') || ' ' || "
                 f"COALESCE((SELECT {notes} FROM case_event e WHERE e.case_id = cf.id AND e.text IS NOT NULL), '')")
    case_body = f"LEFT({case_body}, {MAX_BODY})" if pg else f"SUBSTR({case_body}, 1, {MAX_BODY})"
    party = ("TRIM(COALESCE(p.given_name, '') || ' ' || COALESCE(p.family_name, '') || ' ' || "
             "COALESCE(p.organization_name, ''))")
    return {
        "contact": (f"SELECT 'contact', c.id, c.customer_id, c.channel, c.match_status, c.staff_user_id, cf.market, "
                    f"{_lang('cf.market')}, c.occurred_at, COALESCE(c.subject, ''), {body}, NULL "
                    "FROM contact c LEFT JOIN case_file cf ON cf.id = c.case_id"),
        "case": (f"SELECT 'case', cf.id, cf.customer_id, cf.opened_via, cf.status, cf.owner_id, cf.market, "
                 f"{_lang('cf.market')}, cf.opened_at, cf.title, {case_body}, NULL FROM case_file cf"),
        "customer": (f"SELECT 'customer', cu.id, cu.id, NULL, cu.status, NULL, NULL, '{rules.FALLBACK_LANGUAGE}', "
                     f"cu.created_at, cu.name, {party}, cu.name FROM customer cu JOIN party p ON p.id = cu.party_id"),
    }


# Events after which everything indexed of a customer is rewritten: an erasure changes all their
# rows, a merge (or its undo) gives them to another customer.
WHOLE_CUSTOMER = frozenset({"customer.erased", "customer.merged", "customer.merge_undone"})

_KEY = {"contact": "c.id", "case": "cf.id", "customer": "cu.id"}


def insert_sql(dialect: str, kind: str, where: str | None) -> str:
    """``INSERT INTO search_doc ... SELECT`` for ``kind``, rows limited by ``where`` (SQL)."""
    select = _selects(dialect)[kind] + (f" WHERE {where}" if where else "")
    if dialect != "postgresql":
        return f"INSERT INTO search_doc ({COLUMNS}) {select}"
    names = ", ".join(f"s.c{i}" for i in range(12))
    aliased = f"SELECT * FROM ({select}) AS s (c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11)"
    own = "to_tsvector(CAST(s.c7 AS regconfig), {0})"
    words = ("setweight(to_tsvector('simple', s.c9), 'A') || setweight(to_tsvector('simple', s.c10), 'B')"
             " || CASE WHEN s.c7 = 'simple' THEN ''::tsvector ELSE "
             f"setweight({own.format('s.c9')}, 'A') || setweight({own.format('s.c10')}, 'B') END")
    return f"INSERT INTO search_doc ({COLUMNS}, tsv) SELECT {names}, {words} FROM ({aliased}) AS s"


@functools.lru_cache(maxsize=16)
def _statements(dialect: str, kind: str) -> tuple[TextClause, TextClause]:
    """The DELETE and ``INSERT ... SELECT`` of some rows of ``kind``, built once per process."""
    expanding = bindparam("ids", expanding=True)
    return (text("DELETE FROM search_doc WHERE kind = :kind AND ref_id IN :ids").bindparams(expanding),
            text(insert_sql(dialect, kind, f"{_KEY[kind]} IN :ids")).bindparams(expanding))


def _rewrite(session: Session, kind: str, ids: list[str], *, new: bool = False) -> None:
    """``new``: rows just stored, so nothing of them is indexed unless this transaction did it."""
    delete, insert = _statements(session.get_bind().dialect.name, kind)
    transaction, written = session.info.get("search_written", (None, set()))
    if transaction is not session.get_transaction():
        written = set()
        session.info["search_written"] = (session.get_transaction(), written)
    keys = {(kind, i) for i in ids}
    if not new or not written.isdisjoint(keys):
        session.execute(delete, {"kind": kind, "ids": ids})
    session.execute(insert, {"ids": ids})
    written |= keys


def reindex(session: Session, kind: str, ids: list[str], *, new: bool = False) -> None:
    """Rewrite the index rows of these contacts, cases or customers (a row gone is dropped;
    ``new``: rows stored in this transaction, with no index row from before it)."""
    if ids:
        session.flush()
        _rewrite(session, kind, list(ids), new=new)


_TABLE = {"contact": "contact", "case": "case_file"}


def reindex_customer(session: Session, customer_id: str) -> None:
    """Rewrite everything indexed of one customer: their row, their cases and their contacts (an
    erasure changes them all at once)."""
    session.flush()
    _rewrite(session, "customer", [customer_id])
    for kind, table in _TABLE.items():
        ids = set(session.execute(text(f"SELECT id FROM {table} WHERE customer_id = :cid"), {"cid": customer_id})
                  .scalars())
        ids |= set(session.execute(text("SELECT ref_id FROM search_doc WHERE kind = :kind AND customer_id = :cid"),
                                   {"kind": kind, "cid": customer_id}).scalars())
        if ids:
            _rewrite(session, kind, sorted(ids))


def rebuild(session: Session) -> dict[str, int]:
    """Empty the index and fill it from every stored contact, case and customer (after a bulk
    load that wrote rows directly, e.g. the data generator). Returns the rows per kind."""
    dialect = session.get_bind().dialect.name
    session.flush()
    session.execute(text("DELETE FROM search_doc"))
    done = {}
    for kind in rules.KINDS:
        done[kind] = session.execute(text(insert_sql(dialect, kind, None))).rowcount
    return done


# A step of a case's log on PostgreSQL: the case's row is brought up to date in place and the
# step's text appended to its words, instead of reading and re-reading the whole log at every step
# (a long case's log would cost more at each step). Only while the title, the market, the account
# and the outcome at the head of the body are what the row holds; otherwise (and when the row is
# missing or full) the row is rewritten from the tables.
_CASE_PREFIX = "COALESCE(cf.customer_account, '') || ' ' || COALESCE(cf.outcome, '') || ' '"
_CASE_STEP = (
    "UPDATE search_doc d SET status = cf.status, owner_id = cf.owner_id, channel = cf.opened_via{set} "
    "FROM case_file cf WHERE d.kind = 'case' AND d.ref_id = :id AND cf.id = d.ref_id AND d.title = cf.title "
    "AND d.market IS NOT DISTINCT FROM cf.market "
    f"AND LEFT(d.body, LENGTH({_CASE_PREFIX})) = {_CASE_PREFIX} AND LENGTH(d.body) + LENGTH(:t) < {MAX_BODY}")
_CASE_WORDS = (", body = d.body || CASE WHEN RIGHT(d.body, 1) = ' ' THEN '' ELSE ' ' END || :t, "
               "tsv = d.tsv || setweight(to_tsvector('simple', :t), 'B') || CASE WHEN d.lang = 'simple' "
               "THEN ''::tsvector ELSE setweight(to_tsvector(CAST(d.lang AS regconfig), :t), 'B') END")


def case_step(session: Session, case_id: str, text_added: str | None) -> None:
    """Index one step of a case's log (``text_added``: the text it added to the log, if any)."""
    if session.get_bind().dialect.name == "postgresql":
        session.flush()
        words = bool(text_added)
        done = session.execute(text(_CASE_STEP.format(set=_CASE_WORDS if words else "")),
                               {"id": case_id, "t": text_added or ""}).rowcount
        if done:
            return
    reindex(session, "case", [case_id])


def on_event(session: Session, event: DomainEvent) -> None:
    """The in-process handler: the contact, case or customer an event is about is indexed again.
    A case's event is one step of its log (``cases.log`` writes both, the step's text in the
    event's ``timelineDetail``): ``case_step``."""
    kind = event.aggregate_type
    if event.type in WHOLE_CUSTOMER and event.customer_id:
        reindex_customer(session, event.customer_id)
    elif kind == "case":
        detail = event.payload.get("timelineDetail")
        case_step(session, event.aggregate_id, detail if isinstance(detail, str) else None)
    elif kind in ("contact", "case", "customer"):
        reindex(session, kind, [event.aggregate_id], new=_new_contact(event))
    elif kind == "party":
        ids = list(session.execute(text("SELECT id FROM customer WHERE party_id = :p"), {"p": event.aggregate_id})
                   .scalars())
        reindex(session, "customer", ids)


def _new_contact(event: DomainEvent) -> bool:
    """A contact's first event, in the transaction that stored it (a redelivery records none)."""
    return event.type == "contact.recorded" and not event.payload.get("update")


def _on_events(session: Session, events: list[DomainEvent]) -> None:
    """The bulk form (``record_events``, the sweeps): one rewrite per kind for the whole batch."""
    ids: dict[str, set[str]] = {"contact": set(), "case": set(), "customer": set()}
    parties: set[str] = set()
    old_contacts = False  # the batch's contacts are all new: nothing of them to delete first
    for event in events:
        if event.type in WHOLE_CUSTOMER and event.customer_id:
            reindex_customer(session, event.customer_id)
        elif event.aggregate_type in ids:
            ids[event.aggregate_type].add(event.aggregate_id)
            old_contacts |= event.aggregate_type == "contact" and not _new_contact(event)
        elif event.aggregate_type == "party":
            parties.add(event.aggregate_id)
    if parties:
        ids["customer"] |= set(session.execute(
            text("SELECT id FROM customer WHERE party_id IN :p").bindparams(bindparam("p", expanding=True)),
            {"p": sorted(parties)}).scalars())
    for kind, found in ids.items():
        reindex(session, kind, sorted(found), new=kind == "contact" and not old_contacts)


on_event.many = _on_events
