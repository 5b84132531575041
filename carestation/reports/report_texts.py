"""The wording of the personal wellbeing report, read from `resources/text/report_{lang}.json` and
checked: every instrument and band present in both languages, the same keys, the same
placeholders. A wording change is a file edit; a mistake in it fails at load and in the tests,
naming the file and the key."""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from carestation.assessments import instrument_codes, load_instrument
from carestation.reports import document_language
from carestation.resources import resource_path

LANGUAGES = ("zh_CN", "en")
# Questionnaires that appear on the personal report (the pod's distress rating does not).
REPORT_INSTRUMENTS = tuple(code for code in instrument_codes() if code != "mood")
# Every placeholder a text may use; anything else is a typo.
PLACEHOLDERS = frozenset({"station_name", "station_phone", "first_date", "report_number"})
GENERAL_KEYS = frozenset(
    {
        "title",
        "intro",
        "results_heading",
        "col_questionnaire",
        "col_date",
        "col_score",
        "col_result",
        "label_code",
        "label_name",
        "label_report_number",
        "label_issued",
        "label_counsellor",
        "label_latest",
        "label_score",
        "heading_meaning",
        "heading_self_care",
        "label_follow_up",
        "change_improved",
        "change_deteriorated",
        "change_no_reliable_change",
        "follow_up_answers",
        "pss10_note",
        "screening_title",
        "screening",
        "help_title",
        "help_intro",
        "help_station",
        "sign_counsellor",
        "sign_date",
        "sign_stamp",
        "closing",
        "footer",
    }
)
HELP_NUMBERS = ("12356", "12351", "120", "110")
MIN_SUGGESTIONS, MAX_SUGGESTIONS = 2, 4


class ReportTextError(ValueError):
    """A report text file is missing, unreadable or inconsistent; the message names the file and
    the key."""


@dataclass(frozen=True)
class BandText:
    interpretation: str
    suggestions: tuple[str, ...]
    follow_up: bool  # this band calls for a follow-up conversation


@dataclass(frozen=True)
class InstrumentText:
    about: str
    chart_note: str
    follow_up: str | None  # required when any band calls for a follow-up
    bands: Mapping[str, BandText]


@dataclass(frozen=True)
class HelpLine:
    number: str
    text: str


@dataclass(frozen=True)
class ReportTexts:
    lang: str
    general: Mapping[str, str]
    help_lines: tuple[HelpLine, ...]
    instruments: Mapping[str, InstrumentText]

    def text(self, key: str, **values: str) -> str:
        """A general block with its placeholders filled in."""
        return self.general[key].format(**values) if values else self.general[key]


# --------------------------------------------------------------------------- parsing


def _fail(path: Path, key: str, problem: str) -> ReportTextError:
    return ReportTextError(f"{path}: {key}: {problem}")


def _placeholders(path: Path, key: str, text: str) -> frozenset[str]:
    try:
        names = {field for _lit, field, _spec, _conv in string.Formatter().parse(text) if field}
    except ValueError as exc:
        raise _fail(
            path, key, f"bad braces ({exc}); write {{{{ and }}}} for literal braces"
        ) from None
    unknown = names - PLACEHOLDERS
    if unknown:
        known = ", ".join(sorted(PLACEHOLDERS))
        raise _fail(path, key, f"unknown placeholder {sorted(unknown)}; known: {known}")
    return frozenset(names)


def _str(path: Path, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, key, "must be a non-empty string")
    _placeholders(path, key, value)
    return value


