"""Symptoms in any wording -> one canonical key, from the curated table ``symptoms.yaml``.

Pure: no database. "headphone jack", "no sound in earphones" and "audio socket faulty" are all
``audio_jack``. The wording and every entry of the table are normalised the same way (lower case,
apostrophes dropped, punctuation as spaces, digits split from letters, simple plurals made singular,
the table's ``spellings`` rewritten), then matched against phrases (words in order, side by side)
and word sets (every item present, in any order, close together). The match says which entry
matched, so a decision can be explained. The table is checked when it is loaded: an error names
the file, the line and the bad entry. See docs/decisions.md, "Known defects".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from onethread.kernel import config_files
from onethread.kernel.config_files import ConfigError

TABLE_PATH = Path(__file__).with_name("symptoms.yaml")
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,59}$")  # fits known_defect.symptom (60)
WORD_SET_SPAN = 8  # the items of a word set must all fall within this many consecutive words
MODEL_MAX = 120  # known_defect.device_model


SymptomTableError = ConfigError  # the one configuration error (callers and tests catch it by this name)


# --- normalising -----------------------------------------------------------------------------

_APOSTROPHES = re.compile(r"['\u2019\u2018`\u00b4]")
_NOT_WORD = re.compile(r"[^0-9a-z]+")
_DIGIT_LETTER = re.compile(r"(?<=[0-9])(?=[a-z])|(?<=[a-z])(?=[0-9])")


def singular(word: str) -> str:
    """A simple plural made singular: batteries -> battery, earphones -> earphone, switches -> switch,
    glasses -> glass, dies -> die. Words of three letters or fewer, and words ending in ss, us or
    is, are left alone."""
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "ches", "shes", "xes", "zzes")):
        return word[:-2]
    return word[:-1]


def words(text: str) -> list[str]:
    """Lower case, apostrophes dropped, other punctuation as spaces, digits apart from letters,
    simple plurals singular. No spellings: see ``SymptomTable.tokens``."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _APOSTROPHES.sub("", text)
    text = _DIGIT_LETTER.sub(" ", _NOT_WORD.sub(" ", text))
    return [singular(w) for w in text.split()]


def normalise_model(model: str) -> str:
    """A device model as the registry stores it: lower case, single spaces ('-' and '_' count as
    spaces), trimmed. "Nimbus X2", " nimbus  x2 " and "NIMBUS-X2" are all "nimbus x2"."""
    text = unicodedata.normalize("NFKC", model or "").casefold()
    return " ".join(re.sub(r"[-_\s]+", " ", text).split())


# --- the table -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Phrase:
    symptom: str
    text: str  # as written in the table
    words: tuple[str, ...]  # normalised


@dataclass(frozen=True)
class WordSet:
    symptom: str
    text: str  # as written in the table, e.g. "[earphone|headphone] + [sound|audio]"
    groups: tuple[frozenset[str], ...]  # every group must be present; any one word of a group will do


@dataclass(frozen=True)
class Symptom:
    key: str
    label: str
    generic: bool
    phrases: tuple[Phrase, ...]
    word_sets: tuple[WordSet, ...]


@dataclass(frozen=True)
class Proposal:
    threshold: int  # distinct customers ...
    window_days: int  # ... within this many days


@dataclass(frozen=True)
class SymptomMatch:
    """Which symptom a wording is, and why: the table entry that matched and the words it covered."""

    symptom: str
    label: str
    how: str  # "key" (the wording is a symptom key), "phrase" or "words" (a word set)
    entry: str  # the phrase or word set as written in the table
    matched: str  # the wording's own words that it covered (normalised)

    def explain(self) -> str:
        if self.how == "key":
            return f"{self.symptom} (given as the key)"
        kind = "phrase" if self.how == "phrase" else "word set"
        return f"{self.symptom}: the {kind} '{self.entry}' matched '{self.matched}'"


