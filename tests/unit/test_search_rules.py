"""Search rules without a database: the web-search syntax read for SQLite's FTS5 (nothing typed
is FTS5 syntax), name likeness as pg_trgm counts it, snippets made safe, bare handles."""

from __future__ import annotations

from onethread.search import rules


def test_words_phrases_exclusions_and_alternatives_become_a_quoted_fts5_query():
    assert rules.fts5_query("roaming charge") == '("roaming" AND "charge")'
    assert rules.fts5_query('"roaming charge" -invoice') == '(("roaming charge") NOT "invoice")'
    assert rules.fts5_query("wifi or modem") == '("wifi") OR ("modem")'
    assert rules.fts5_query("NEAR(a b) AND title:x*") == '("near a" AND "b" AND "and" AND "title x")'
    assert rules.fts5_query('" -- ()') is None and rules.fts5_query("-alone") is None


def test_names_alike_whatever_their_order_and_with_a_typo():
    assert rules.similarity("Edith Clarke", "Clarke Edith") == 1.0
    assert rules.similarity("Edith Clarke", "Edith Clarkw") >= rules.NAME_SIMILARITY
    assert rules.similarity("Edith Clarke", "Margaret Hughes") < rules.NAME_SIMILARITY


def test_a_snippet_is_escaped_before_its_matches_are_marked():
    html = rules.marked(f"<b>5 < 6</b> {rules.START}modem{rules.STOP}")
    assert str(html) == "&lt;b&gt;5 &lt; 6&lt;/b&gt; <mark>modem</mark>"
    assert rules.plain(f"{rules.START}modem{rules.STOP}") == "modem"


def test_a_handle_without_its_at_and_the_filters_each_kind_has():
    assert rules.handle_of("edith_c") == "@edith_c"
    assert rules.handle_of("@edith_c") is None and rules.handle_of("07700900123") is None
    assert rules.kinds_for(None, {"channel"}) == ["case", "contact"]
    assert rules.kinds_for(None, {"status"}) == ["case"]
    assert rules.language_of("fr") == "french" and rules.language_of("ZZ") == "simple"