def _dict(path: Path, key: str, value: Any, keys: frozenset[str] | None = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(path, key, "must be an object")
    if keys is not None:
        missing, extra = keys - value.keys(), value.keys() - keys
        if missing:
            raise _fail(path, key, f"missing {sorted(missing)}")
        if extra:
            raise _fail(path, key, f"unknown {sorted(extra)}")
    return value


def _band(path: Path, where: str, raw: Any) -> BandText:
    band = _dict(path, where, raw, frozenset({"interpretation", "suggestions", "follow_up"}))
    suggestions = band["suggestions"]
    if not isinstance(suggestions, list) or not (
        MIN_SUGGESTIONS <= len(suggestions) <= MAX_SUGGESTIONS
    ):
        raise _fail(
            path,
            f"{where}.suggestions",
            f"must be a list of {MIN_SUGGESTIONS} to {MAX_SUGGESTIONS} strings",
        )
    if not isinstance(band["follow_up"], bool):
        raise _fail(path, f"{where}.follow_up", "must be true or false")
    return BandText(
        interpretation=_str(path, f"{where}.interpretation", band["interpretation"]),
        suggestions=tuple(
            _str(path, f"{where}.suggestions[{i}]", s) for i, s in enumerate(suggestions)
        ),
        follow_up=band["follow_up"],
    )


def _instrument(path: Path, code: str, raw: Any) -> InstrumentText:
    where = f"instruments.{code}"
    found = _dict(path, where, raw)
    allowed = frozenset({"about", "chart_note", "follow_up", "bands"})
    extra = found.keys() - allowed
    if extra:
        raise _fail(path, where, f"unknown {sorted(extra)}")
    slugs = frozenset(b.slug for b in load_instrument(code).bands)
    raw_bands = _dict(path, f"{where}.bands", found.get("bands"), slugs)
    bands = {
        b.slug: _band(path, f"{where}.bands.{b.slug}", raw_bands[b.slug])
        for b in load_instrument(code).bands
    }
    follow_up = found.get("follow_up")
    if any(b.follow_up for b in bands.values()) or follow_up is not None:
        follow_up = _str(path, f"{where}.follow_up", follow_up)
    for key in ("about", "chart_note"):
        _str(path, f"{where}.{key}", found.get(key))
    return InstrumentText(
        about=found["about"],
        chart_note=found["chart_note"],
        follow_up=follow_up,
        bands=MappingProxyType(bands),
    )


def _help_lines(path: Path, raw: Any) -> tuple[HelpLine, ...]:
    if not isinstance(raw, list):
        raise _fail(path, "help_lines", "must be a list")
    lines = []
    for i, item in enumerate(raw):
        line = _dict(path, f"help_lines[{i}]", item, frozenset({"number", "text"}))
        lines.append(
            HelpLine(
                number=_str(path, f"help_lines[{i}].number", line["number"]),
                text=_str(path, f"help_lines[{i}].text", line["text"]),
            )
        )
    numbers = tuple(line.number for line in lines)
    if numbers != HELP_NUMBERS:
        raise _fail(path, "help_lines", f"numbers must be {', '.join(HELP_NUMBERS)} in this order")
    return tuple(lines)


def read_report_texts(path: Path, lang: str) -> ReportTexts:
    """Parses and checks one file on its own (see `check_pair` for the two languages together)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportTextError(f"{path}: cannot be read as JSON: {exc}") from exc
    top = _dict(
        path, "(top level)", raw, frozenset({"language", "general", "help_lines", "instruments"})
    )
    if top["language"] != lang:
        raise _fail(path, "language", f"is {top['language']!r}, expected {lang!r}")
    general = _dict(path, "general", top["general"], GENERAL_KEYS)
    instruments = _dict(path, "instruments", top["instruments"], frozenset(REPORT_INSTRUMENTS))
    return ReportTexts(
        lang=lang,
        general=MappingProxyType({k: _str(path, f"general.{k}", v) for k, v in general.items()}),
        help_lines=_help_lines(path, top["help_lines"]),
        instruments=MappingProxyType(
            {code: _instrument(path, code, instruments[code]) for code in REPORT_INSTRUMENTS}
        ),
    )


# --------------------------------------------------------------------------- both languages


def _flatten(texts: ReportTexts) -> dict[str, str | bool]:
    """Every leaf by its key, so two languages can be compared key by key."""
    flat: dict[str, str | bool] = {f"general.{k}": v for k, v in texts.general.items()}
    for i, line in enumerate(texts.help_lines):
        flat[f"help_lines[{i}].number"] = line.number
        flat[f"help_lines[{i}].text"] = line.text
    for code, inst in texts.instruments.items():
        flat[f"instruments.{code}.about"] = inst.about
        flat[f"instruments.{code}.chart_note"] = inst.chart_note
        if inst.follow_up is not None:
            flat[f"instruments.{code}.follow_up"] = inst.follow_up
        for slug, band in inst.bands.items():
            where = f"instruments.{code}.bands.{slug}"
            flat[f"{where}.interpretation"] = band.interpretation
            flat[f"{where}.follow_up"] = band.follow_up
            for i, suggestion in enumerate(band.suggestions):
                flat[f"{where}.suggestions[{i}]"] = suggestion
    return flat


def check_pair(first: ReportTexts, first_path: Path, other: ReportTexts, other_path: Path) -> None:
    """The same keys (as many suggestions per band), follow-up flags and placeholders in both
    languages."""
    a, b = _flatten(first), _flatten(other)
    for key in sorted(a.keys() - b.keys()):
        raise _fail(other_path, key, f"missing (present in {first_path.name})")
    for key in sorted(b.keys() - a.keys()):
        raise _fail(first_path, key, f"missing (present in {other_path.name})")
    for key in sorted(a.keys() & b.keys()):
        va, vb = a[key], b[key]
        if isinstance(va, bool) or isinstance(vb, bool):
            if va != vb:
                raise _fail(other_path, key, f"is {vb}, but {va} in {first_path.name}")
            continue
        pa = _placeholders(first_path, key, va)
        pb = _placeholders(other_path, key, vb)
        if pa != pb:
            raise _fail(
                other_path,
                key,
                f"placeholders {sorted(pb)} differ from {sorted(pa)} in {first_path.name}",
            )


def text_path(lang: str, directory: Path | None = None) -> Path:
    return (directory or resource_path("text")) / f"report_{lang}.json"


def check_report_texts(directory: Path | None = None) -> dict[str, ReportTexts]:
    """Reads and checks both languages' files (in `directory`, default the bundled texts)."""
    found = {lang: read_report_texts(text_path(lang, directory), lang) for lang in LANGUAGES}
    first, *others = LANGUAGES
    for lang in others:
        check_pair(
            found[first], text_path(first, directory), found[lang], text_path(lang, directory)
        )
    return found


@cache
def _bundled() -> dict[str, ReportTexts]:
    return check_report_texts()


def load_report_texts(lang: str) -> ReportTexts:
    """The checked texts for "zh_CN" or "en" (both files are checked on first use, then cached)."""
    return _bundled()[document_language(lang)]


def follow_up_bands() -> Mapping[str, frozenset[str]]:
    """Per instrument, the band slugs the texts mark as calling for a follow-up (the same in
    both languages): for the service that sets InstrumentSection.follow_up_advised."""
    texts = load_report_texts(LANGUAGES[0])
    return MappingProxyType(
        {
            code: frozenset(slug for slug, band in inst.bands.items() if band.follow_up)
            for code, inst in texts.instruments.items()
        }
    )


__all__ = [
    "REPORT_INSTRUMENTS",
    "BandText",
    "HelpLine",
    "InstrumentText",
    "ReportTextError",
    "ReportTexts",
    "check_report_texts",
    "follow_up_bands",
    "load_report_texts",
    "read_report_texts",
]