@dataclass(frozen=True)
class SymptomTable:
    version: int
    proposal: Proposal
    spellings: dict[tuple[str, ...], tuple[str, ...]]
    symptoms: dict[str, Symptom]
    source_name: str

    def tokens(self, text: str) -> list[str]:
        """The wording's words, normalised and with the table's spellings rewritten (longest first)."""
        raw = words(text)
        out: list[str] = []
        longest = max((len(k) for k in self.spellings), default=0)
        i = 0
        while i < len(raw):
            for size in range(min(longest, len(raw) - i), 0, -1):
                replacement = self.spellings.get(tuple(raw[i:i + size]))
                if replacement is not None:
                    out.extend(replacement)
                    i += size
                    break
            else:
                out.append(raw[i])
                i += 1
        return out

    def match(self, wording: str) -> SymptomMatch | None:
        """The best symptom for ``wording`` (or ``None``): the same wording always gives the same answer.

        A symptom key itself ("audio_jack") is that symptom. Otherwise, among every phrase and word
        set found: a specific symptom over a generic one, then the entry covering the most words,
        then a phrase over a word set, then the earliest in the wording, then the key."""
        found = self.candidates(wording)
        return found[0] if found else None

    def candidates(self, wording: str) -> list[SymptomMatch]:
        """Every symptom the wording matches, best first, one (its best entry) per symptom."""
        if not isinstance(wording, str) or not wording.strip():
            return []
        key = wording.strip()
        if key in self.symptoms:
            s = self.symptoms[key]
            return [SymptomMatch(s.key, s.label, "key", s.key, key)]
        toks = self.tokens(wording)
        best: dict[str, tuple[tuple, SymptomMatch]] = {}
        for symptom in self.symptoms.values():
            for phrase in symptom.phrases:
                at = _find_phrase(toks, phrase.words)
                if at is not None:
                    rank = (symptom.generic, -len(phrase.words), 0, at, symptom.key)
                    self._keep(best, rank, SymptomMatch(symptom.key, symptom.label, "phrase", phrase.text,
                                                        " ".join(phrase.words)))
            for word_set in symptom.word_sets:
                span = _find_word_set(toks, word_set.groups)
                if span is not None:
                    start, end = span
                    covered = [t for t in toks[start:end + 1] if any(t in g for g in word_set.groups)]
                    rank = (symptom.generic, -len(word_set.groups), 1, start, symptom.key)
                    self._keep(best, rank, SymptomMatch(symptom.key, symptom.label, "words", word_set.text,
                                                        " ".join(covered)))
        return [m for _, m in sorted(best.values(), key=lambda pair: pair[0])]

    @staticmethod
    def _keep(best: dict, rank: tuple, found: SymptomMatch) -> None:
        if found.symptom not in best or rank < best[found.symptom][0]:
            best[found.symptom] = (rank, found)

    def label(self, key: str) -> str | None:
        s = self.symptoms.get(key)
        return s.label if s else None


def _find_phrase(toks: list[str], phrase: tuple[str, ...]) -> int | None:
    size = len(phrase)
    for i in range(len(toks) - size + 1):
        if tuple(toks[i:i + size]) == phrase:
            return i
    return None


def _find_word_set(toks: list[str], groups: tuple[frozenset[str], ...]) -> tuple[int, int] | None:
    """The earliest shortest stretch of the wording holding a word of every group, if it is at most
    ``WORD_SET_SPAN`` words long. A word may count for one group only."""
    hits = [(i, g) for i, t in enumerate(toks) for g, group in enumerate(groups) if t in group]
    if len({g for _, g in hits}) < len(groups):
        return None
    best: tuple[int, int] | None = None
    for a, (start, _) in enumerate(hits):
        chosen: dict[int, int] = {}  # group -> position
        used: set[int] = set()
        for pos, g in hits[a:]:
            if g not in chosen and pos not in used:
                chosen[g] = pos
                used.add(pos)
                if len(chosen) == len(groups):
                    end = pos
                    if end - start + 1 <= WORD_SET_SPAN and (best is None or end - start < best[1] - best[0]):
                        best = (start, end)
                    break
    return best


# --- loading ---------------------------------------------------------------------------------

class _Doc:
    """Reads a composed YAML tree, keeping each node's line for error messages."""

    def __init__(self, source_name: str):
        self.src = source_name

    def fail(self, node: yaml.Node | None, message: str) -> SymptomTableError:
        return SymptomTableError(self.src, node.start_mark.line + 1 if node is not None else None, message)

    def mapping(self, node: yaml.Node, what: str, required: set[str] = frozenset(),
                optional: set[str] | None = frozenset()) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """``optional=None`` allows any key."""
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str) or not key.strip():
                raise self.fail(key_node, f"{what}: every key must be text, not {key!r}")
            if key in out:
                raise self.fail(key_node, f"{what}: '{key}' is given twice")
            if optional is not None and key not in required and key not in optional:
                raise self.fail(key_node, f"{what} has an unknown key '{key}'")
            out[key] = (key_node, value_node)
        missing = sorted(set(required) - set(out))
        if missing:
            raise self.fail(node, f"{what} is missing {', '.join(missing)}")
        return out

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.fail(node, f"{what} must be a non-empty list")
        return list(node.value)

    def scalar(self, node: yaml.Node) -> Any:
        return config_files.scalar(node)

    def text(self, node: yaml.Node, what: str) -> str:
        # The scalar as written: "no", "off" or "3.5" are words to match, not a boolean or a number.
        value = node.value if isinstance(node, yaml.ScalarNode) else None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(node, f"{what} must be non-empty text")
        return value.strip()

    def whole(self, node: yaml.Node, what: str, least: int) -> int:
        value = self.scalar(node)
        if not isinstance(value, int) or isinstance(value, bool) or value < least:
            raise self.fail(node, f"{what} must be a whole number from {least}")
        return value


