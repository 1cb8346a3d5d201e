"""Search rules (pure): which text-search language a market's words are read in, how a query
typed in the web-search style becomes an SQLite FTS5 query, how alike two names are (trigrams,
as PostgreSQL's pg_trgm counts them), and how a highlighted snippet is made safe for a page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from markupsafe import Markup, escape

KINDS = ("customer", "case", "contact")
MAX_QUERY = 200
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
NAME_SIMILARITY = 0.3  # pg_trgm's default threshold, used on both databases
SNIPPET_WORDS = 24
# How many matches of a kind are ranked at most: the newest ones. A common word matches a large
# share of ten million contacts; reading and ranking them all is what made search slow
# (docs/performance.md#search). More matches than this: the page says only the newest were ranked.
CANDIDATES = 500
# The newest rows of a kind read first, newest first, for the candidates (a common word is found
# there); with fewer matches among them, the word index is used, window by window.
PROBE_ROWS = 5_000
# The windows (days back from now) the newest-first search looks in, one after the other, until
# one holds more than CANDIDATES matches; then everything.
WINDOW_DAYS = (30, 365)
# Marks a database puts around a matched word in a snippet: control characters that an
# escaped page never shows, replaced by <mark> after the text around them is escaped.
START, STOP = "\x02", "\x03"

# The PostgreSQL text-search configuration a market's language is read with; any other market
# (or none known) reads words as they are written ('simple': no stemming, no stop words).
MARKET_LANGUAGE = {
    "GB": "english", "IE": "english", "US": "english", "AU": "english", "NZ": "english", "CA": "english",
    "FR": "french", "BE": "french", "DE": "german", "AT": "german", "CH": "german", "ES": "spanish",
    "MX": "spanish", "IT": "italian", "PT": "portuguese", "BR": "portuguese", "NL": "dutch",
    "SE": "swedish", "NO": "norwegian", "DK": "danish", "FI": "finnish", "TR": "turkish",
}
FALLBACK_LANGUAGE = "simple"
LANGUAGES = frozenset(MARKET_LANGUAGE.values()) | {FALLBACK_LANGUAGE}

# Which filters a kind of result has; a filter a kind does not have leaves that kind out.
FILTERS_OF = {
    "customer": frozenset(),
    "case": frozenset({"channel", "status", "team", "owner", "from", "to", "market"}),
    "contact": frozenset({"channel", "team", "owner", "from", "to", "market"}),
}


def windows(now: datetime, since: datetime | None) -> list[datetime | None]:
    """Where the newest-first search starts each try: ``WINDOW_DAYS`` back from ``now``, then the
    beginning (``None``); a window reaching past ``since`` (the user's own start) is the last."""
    out: list[datetime | None] = []
    for days in WINDOW_DAYS:
        start = now - timedelta(days=days)
        if since is not None and start <= since:
            break
        out.append(start)
    return [*out, None]


def language_of(market: str | None) -> str:
    return MARKET_LANGUAGE.get((market or "").upper(), FALLBACK_LANGUAGE)


def kinds_for(requested: str | None, filters: set[str]) -> list[str]:
    """The kinds of result a search looks for: the one asked for, or all three, less those that
    lack a filter the search uses."""
    kinds = [requested] if requested else list(KINDS)
    return [k for k in kinds if filters <= FILTERS_OF[k]]


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # one word, or a quoted phrase
    negated: bool = False


_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+", re.UNICODE)


def parse(query: str) -> list[list[Term]]:
    """The web-search syntax PostgreSQL's ``websearch_to_tsquery`` reads: words (all must be
    there), ``"a phrase"``, ``-word`` (must not be), ``or`` between alternatives. Returns the
    alternatives, each a list of terms that must all hold. Punctuation splits words."""
    groups: list[list[Term]] = [[]]
    for m in _TOKEN.finditer(query):
        if m.group(2) is not None:
            words = tuple(w.lower() for w in _WORD.findall(m.group(2)))
            if words:
                groups[-1].append(Term(words, negated=bool(m.group(1))))
            continue
        raw = m.group(3)
        if raw.lower() == "or":
            if groups[-1]:
                groups.append([])
            continue
        negated = raw.startswith("-") and len(raw) > 1
        words = tuple(w.lower() for w in _WORD.findall(raw[1:] if negated else raw))
        if not words:
            continue
        groups[-1].append(Term(words, negated=negated) if negated or len(words) == 1 else Term(words))
    return [g for g in groups if any(not t.negated for t in g)]


def fts5_query(query: str) -> str | None:
    """The FTS5 MATCH expression for ``query`` (every word quoted: nothing the user types is
    read as FTS5 syntax); ``None`` when it has no word to look for."""
    alternatives = []
    for group in parse(query):
        wanted = [_quoted(t.words) for t in group if not t.negated]
        unwanted = [_quoted(t.words) for t in group if t.negated]
        expr = " AND ".join(wanted)
        for u in unwanted:
            expr = f"({expr}) NOT {u}"
        alternatives.append(f"({expr})")
    return " OR ".join(alternatives) or None


def _quoted(words: tuple[str, ...]) -> str:
    return '"' + " ".join(w.replace('"', '""') for w in words) + '"'


def trigrams(text: str) -> set[str]:
    """pg_trgm's trigrams: each word lower-cased, padded with two spaces before and one after."""
    out: set[str] = set()
    for word in re.findall(r"[^\W_]+", text.lower()):
        padded = f"  {word} "
        out.update(padded[i:i + 3] for i in range(len(padded) - 2))
    return out


def similarity(a: str, b: str) -> float:
    """How alike two names are, 0 to 1, as pg_trgm's ``similarity``: shared trigrams over all.
    Word order does not matter (``Clarke Edith`` is ``Edith Clarke``)."""
    ta, tb = trigrams(a), trigrams(b)
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)


def name_probe(query: str) -> str | None:
    """An FTS5 query (trigram tokenizer) finding names that share a three-letter run with
    ``query``: the candidates ``similarity`` then ranks."""
    grams = sorted({g for g in trigrams(query) if g.strip() and len(g.strip()) == 3})
    return " OR ".join(f'"{g}"' for g in grams) or None


def marked(snippet: str | None) -> Markup:
    """A database's snippet, escaped, with its matched words in ``<mark>``: whatever the stored
    text holds (``<script>``...), the page shows it as text."""
    text = escape(snippet or "")
    return Markup(str(text).replace(START, "<mark>").replace(STOP, "</mark>"))


def plain(snippet: str | None) -> str:
    return (snippet or "").replace(START, "").replace(STOP, "")


BARE_HANDLE = re.compile(r"[A-Za-z0-9_.\-]{2,64}")


def handle_of(query: str) -> str | None:
    """A social handle typed without its ``@`` (``edith_c``): the handle to look for, with it."""
    raw = query.strip()
    if "@" in raw or not BARE_HANDLE.fullmatch(raw) or not re.search(r"[A-Za-z]", raw):
        return None
    return "@" + raw
