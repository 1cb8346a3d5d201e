"""Every attribute a TMF specification defines is accepted; how each one is treated is one of:

- **stored**: onethread has a home for it (a column, an identifier, a case's clock...), and the
  resource's own request shape parses it;
- **kept as given** (``KEPT``): onethread has no home for it; it is checked for its JSON type,
  stored as sent (``tmf_attributes``) and returned as sent. A merge-patch replaces or removes it;
- **set by onethread** (``SERVER_SET``): onethread decides it (``id``, ``creationDate``, a case's
  ``expectedResolutionDate`` from its clock...); a value sent on create is not used, and a PATCH
  may send it back unchanged (a different value is refused, naming what to do instead);
- **refused** with the reason: where taking it would break one of onethread's rules.

Which attribute is which is written per resource in its module and in docs/api/.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar

from pydantic import PrivateAttr, model_validator
from pydantic_core import PydanticCustomError

from onethread.api.tmf.shapes import TmfIn
from onethread.errors import ValidationFailed

STRING, BOOLEAN, NUMBER, OBJECT, OBJECTS, STRINGS, DATETIME = (
    "a string", "true or false", "a number", "an object", "a list of objects", "a list of strings",
    "a date-time with a time zone")


def problem_with(value: Any, kind: str) -> str | None:
    """Why ``value`` is not of ``kind`` (one of the constants above), or None."""
    ok = {
        STRING: isinstance(value, str),
        BOOLEAN: isinstance(value, bool),
        NUMBER: isinstance(value, int | float) and not isinstance(value, bool),
        OBJECT: isinstance(value, dict),
        OBJECTS: isinstance(value, list) and all(isinstance(v, dict) for v in value),
        STRINGS: isinstance(value, list) and all(isinstance(v, str) for v in value),
        DATETIME: isinstance(value, str) and _aware(value),
    }[kind]
    return None if ok else f"must be {kind}"


def _aware(text: str) -> bool:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


class TmfResourceIn(TmfIn):
    """A create or update body of a TMF resource: the attributes it parses, plus ``KEPT`` (taken
    aside, checked for their JSON type: ``kept``) and ``SERVER_SET`` (taken aside and not used).
    Anything else that the model does not declare is still an unknown field."""

    KEPT: ClassVar[dict[str, str]] = {}
    SERVER_SET: ClassVar[frozenset[str]] = frozenset()
    _kept: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _aside(cls, data, handler):
        kept: dict[str, Any] = {}
        if isinstance(data, dict):
            kept = {k: data[k] for k in cls.KEPT if k in data}
            data = {k: v for k, v in data.items() if k not in cls.KEPT and k not in cls.SERVER_SET}
        for name, value in kept.items():
            problem = None if value is None else problem_with(value, cls.KEPT[name])
            if problem:
                raise PydanticCustomError("kept_type", "{name}: {problem}", {"name": name, "problem": problem})
        model = handler(data)
        model._kept = kept
        return model

    @property
    def kept(self) -> dict[str, Any]:
        """The kept-as-given attributes sent, ``null`` ones included (a PATCH removes those)."""
        return dict(self._kept)

    @property
    def kept_new(self) -> dict[str, Any] | None:
        """What a create keeps: the kept attributes sent with a value (None when there are none)."""
        return {k: v for k, v in self._kept.items() if v is not None} or None


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: objects merge member by member, ``null`` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def patched(stored: dict | None, changes: dict[str, Any]) -> dict | None:
    """The kept attributes after a merge-patch of ``changes`` (None when nothing is left)."""
    result = merge_patch(stored or {}, changes)
    return result or None


def with_kept(body: dict, kept: dict | None, *, appended: Iterable[str] = ()) -> dict:
    """``body`` with the kept attributes added: lists named in ``appended`` (onethread's entries
    and the client's, e.g. ``relatedParty``) are joined, onethread's entries first; any other
    attribute onethread answers itself is never overridden."""
    for key, value in (kept or {}).items():
        if key in appended and isinstance(body.get(key), list) and isinstance(value, list):
            body[key] = [*body[key], *value]
        elif key not in body:
            body[key] = value
    return body


# --- PATCH: attributes that can only be sent back unchanged --------------------------------

def same(sent: Any, current: Any, *, by_id: bool = True) -> bool:
    """Whether a value sent in a PATCH says what the resource already says. References compare by
    ``id`` (a client may send fewer or more of a reference's attributes; ``by_id=False`` compares
    every attribute sent), date-times by instant, lists element by element in any order."""
    if isinstance(sent, dict) and isinstance(current, dict):
        if by_id and ("id" in sent or "id" in current):
            return sent.get("id") == current.get("id")
        return all(same(v, current.get(k)) for k, v in sent.items() if not k.startswith("@"))
    if isinstance(sent, list) and isinstance(current, list):
        if len(sent) != len(current):
            return False
        rest = list(current)
        for item in sent:
            match = next((i for i, c in enumerate(rest) if same(item, c)), None)
            if match is None:
                return False
            rest.pop(match)
        return True
    if isinstance(sent, str) and isinstance(current, str) and _aware(sent) and _aware(current):
        return datetime.fromisoformat(sent.replace("Z", "+00:00")) == datetime.fromisoformat(
            current.replace("Z", "+00:00"))
    if sent is None or sent == []:
        return current in (None, [], {})
    return sent == current


def check_unchanged(raw: dict, current: dict, read_only: dict[str, str]) -> dict:
    """Refuse (400, with what to do instead) a PATCH that changes a read-only attribute; answer the
    body without them (they are accepted when sent back unchanged)."""
    changed = [k for k in raw if k in read_only and not same(raw[k], current.get(k))]
    if changed:
        hints = "; ".join(f"{k}: {read_only[k]}" for k in changed if read_only[k])
        raise ValidationFailed(f"{', '.join(changed)} cannot be changed with PATCH" + (f" ({hints})" if hints else "")
                               + "; it may be sent back unchanged", field=changed[0])
    return {k: v for k, v in raw.items() if k not in read_only}


def split_entries(entries: list[dict], ours) -> tuple[list[dict], list[dict]]:
    """A list attribute onethread shares with the client (``relatedParty``, characteristics...):
    the entries ``ours(entry)`` says onethread stores, and the others, kept as given."""
    mine, theirs = [], []
    for entry in entries:
        (mine if ours(entry) else theirs).append(entry)
    return mine, theirs


def their_contact_media(sent: list[dict], current: dict) -> list[dict]:
    """The contact media of a PATCH that are the client's (kept as given). onethread's own, the
    phone numbers and e-mail addresses it holds as identifiers (by ``id``), may be sent back
    unchanged, and are not removed by leaving them out: they change through /api/v1/identifiers."""
    ours = {m["id"]: m for m in current.get("contactMedium", []) if isinstance(m, dict) and m.get("id")}
    theirs = []
    for medium in sent:
        mine = ours.get(medium.get("id")) if medium.get("id") else None
        if mine is None:
            theirs.append(medium)
        elif not same(medium, mine, by_id=False):
            raise ValidationFailed("contactMedium: the phone numbers and e-mail addresses onethread knows are "
                                   "identifiers over time: change them with /api/v1/identifiers", field="contactMedium")
    return theirs