def parse(source: str, source_name: str = "<symptoms>") -> SymptomTable:
    """Parse and check a symptom table; ``SymptomTableError`` names ``source_name``, the line and the entry."""
    return _build(_Doc(source_name), config_files.compose(source, source_name))


def _build(doc: _Doc, root: yaml.Node | None) -> SymptomTable:
    if root is None:
        raise doc.fail(None, "the table is empty")
    top = doc.mapping(root, "the table", {"version", "proposal", "symptoms"}, {"spellings"})
    version = doc.whole(top["version"][1], "version", 1)
    prop = doc.mapping(top["proposal"][1], "proposal", {"threshold", "window_days"})
    proposal = Proposal(doc.whole(prop["threshold"][1], "proposal: threshold", 2),
                        doc.whole(prop["window_days"][1], "proposal: window_days", 1))
    spellings: dict[tuple[str, ...], tuple[str, ...]] = {}
    if "spellings" in top:
        for key, (key_node, value_node) in doc.mapping(top["spellings"][1], "spellings", optional=None).items():
            written, meant = tuple(words(key)), tuple(words(doc.text(value_node, f"spelling '{key}'")))
            if not written or not meant:
                raise doc.fail(key_node, f"spelling '{key}': both sides need a word")
            if written in spellings:
                raise doc.fail(key_node, f"spelling '{key}' is given twice (as '{' '.join(written)}')")
            spellings[written] = meant
    table = SymptomTable(version, proposal, spellings, {}, doc.src)
    owner: dict[tuple[str, ...], str] = {}  # normalised phrase -> the symptom it belongs to
    for key, (key_node, value_node) in doc.mapping(top["symptoms"][1], "symptoms", optional=None).items():
        if not KEY_PATTERN.match(key):
            raise doc.fail(key_node, f"symptom '{key}': a key is lower-case letters, digits and _ (at most 60)")
        table.symptoms[key] = _symptom(doc, table, key, value_node, owner)
    if not table.symptoms:
        raise doc.fail(top["symptoms"][1], "symptoms must name at least one symptom")
    return table


def _symptom(doc: _Doc, table: SymptomTable, key: str, node: yaml.Node,
             owner: dict[tuple[str, ...], str]) -> Symptom:
    what = f"symptom '{key}'"
    entry = doc.mapping(node, what, {"label"}, {"generic", "phrases", "words"})
    if "phrases" not in entry and "words" not in entry:
        raise doc.fail(node, f"{what} needs phrases or words")
    generic = doc.scalar(entry["generic"][1]) if "generic" in entry else False
    if not isinstance(generic, bool):
        raise doc.fail(entry["generic"][1], f"{what}: generic must be true or false")
    phrases: list[Phrase] = []
    for item in doc.sequence(entry["phrases"][1], f"{what}: phrases") if "phrases" in entry else []:
        written = doc.text(item, f"{what}: a phrase")
        normal = tuple(table.tokens(written))
        if not normal:
            raise doc.fail(item, f"{what}: the phrase '{written}' has no words")
        other = owner.get(normal)
        if other is not None and other != key:
            raise doc.fail(item, f"{what}: the phrase '{written}' already belongs to '{other}'")
        if other is None:
            owner[normal] = key
            phrases.append(Phrase(key, written, normal))
    word_sets: list[WordSet] = []
    for item in doc.sequence(entry["words"][1], f"{what}: words") if "words" in entry else []:
        word_sets.append(_word_set(doc, table, key, item))
    return Symptom(key, doc.text(entry["label"][1], f"{what}: label"), generic, tuple(phrases), tuple(word_sets))


def _word_set(doc: _Doc, table: SymptomTable, key: str, node: yaml.Node) -> WordSet:
    what = f"symptom '{key}': a word set"
    groups: list[frozenset[str]] = []
    shown: list[str] = []
    items = doc.sequence(node, f"{what} (a list of words, or of lists of words)")
    if len(items) < 2:
        raise doc.fail(node, f"{what} needs at least two items (one word is a phrase)")
    for item in items:
        alternatives = doc.sequence(item, f"{what}: a list of alternatives") if isinstance(
            item, yaml.SequenceNode) else [item]
        group: set[str] = set()
        for alt in alternatives:
            written = doc.text(alt, f"{what}: a word")
            normal = table.tokens(written)
            if len(normal) != 1:
                raise doc.fail(alt, f"{what}: '{written}' must be one word (a phrase goes under phrases)")
            group.add(normal[0])
        groups.append(frozenset(group))
        shown.append("|".join(sorted(group)))
    return WordSet(key, " + ".join(shown), tuple(groups))


@lru_cache(maxsize=1)
def table() -> SymptomTable:
    """The shipped table, read once per process (a broken file fails loudly, naming itself)."""
    return parse(TABLE_PATH.read_text(encoding="utf-8"), str(TABLE_PATH))


def match(wording: str) -> SymptomMatch | None:
    """The shipped table's best symptom for ``wording``."""
    return table().match(wording)
