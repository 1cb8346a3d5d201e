"""Search: one question, three kinds of answer (customers, cases, contacts), best first.

- Customers: an identifier in any format resolved to whoever holds it *now* (a former holder of a
  recycled number is never offered), a social handle with or without its ``@``, then names: a
  part of the name, or a name alike in trigrams (a typo, the names in another order).
- Cases and contacts: words of the web-search syntax (``"a phrase"``, ``-not``, ``or``) in a case's
  title, the customer's account, outcome and log, or a contact's subject, text and file names;
  ranked by relevance (the title/subject weighs more), then newest first; a snippet shows the
  words found. PostgreSQL reads the words with the market's language (stemmed) and as written;
  SQLite's FTS5 as written (docs/search.md).

Everyone who may read customers may search (the same roles as the customer, case and contact
pages); every result shown is an audited read of the customer's data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from onethread.access import service as access
from onethread.access.rules import CUSTOMER_READERS, Principal
from onethread.customers import search as customer_search
from onethread.errors import Forbidden, ValidationFailed
from onethread.kernel.clock import Clock
from onethread.models import Customer, SearchDoc, StaffUser
from onethread.search import rules

NAME_CANDIDATES = 500  # names sharing a trigram that SQLite ranks in Python
AT_TYPE = SearchDoc.__table__.c.at.type


@dataclass(frozen=True)
class Filters:
    channel: str | None = None
    status: str | None = None
    team: str | None = None
    owner: str | None = None
    market: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def used(self) -> set[str]:
        names = {"channel": self.channel, "status": self.status, "team": self.team, "owner": self.owner,
                 "market": self.market, "from": self.since, "to": self.until}
        return {k for k, v in names.items() if v is not None}


@dataclass
class Hit:
    kind: str
    id: str
    customer_id: str | None
    title: str
    at: datetime
    rank: float
    snippet: str = ""  # with rules.START/STOP around the words found; rules.marked() makes it safe HTML
    channel: str | None = None
    status: str | None = None
    owner_id: str | None = None
    matched_by: str | None = None  # a customer: "Phone number +44...", "name"
    customer_name: str | None = None
    owner_name: str | None = None

    @property
    def snippet_html(self):
        return rules.marked(self.snippet)

    @property
    def snippet_text(self) -> str:
        return rules.plain(self.snippet)


@dataclass
class Results:
    query: str
    kinds: list[str]
    tried: list[str] = field(default_factory=list)  # identifier kinds the text was read as
    former_holder_only: list[str] = field(default_factory=list)
    # Kinds with more matches than rules.CANDIDATES: only the newest that many were ranked.
    recent_only: list[str] = field(default_factory=list)
    customers: list[Hit] = field(default_factory=list)
    cases: list[Hit] = field(default_factory=list)
    contacts: list[Hit] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.customers) + len(self.cases) + len(self.contacts)


def search(session: Session, clock: Clock, actor: Principal, q: str | None, *, region: str | None, market: str,
           kind: str | None = None, filters: Filters | None = None, limit: int = rules.DEFAULT_LIMIT,
           channel: str = "api") -> Results:
    """Search for ``actor``; ``market`` is the configured one (a contact without a case is in it)."""
    if not actor.may(CUSTOMER_READERS):
        raise Forbidden(f"a {actor.role.replace('_', ' ')} does not search customers' records")
    query = (q or "").strip()
    if not query:
        raise ValidationFailed("type a phone number, e-mail, handle, account number, ICCID, IMEI, a name or words",
                               field="q")
    if len(query) > rules.MAX_QUERY:
        raise ValidationFailed(f"at most {rules.MAX_QUERY} characters", field="q")
    if kind is not None and kind not in rules.KINDS:
        raise ValidationFailed(f"type is one of {', '.join(rules.KINDS)}", field="type")
    if not 1 <= limit <= rules.MAX_LIMIT:
        raise ValidationFailed(f"limit is 1 to {rules.MAX_LIMIT}", field="limit")
    filters = filters or Filters()
    if filters.since and filters.until and filters.since > filters.until:
        raise ValidationFailed("the start of the period is after its end", field="from")
    out = Results(query, rules.kinds_for(kind, filters.used()))
    found, holders = _by_identifier(session, clock, query, region, out)
    if "customer" in out.kinds:  # names only when no identifier matched (as the customer search)
        out.customers = found[:limit] if found else _by_name(session, query, limit)
    for k, bucket in (("case", out.cases), ("contact", out.contacts)):
        if k in out.kinds and holders != set():
            hits, more = _by_words(session, k, query, filters, limit, market=market, only=holders, now=clock.now())
            bucket.extend(hits)
            if more:
                out.recent_only.append(k)
    _name(session, out)
    shown = [("customer", h.id, h.id) for h in out.customers]
    shown += [("case", h.id, h.customer_id) for h in out.cases]
    shown += [("contact", h.id, h.customer_id) for h in out.contacts]
    access.audit_list(session, clock, actor, shown, channel=channel, purpose="search")
    return out


def _by_identifier(session: Session, clock: Clock, query: str, region: str | None,
                   out: Results) -> tuple[list[Hit], set[str] | None]:
    """Customers holding the identifier ``query`` reads as, now; and, when it reads as one that
    names a person, the holders the text search is limited to (``None``: not limited)."""
    handle = query if query.startswith("@") and rules.BARE_HANDLE.fullmatch(query[1:]) else rules.handle_of(query)
    looked = customer_search.lookup(session, query, clock.now(), region=region, handle=handle)
    out.tried, out.former_holder_only = looked.tried, looked.former_holder_only
    found = looked.found
    by_id = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(found)))} if found else {}
    hits = [Hit("customer", cid, cid, by_id[cid].name, by_id[cid].created_at, 1.0, matched_by=label,
                customer_name=by_id[cid].name, status=by_id[cid].status)
            for cid, label in found.items() if cid in by_id]
    return hits, ({h.id for h in hits} if looked.personal else None)


def _like(query: str) -> str:
    return "%" + query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _by_name(session: Session, query: str, limit: int) -> list[Hit]:
    """Customers by name: a part of it, or alike (trigram similarity at least ``NAME_SIMILARITY``)."""
    pg = session.get_bind().dialect.name == "postgresql"
    if pg:
        rows = session.execute(text(
            "SELECT ref_id, title, at, status, similarity(names, :q) AS sim, names ILIKE :pat AS part "
            "FROM search_doc WHERE kind = 'customer' AND (names % :q OR names ILIKE :pat) "  # both: the trigram index
            "ORDER BY (names ILIKE :pat) DESC, similarity(names, :q) DESC, at DESC, ref_id LIMIT :n")
            .columns(at=AT_TYPE), {"q": query, "pat": _like(query), "n": limit}).all()
        scored = [(r.ref_id, r.title, r.at, r.status, float(r.sim), bool(r.part)) for r in rows]
    else:
        candidates: dict[str, tuple] = {}
        probe = rules.name_probe(query)
        if probe:
            for r in session.execute(text(
                    "SELECT d.ref_id, d.title, d.at, d.status, d.names FROM search_name_fts f "
                    "JOIN search_doc d ON d.id = f.rowid WHERE search_name_fts MATCH :m AND d.kind = 'customer' "
                    "ORDER BY f.rank LIMIT :n").columns(at=AT_TYPE), {"m": probe, "n": NAME_CANDIDATES}):
                candidates[r.ref_id] = tuple(r)
        for r in session.execute(text(
                "SELECT ref_id, title, at, status, names FROM search_doc WHERE kind = 'customer' "
                "AND lower(names) LIKE :pat ESCAPE '\\' ORDER BY at DESC LIMIT :n").columns(at=AT_TYPE),
                {"pat": _like(query), "n": NAME_CANDIDATES}):
            candidates[r.ref_id] = tuple(r)
        scored = []
        for ref_id, title, at, status, names in candidates.values():
            sim = rules.similarity(names or "", query)
            part = query.lower() in (names or "").lower()
            if part or sim >= rules.NAME_SIMILARITY:
                scored.append((ref_id, title, at, status, sim, part))
        scored.sort(key=lambda s: (not s[5], -s[4], -s[2].timestamp(), s[0]))
    return [Hit("customer", ref_id, ref_id, title, at, round(sim, 4), matched_by="name", customer_name=title,
                status=status)
            for ref_id, title, at, status, sim, _part in scored][:limit]


def _filters(kind: str, f: Filters, market: str, only: set[str] | None) -> tuple[str, dict]:
    sql, params = [], {}
    if f.channel:
        sql.append("d.channel = :channel")
        params["channel"] = f.channel
    if f.status:
        sql.append("d.status = :status")
        params["status"] = f.status
    if f.owner:
        sql.append("d.owner_id = :owner")
        params["owner"] = f.owner
    if f.team:
        sql.append("d.owner_id IN (SELECT id FROM staff_user WHERE team_id = :team)")
        params["team"] = f.team
    if f.market:
        if f.market.upper() == market.upper():
            sql.append("(d.market = :market OR d.market IS NULL)")
        else:
            sql.append("d.market = :market")
        params["market"] = f.market.upper()
    if f.since:
        sql.append("d.at >= :since")
        params["since"] = f.since
    if f.until:
        sql.append("d.at < :until")
        params["until"] = f.until
    if only is not None:
        sql.append("d.customer_id IN :only")
        params["only"] = sorted(only)
    return "".join(f" AND {s}" for s in sql), params


def _bind(statement: str, params: dict):
    stmt = text(statement)
    if "only" in params:
        stmt = stmt.bindparams(bindparam("only", expanding=True))
    for name in ("since", "until", "window"):
        if name in params:
            stmt = stmt.bindparams(bindparam(name, type_=AT_TYPE))
    return stmt.columns(at=AT_TYPE)


PG_HEADLINE = (f"StartSel={rules.START}, StopSel={rules.STOP}, MaxWords={rules.SNIPPET_WORDS}, MinWords=8, "
               "MaxFragments=2, FragmentDelimiter=\" … \"")


def pg_query(cfg: str) -> str:
    """The tsquery of ``:q`` as written and in the language ``cfg``: a constant in the statement's
    text (never typed by anyone: one of ``rules.MARKET_LANGUAGE``), so the planner reads how common
    the words are and picks between the newest-first scan and the word index."""
    if cfg not in rules.LANGUAGES:
        raise ValueError(f"not a text-search language: {cfg}")
    return f"(websearch_to_tsquery('simple', :q) || websearch_to_tsquery('{cfg}', :q))"


COLS = "d.id, d.ref_id, d.customer_id, d.title, d.at, d.channel, d.status, d.owner_id"
# The candidates are the newest CANDIDATES + 1 matches: the newest CANDIDATES are ranked, and one
# more says there were more than were ranked.
RANKED = "SELECT id FROM cand ORDER BY at DESC, id DESC LIMIT :cap"
SEEN = "(SELECT count(*) FROM cand) AS seen"


def _pg_words(session: Session, where: str, params: dict, cfg: str, since: datetime | None, *,
              probe: bool = False) -> tuple[list, int]:
    """The newest ``:cap`` matches (at most), ranked, and how many candidates there were (one more
    than ``:cap``: there are more matches). ``probe``: among the newest ``rules.PROBE_ROWS`` rows
    of the kind only (read newest first: a common word fills the candidates there). Otherwise
    through the words' index, in the window from ``since`` (``None``: all time); index scans in
    time order are then turned off for the statement: the planner's guess of how common the
    words are is for all kinds together, and a word common in cases but absent from contacts
    would have it walk every contact newest first."""
    q = pg_query(cfg)
    if probe:
        cand = (f"WITH recent AS MATERIALIZED (SELECT d.id, d.at, d.tsv FROM search_doc d WHERE d.kind = :kind{where} "
                "ORDER BY d.at DESC, d.id DESC LIMIT :probe), "
                f"cand AS (SELECT d.id, d.at FROM recent d WHERE d.tsv @@ {q} ORDER BY d.at DESC, d.id DESC "
                "LIMIT :more)")
        params = params | {"probe": rules.PROBE_ROWS}
    else:
        window = " AND d.at >= :window" if since is not None else ""
        params = params | ({"window": since} if since is not None else {})
        cand = (f"WITH cand AS (SELECT d.id, d.at FROM search_doc d WHERE d.kind = :kind AND d.tsv @@ {q}{where}"
                f"{window} ORDER BY d.at DESC, d.id DESC LIMIT :more)")
        session.execute(text("SELECT set_config('enable_indexscan', 'off', true)"))
    try:
        rows = session.execute(_bind(
            f"{cand} SELECT {COLS}, ts_rank(d.tsv, {q}) AS rank, {SEEN} FROM search_doc d WHERE d.id IN ({RANKED}) "
            "ORDER BY rank DESC, d.at DESC, d.id DESC LIMIT :n", params), params).all()
    finally:
        if not probe:
            session.execute(text("SELECT set_config('enable_indexscan', 'on', true)"))
    return rows, (rows[0].seen if rows else 0)


def _by_words(session: Session, kind: str, query: str, f: Filters, limit: int, *, market: str,
              only: set[str] | None, now: datetime) -> tuple[list[Hit], bool]:
    """The best ``limit`` of the newest ``rules.CANDIDATES`` matches, and whether there were more
    matches than that (then only the newest were ranked: the page says so)."""
    where, params = _filters(kind, f, market, only)
    params |= {"kind": kind, "n": limit, "cap": rules.CANDIDATES, "more": rules.CANDIDATES + 1}
    if session.get_bind().dialect.name == "postgresql":
        cfg = rules.language_of(f.market or market)
        params["q"] = query
        # Newest first: a common word fills the candidates from the newest rows alone (the
        # probe); otherwise the word index, one window after another, until one holds enough.
        rows, seen = _pg_words(session, where, params, cfg, None, probe=True)
        if seen <= rules.CANDIDATES:
            for since in rules.windows(now, f.since):
                rows, seen = _pg_words(session, where, params, cfg, since)
                if seen > rules.CANDIDATES:
                    break
        snippets = dict(session.execute(
            text(f"SELECT d.id, ts_headline(CAST(d.lang AS regconfig), d.title || ' — ' || d.body, {pg_query(cfg)}, "
                 ":opts) FROM search_doc d WHERE d.id IN :ids").bindparams(bindparam("ids", expanding=True)),
            {"ids": [r.id for r in rows], "q": query, "opts": PG_HEADLINE}).all()) if rows else {}
    else:
        match = rules.fts5_query(query)
        if match is None:
            return [], False
        params["m"] = match
        rows = session.execute(_bind(
            "WITH cand AS (SELECT d.id, d.at FROM search_fts JOIN search_doc d ON d.id = search_fts.rowid "
            f"WHERE search_fts MATCH :m AND d.kind = :kind{where} ORDER BY d.at DESC, d.id DESC LIMIT :more) "
            f"SELECT {COLS}, -bm25(search_fts, 4.0, 1.0) AS rank, {SEEN} "
            "FROM search_fts JOIN search_doc d ON d.id = search_fts.rowid "
            f"WHERE search_fts MATCH :m AND d.id IN ({RANKED}) "
            "ORDER BY rank DESC, d.at DESC, d.id DESC LIMIT :n", params), params).all()
        seen = rows[0].seen if rows else 0
        snippets = dict(session.execute(
            text(f"SELECT rowid, snippet(search_fts, -1, '{rules.START}', '{rules.STOP}', ' … ', "
                 f"{rules.SNIPPET_WORDS}) FROM search_fts WHERE search_fts MATCH :m AND rowid IN :ids")
            .bindparams(bindparam("ids", expanding=True)), {"m": match, "ids": [r.id for r in rows]}).all()) \
            if rows else {}
    hits = [Hit(kind, r.ref_id, r.customer_id, r.title, r.at, float(r.rank), snippets.get(r.id) or "",
                channel=r.channel, status=r.status, owner_id=r.owner_id) for r in rows]
    return hits, seen > rules.CANDIDATES


def _name(session: Session, out: Results) -> None:
    """The customer's and owner's names beside each case and contact (one query each)."""
    hits = out.cases + out.contacts
    cids = {h.customer_id for h in hits if h.customer_id}
    names = dict(session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(cids))).all()) if cids \
        else {}
    sids = {h.owner_id for h in hits if h.owner_id}
    staff = dict(session.execute(select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(sids))).all()) \
        if sids else {}
    for h in hits:
        h.customer_name = names.get(h.customer_id)
        h.owner_name = staff.get(h.owner_id)
