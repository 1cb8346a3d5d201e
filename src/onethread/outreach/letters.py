"""Letters: templates per market and language (``templates.yaml``), filled with dates and amounts
formatted for the locale (Babel), and rendered as PDF (fpdf2). No database here.

fpdf2 is pure Python and maintained; its built-in Helvetica with the Windows-1252 encoding covers
English and Dutch (é, ë, €) without shipping a font file.
"""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from babel.dates import format_date
from pydantic import BaseModel, ConfigDict

from onethread.kernel import config_files
from onethread.kernel.config_files import STRICT
from onethread.kernel.money import Money

TEMPLATES = Path(__file__).with_name("templates.yaml")


@dataclass(frozen=True)
class Filled:
    template: str
    language: str
    locale: str
    subject: str
    body: str


class TemplateError(ValueError):
    """A template or a placeholder that does not exist."""


class _Market(BaseModel):
    model_config = STRICT
    language: str
    locale: str
    operator: str


class _Text(BaseModel):
    model_config = STRICT
    subject: str
    body: str


class _Template(BaseModel):
    """``purpose`` and, under each language code, a subject and a body."""

    model_config = ConfigDict(strict=True, extra="allow", frozen=True)
    __pydantic_extra__: dict[str, _Text]
    purpose: str


class _Catalogue(BaseModel):
    model_config = STRICT
    markets: dict[str, _Market]
    templates: dict[str, _Template]


def load_catalogue(path: Path = TEMPLATES) -> dict:
    """The markets and templates of a templates file, checked (``ConfigError`` at the bad line)."""
    return config_files.load(_Catalogue, path).model_dump()


@functools.cache
def _catalogue() -> dict:
    return load_catalogue()


def names() -> list[str]:
    return sorted(_catalogue()["templates"])


def purpose_of(template: str) -> str:
    return _template(template)["purpose"]


def _template(name: str) -> dict:
    found = _catalogue()["templates"].get(name)
    if found is None:
        raise TemplateError(f"no template {name!r}; one of: {', '.join(names())}")
    return found


def market(code: str) -> dict:
    markets = _catalogue()["markets"]
    return markets.get(code) or markets["GB"]


def language_for(market_code: str, chosen: str | None) -> str:
    return (chosen or market(market_code)["language"]).split("-")[0].lower()


def _format(value, locale: str) -> str:
    if isinstance(value, datetime):
        return format_date(value.date(), format="long", locale=locale)
    if isinstance(value, date):
        return format_date(value, format="long", locale=locale)
    if isinstance(value, Money):
        return value.format(locale)
    return str(value)


def fill(template: str, market_code: str, language: str, context: dict) -> Filled:
    """The template in that language (the market's own when the template lacks it), filled."""
    found = _template(template)
    mkt = market(market_code)
    lang = language if language in found else mkt["language"] if mkt["language"] in found else "en"
    locale = mkt["locale"] if mkt["language"] == lang else {"en": "en_GB", "nl": "nl_NL"}.get(lang, "en_GB")
    values = {k: _format(v, locale) for k, v in context.items()}
    text = found[lang]
    try:
        return Filled(template, lang, locale, string.Formatter().vformat(text["subject"], (), values),
                      string.Formatter().vformat(text["body"], (), values).strip())
    except KeyError as exc:
        raise TemplateError(f"template {template!r} needs {exc.args[0]!r}") from exc


def render_pdf(*, operator: str, recipient: str, subject: str, body: str, dated: datetime, locale: str,
               cc: list[str] | None = None, reference: str | None = None) -> bytes:
    """One letter as PDF: letterhead, date, recipient, subject, body, copies."""
    from fpdf import FPDF  # imported when a letter is drawn: it costs every process's start-up otherwise

    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = "windows-1252"
    pdf.set_creation_date(dated)  # the letter's own date, never the wall clock
    pdf.set_title(subject)
    pdf.set_author(operator)
    pdf.set_margins(25, 25, 25)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 8, _safe(operator), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.cell(0, 6, _safe(format_date(dated.date(), format="long", locale=locale)), new_x="LMARGIN", new_y="NEXT")
    if reference:
        pdf.cell(0, 6, _safe(reference), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Helvetica", size=11)
    pdf.cell(0, 6, _safe(recipient), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font("Helvetica", "B", 12)
    pdf.multi_cell(0, 7, _safe(subject), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", size=11)
    for paragraph in body.split("\n\n"):
        pdf.multi_cell(0, 6, _safe(" ".join(paragraph.split("\n"))), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    pdf.ln(4)
    pdf.cell(0, 6, _safe(operator), new_x="LMARGIN", new_y="NEXT")
    for name in cc or []:
        pdf.cell(0, 6, _safe(f"cc: {name}"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _safe(text: str) -> str:
    """What Windows-1252 cannot hold becomes '?', so an unusual name never stops a letter."""
    return text.encode("cp1252", errors="replace").decode("cp1252")
