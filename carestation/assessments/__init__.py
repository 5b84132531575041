"""Questionnaire definitions read from resources/instruments/*.json, and exact scoring from them."""

from __future__ import annotations

import itertools
import json
import math
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any, Literal

from carestation.resources import resource_path

__all__ = [
    "LANGUAGES",
    "MISSING_MODES",
    "Band",
    "ChangeVerdict",
    "ExtraItem",
    "FlagRule",
    "Instrument",
    "InstrumentDefinitionError",
    "Item",
    "LocalizedText",
    "Option",
    "Score",
    "instrument_codes",
    "is_caseness",
    "load_instrument",
    "read_definition",
    "reliable_change",
    "score",
]

LANGUAGES: tuple[str, ...] = ("zh_CN", "en")
MISSING_MODES: tuple[str, ...] = ("reject", "prorate")

# The instruments the app offers, in the order menus and reports list them.
_CODES: tuple[str, ...] = ("phq9", "gad7", "who5", "pss10", "k10", "mood")

ChangeVerdict = Literal["improved", "deteriorated", "no_reliable_change"]
BandBasis = Literal["total", "percent"]
FlagSubject = Literal["item", "any_item", "total", "percent"]

_COMPARISONS: dict[str, Callable[[int, int], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
}


class InstrumentDefinitionError(Exception):
    """A file under resources/instruments is broken; the message names the file and the problem.

    Deliberately not a ValueError: it is a packaging fault, not bad input from the caller.
    """


# --------------------------------------------------------------------------- definitions


@dataclass(frozen=True)
class LocalizedText:
    """One text in every language the app ships; `text("en")` or simply `value("en")`."""

    zh_cn: str
    en: str

    def text(self, lang: str) -> str:
        if lang == "zh_CN":
            return self.zh_cn
        if lang == "en":
            return self.en
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")

    # Lets callers write `item.text("en")` instead of `item.text.text("en")`.
    __call__ = text


@dataclass(frozen=True)
class Option:
    code: int
    label: LocalizedText


@dataclass(frozen=True)
class Item:
    id: str
    text: LocalizedText
    reverse: bool


@dataclass(frozen=True)
class ExtraItem:
    """A question asked with the instrument but never scored (the PHQ-9/GAD-7 difficulty item)."""

    id: str
    slug: str
    text: LocalizedText
    options: tuple[Option, ...]


@dataclass(frozen=True)
class Band:
    """A severity band; `min` and `max` are inclusive and on the instrument's band basis."""

    slug: str
    min: int
    max: int
    label: LocalizedText

    def contains(self, value: int) -> bool:
        return self.min <= value <= self.max


@dataclass(frozen=True)
class FlagRule:
    """A condition that raises a flag: `<subject> <op> <value>`, read from the definition file.

    Item rules look at the raw answer codes as the respondent chose them, before any reverse
    scoring, because the published rules (PHQ-9 item 9, WHO-5 items at 0 or 1) are about answers.
    """

    slug: str
    applies_to: FlagSubject
    item: str | None
    op: str
    value: int
    label: LocalizedText

    def raised_by(self, answers: Mapping[str, int | None], total: int, percent: int | None) -> bool:
        compare = _COMPARISONS[self.op]
        if self.applies_to == "item":
            assert self.item is not None  # guaranteed by the loader
            answer = answers[self.item]
            return answer is not None and compare(answer, self.value)
        if self.applies_to == "any_item":
            return any(a is not None and compare(a, self.value) for a in answers.values())
        if self.applies_to == "percent":
            return percent is not None and compare(percent, self.value)
        return compare(total, self.value)


@dataclass(frozen=True)
class Instrument:
    """One questionnaire exactly as its definition file describes it."""

    code: str
    version: str
    title: LocalizedText
    short_title: LocalizedText
    recall_period: LocalizedText
    instructions: LocalizedText
    items: tuple[Item, ...]
    options: tuple[Option, ...]  # in the order the paper form shows them
    min_code: int
    max_code: int
    band_basis: BandBasis
    percent_multiplier: int | None
    bands: tuple[Band, ...]  # ascending
    flags: tuple[FlagRule, ...]  # a Score lists raised flags in this order
    extra_items: tuple[ExtraItem, ...]
    prorate_one_missing: bool
    reliable_change: int | None
    higher_is_better: bool
    caseness: int | None
    licence: LocalizedText
    attribution: LocalizedText
    translation_source: LocalizedText
    notes: tuple[LocalizedText, ...]

    @property
    def min_total(self) -> int:
        return len(self.items) * self.min_code

    @property
    def max_total(self) -> int:
        return len(self.items) * self.max_code

    def band_values(self) -> range:
        """Every value the band basis can take (for WHO-5 the percents 0, 4, ..., 100)."""
        step = self.percent_multiplier if self.band_basis == "percent" else 1
        assert step is not None  # guaranteed by the loader
        return range(self.min_total * step, self.max_total * step + 1, step)

    def band(self, slug: str) -> Band:
        for band in self.bands:
            if band.slug == slug:
                return band
        raise ValueError(f"{self.code} has no band {slug!r}")

    def band_for(self, value: int) -> Band:
        """The band holding `value` (a total, or for WHO-5 a percent)."""
        for band in self.bands:
            if band.contains(value):
                return band
        raise ValueError(f"{self.code}: {value!r} is not a possible {self.band_basis}")

    def flag(self, slug: str) -> FlagRule:
        for rule in self.flags:
            if rule.slug == slug:
                return rule
        raise ValueError(f"{self.code} has no flag {slug!r}")


class _Malformed(Exception):
    """Internal: a problem at a location inside one definition file."""


_TOP_LEVEL_KEYS = frozenset(
    {
        "code",
        "version",
        "title",
        "short_title",
        "recall_period",
        "instructions",
        "items",
        "options",
        "min_code",
        "max_code",
        "band_basis",
        "percent_multiplier",
        "bands",
        "flags",
        "extra_items",
        "prorate_one_missing",
        "reliable_change",
        "higher_is_better",
        "caseness",
        "licence",
        "attribution",
        "translation_source",
        "notes",
    }
)


def _object(
    value: Any, where: str, keys: frozenset[str], optional: frozenset[str] = frozenset()
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Malformed(f"{where}: expected an object, got {type(value).__name__}")
    missing = sorted(keys - optional - value.keys())
    if missing:
        raise _Malformed(f"{where}: missing {', '.join(missing)}")
    # Unknown keys are refused so that a misspelt rule ("revers": true) cannot be silently ignored.
    unknown = sorted(value.keys() - keys)
    if unknown:
        raise _Malformed(f"{where}: unknown key(s) {', '.join(unknown)}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Malformed(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Malformed(f"{where}: expected an integer, got {value!r}")
    return value


def _optional_int(value: Any, where: str) -> int | None:
    return None if value is None else _int(value, where)


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise _Malformed(f"{where}: expected true or false, got {value!r}")
    return value


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Malformed(f"{where}: expected a non-empty string, got {value!r}")
    return value


def _text(value: Any, where: str) -> LocalizedText:
    data = _object(value, where, frozenset(LANGUAGES))
    return LocalizedText(
        zh_cn=_str(data["zh_CN"], f"{where}.zh_CN"), en=_str(data["en"], f"{where}.en")
    )


def _option_list(value: Any, where: str) -> tuple[Option, ...]:
    options = []
    for i, raw in enumerate(_list(value, where)):
        data = _object(raw, f"{where}[{i}]", frozenset({"code", "label"}))
        options.append(
            Option(
                code=_int(data["code"], f"{where}[{i}].code"),
                label=_text(data["label"], f"{where}[{i}].label"),
            )
        )
    codes = [o.code for o in options]
    if len(set(codes)) != len(codes):
        raise _Malformed(f"{where}: duplicate option codes {codes}")
    return tuple(options)


def _parse_items(value: Any) -> tuple[Item, ...]:
    items = []
    raw_items = _list(value, "items")
    if not raw_items:
        raise _Malformed("items: an instrument needs at least one item")
    for i, raw in enumerate(raw_items):
        where = f"items[{i}]"
        data = _object(raw, where, frozenset({"id", "text", "reverse"}))
        # Answers arrive as a plain list in questionnaire order, so ids must be that order.
        if data["id"] != str(i + 1):
            raise _Malformed(f"{where}.id: expected {str(i + 1)!r}, got {data['id']!r}")
        items.append(
            Item(
                id=data["id"],
                text=_text(data["text"], f"{where}.text"),
                reverse=_bool(data["reverse"], f"{where}.reverse"),
            )
        )
    return tuple(items)


def _parse_bands(value: Any) -> tuple[Band, ...]:
    bands = []
    for i, raw in enumerate(_list(value, "bands")):
        where = f"bands[{i}]"
        data = _object(raw, where, frozenset({"slug", "min", "max", "label"}))
        band = Band(
            slug=_str(data["slug"], f"{where}.slug"),
            min=_int(data["min"], f"{where}.min"),
            max=_int(data["max"], f"{where}.max"),
            label=_text(data["label"], f"{where}.label"),
        )
        if band.min > band.max:
            raise _Malformed(f"{where} ({band.slug}): min {band.min} is above max {band.max}")
        bands.append(band)
    return tuple(bands)


def _check_bands(instrument: Instrument) -> None:
    bands = instrument.bands
    values = instrument.band_values()
    if not bands:
        raise _Malformed("bands: at least one band is needed")
    slugs = [b.slug for b in bands]
    if len(set(slugs)) != len(slugs):
        raise _Malformed(f"bands: duplicate slugs {slugs}")
    for lower, upper in itertools.pairwise(bands):
        if upper.min <= lower.max:
            raise _Malformed(
                f"bands: {lower.slug} ({lower.min}-{lower.max}) and {upper.slug} "
                f"({upper.min}-{upper.max}) overlap or are out of order"
            )
    if bands[0].min != values[0] or bands[-1].max != values[-1]:
        raise _Malformed(
            f"bands: must run from {values[0]} to {values[-1]} (the possible "
            f"{instrument.band_basis} range), they run from {bands[0].min} to {bands[-1].max}"
        )
    # A gap is only allowed where no score can land (WHO-5 percents are multiples of 4).
    for value in values:
        holders = [b.slug for b in bands if b.contains(value)]
        if len(holders) != 1:
            raise _Malformed(
                f"bands: {instrument.band_basis} {value} falls in {len(holders)} bands, not exactly one"
            )
    for band in bands:
        if not any(band.contains(v) for v in values):
            raise _Malformed(f"bands: {band.slug} contains no possible {instrument.band_basis}")


def _parse_flags(value: Any, item_ids: set[str], has_percent: bool) -> tuple[FlagRule, ...]:
    rules = []
    keys = frozenset({"slug", "applies_to", "item", "op", "value", "label"})
    for i, raw in enumerate(_list(value, "flags")):
        where = f"flags[{i}]"
        data = _object(raw, where, keys, optional=frozenset({"item"}))
        applies_to = data["applies_to"]
        if applies_to not in ("item", "any_item", "total", "percent"):
            raise _Malformed(f"{where}.applies_to: unknown subject {applies_to!r}")
        item = data.get("item")
        if applies_to == "item":
            if item not in item_ids:
                raise _Malformed(f"{where}.item: {item!r} is not an item of this instrument")
        elif item is not None:
            raise _Malformed(f"{where}.item: only allowed when applies_to is 'item'")
        if applies_to == "percent" and not has_percent:
            raise _Malformed(f"{where}: a percent rule needs percent_multiplier")
        if data["op"] not in _COMPARISONS:
            raise _Malformed(f"{where}.op: expected one of {', '.join(_COMPARISONS)}")
        rules.append(
            FlagRule(
                slug=_str(data["slug"], f"{where}.slug"),
                applies_to=applies_to,
                item=item,
                op=data["op"],
                value=_int(data["value"], f"{where}.value"),
                label=_text(data["label"], f"{where}.label"),
            )
        )
    slugs = [r.slug for r in rules]
    if len(set(slugs)) != len(slugs):
        raise _Malformed(f"flags: duplicate slugs {slugs}")
    return tuple(rules)


def _parse_extra_items(value: Any, item_ids: set[str]) -> tuple[ExtraItem, ...]:
    extras = []
    for i, raw in enumerate(_list(value, "extra_items")):
        where = f"extra_items[{i}]"
        data = _object(raw, where, frozenset({"id", "slug", "text", "options"}))
        extra_id = _str(data["id"], f"{where}.id")
        if extra_id in item_ids:
            raise _Malformed(f"{where}.id: {extra_id!r} is already a scored item")
        extras.append(
            ExtraItem(
                id=extra_id,
                slug=_str(data["slug"], f"{where}.slug"),
                text=_text(data["text"], f"{where}.text"),
                options=_option_list(data["options"], f"{where}.options"),
            )
        )
    return tuple(extras)


def _parse(data: Any, expected_code: str) -> Instrument:
    data = _object(data, "definition", _TOP_LEVEL_KEYS)
    code = _str(data["code"], "code")
    if code != expected_code:
        raise _Malformed(f"code: {code!r} does not match the file name ({expected_code!r})")
    min_code = _int(data["min_code"], "min_code")
    max_code = _int(data["max_code"], "max_code")
    if min_code >= max_code:
        raise _Malformed(f"min_code {min_code} must be below max_code {max_code}")
    options = _option_list(data["options"], "options")
    if sorted(o.code for o in options) != list(range(min_code, max_code + 1)):
        raise _Malformed(
            f"options: codes {[o.code for o in options]} must be exactly {min_code}..{max_code}"
        )
    band_basis = data["band_basis"]
    if band_basis not in ("total", "percent"):
        raise _Malformed(f"band_basis: expected 'total' or 'percent', got {band_basis!r}")
    percent_multiplier = _optional_int(data["percent_multiplier"], "percent_multiplier")
    if percent_multiplier is not None and percent_multiplier < 1:
        raise _Malformed("percent_multiplier: must be a positive integer")
    if band_basis == "percent" and percent_multiplier is None:
        raise _Malformed("band_basis 'percent' needs percent_multiplier")
    items = _parse_items(data["items"])
    item_ids = {item.id for item in items}
    notes = tuple(_text(n, f"notes[{i}]") for i, n in enumerate(_list(data["notes"], "notes")))
    instrument = Instrument(
        code=code,
        version=_str(data["version"], "version"),
        title=_text(data["title"], "title"),
        short_title=_text(data["short_title"], "short_title"),
        recall_period=_text(data["recall_period"], "recall_period"),
        instructions=_text(data["instructions"], "instructions"),
        items=items,
        options=options,
        min_code=min_code,
        max_code=max_code,
        band_basis=band_basis,
        percent_multiplier=percent_multiplier,
        bands=_parse_bands(data["bands"]),
        flags=_parse_flags(data["flags"], item_ids, percent_multiplier is not None),
        extra_items=_parse_extra_items(data["extra_items"], item_ids),
        prorate_one_missing=_bool(data["prorate_one_missing"], "prorate_one_missing"),
        reliable_change=_optional_int(data["reliable_change"], "reliable_change"),
        higher_is_better=_bool(data["higher_is_better"], "higher_is_better"),
        caseness=_optional_int(data["caseness"], "caseness"),
        licence=_text(data["licence"], "licence"),
        attribution=_text(data["attribution"], "attribution"),
        translation_source=_text(data["translation_source"], "translation_source"),
        notes=notes,
    )
    _check_bands(instrument)
    if instrument.reliable_change is not None and instrument.reliable_change < 1:
        raise _Malformed("reliable_change: must be a positive integer")
    if instrument.caseness is not None and not (
        instrument.min_total <= instrument.caseness <= instrument.max_total
    ):
        raise _Malformed(f"caseness: {instrument.caseness} is not a possible total")
    if instrument.prorate_one_missing and len(items) < 2:
        raise _Malformed("prorate_one_missing: needs at least two items")
    return instrument


def read_definition(path: Path) -> Instrument:
    """Parse and validate one definition file; the app itself goes through `load_instrument`."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InstrumentDefinitionError(f"{path}: cannot be read as JSON: {exc}") from exc
    try:
        return _parse(raw, expected_code=path.stem)
    except _Malformed as exc:
        raise InstrumentDefinitionError(f"{path}: {exc}") from None


def _definitions_dir() -> Path:
    return resource_path("instruments")


@cache
def _load(code: str) -> Instrument:
    return read_definition(_definitions_dir() / f"{code}.json")


def _canonical_code(instrument: object) -> str:
    if not isinstance(instrument, str):
        raise ValueError(f"instrument must be a string such as 'PHQ-9', got {instrument!r}")
    # NFKC so that full-width input from a Chinese IME ("ＰＨＱ－９") matches as well.
    folded = unicodedata.normalize("NFKC", instrument).casefold()
    key = "".join(ch for ch in folded if ch.isalnum())
    if key not in _CODES:
        raise ValueError(f"unknown instrument {instrument!r}; known: {', '.join(_CODES)}")
    return key


def instrument_codes() -> tuple[str, ...]:
    """The canonical codes of every instrument: phq9, gad7, who5, pss10, k10, mood."""
    return _CODES


def load_instrument(code: str) -> Instrument:
    """The definition of `code` ("PHQ-9", "phq9" ...), read once and then cached."""
    return _load(_canonical_code(code))


# --------------------------------------------------------------------------- scoring


@dataclass(frozen=True, kw_only=True)
class Score:
    """The result of scoring one completed form.

    `flags` lists the raised flags in the order the definition file lists its rules
    (PHQ-9: suicidal_ideation; WHO-5: poor_wellbeing, likely_depression, item_score_le_1).
    """

    instrument: str  # canonical code, e.g. "phq9"
    version: str  # the definition's version, so stored scores can be traced to their rules
    total: int  # WHO-5: the raw 0-25 score
    band: str
    flags: tuple[str, ...]
    percent: int | None = None  # WHO-5 only: total x 4
    prorated: bool = False  # True when a K10 total was prorated over one missing item


def _round_half_up(value: Fraction) -> int:
    """Round to the nearest integer, halves away from zero for the non-negative values used here.

    Python's round() rounds halves to even (round(2.5) == 2), which is not the convention of the
    published prorating rule; Fraction keeps the arithmetic exact, so no float error can move a
    value across a .5 boundary.
    """
    return math.floor(value + Fraction(1, 2))


def _short_repr(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_answers(
    definition: Instrument, answers: object, missing: str
) -> tuple[list[int | None], list[str]]:
    code = definition.code
    if not isinstance(answers, Sequence) or isinstance(answers, str | bytes | bytearray):
        raise ValueError(
            f"{code}: answers must be a list or tuple of answer codes in questionnaire order, "
            f"got {type(answers).__name__}"
        )
    expected = len(definition.items)
    if len(answers) != expected:
        raise ValueError(f"{code}: expected {expected} answers, one per item, got {len(answers)}")
    codes: list[int | None] = []
    unanswered: list[str] = []
    for item, value in zip(definition.items, answers, strict=True):
        where = f"{code} item {item.id}"
        if value is None:
            if missing != "prorate":
                hint = (
                    "; pass missing='prorate' to prorate one missing answer"
                    if definition.prorate_one_missing
                    else ""
                )
                raise ValueError(f"{where}: no answer (None){hint}")
            unanswered.append(item.id)
            codes.append(None)
            continue
        # bool is an int subclass, but True as an answer is always a caller bug.
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(
                f"{where}: answer must be an int code, got {type(value).__name__} {_short_repr(value)}"
            )
        if not definition.min_code <= value <= definition.max_code:
            raise ValueError(
                f"{where}: answer {value} is out of range {definition.min_code}-{definition.max_code}"
            )
        codes.append(int(value))
    if len(unanswered) > 1:
        raise ValueError(
            f"{code}: items {', '.join(unanswered)} have no answer; "
            "prorating allows at most one missing item"
        )
    return codes, unanswered


def score(instrument: str, answers: Sequence[int | None], *, missing: str = "reject") -> Score:
    """Score one form; `answers` are the raw codes in questionnaire order.

    Raises ValueError naming the problem for an unknown instrument, a bad `missing` mode, the wrong
    number of answers, a non-int or out-of-range answer, or a missing (None) answer. Only
    instruments whose definition sets `prorate_one_missing` (K10) accept `missing="prorate"`; with
    exactly one item missing their total is round-half-up(n x sum / (n - 1)).
    """
    definition = load_instrument(instrument)
    if missing not in MISSING_MODES:
        raise ValueError(f"missing must be 'reject' or 'prorate', got {_short_repr(missing)}")
    if missing == "prorate" and not definition.prorate_one_missing:
        raise ValueError(f"{definition.code} is never prorated; use missing='reject'")
    codes, unanswered = _check_answers(definition, answers, missing)

    # min + max - x rather than max - x keeps a reversed item on the same scale whatever the lowest
    # code is; for PSS-10 (codes 0-4) it is the published 4 - x.
    low, high = definition.min_code, definition.max_code
    scored = [
        (low + high - c) if item.reverse else c
        for item, c in zip(definition.items, codes, strict=True)
        if c is not None
    ]
    n = len(definition.items)
    total = _round_half_up(Fraction(n * sum(scored), n - 1)) if unanswered else sum(scored)

    percent = total * definition.percent_multiplier if definition.percent_multiplier else None
    basis_value = percent if definition.band_basis == "percent" else total
    assert basis_value is not None  # the loader ties band_basis "percent" to a multiplier
    by_item = {item.id: c for item, c in zip(definition.items, codes, strict=True)}
    return Score(
        instrument=definition.code,
        version=definition.version,
        total=total,
        band=definition.band_for(basis_value).slug,
        flags=tuple(r.slug for r in definition.flags if r.raised_by(by_item, total, percent)),
        percent=percent,
        prorated=bool(unanswered),
    )


def _check_score_value(definition: Instrument, value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{definition.code}: {name} must be an int, got {_short_repr(value)}")
    if value not in definition.band_values():
        values = definition.band_values()
        raise ValueError(
            f"{definition.code}: {name} {value} is not a possible {definition.band_basis} "
            f"({values[0]}-{values[-1]}, step {values.step})"
        )
    return value


def reliable_change(instrument: str, first_total_or_percent: int, latest: int) -> ChangeVerdict:
    """Compare two scores of one person: "improved", "deteriorated" or "no_reliable_change".

    Values are on the band basis: totals, but percents for WHO-5. The threshold and direction come
    from the definition (PHQ-9 6, GAD-7 4, WHO-5 10 percentage points, higher better).
    """
    definition = load_instrument(instrument)
    threshold = definition.reliable_change
    if threshold is None:
        raise ValueError(f"{definition.code} has no reliable-change threshold")
    first = _check_score_value(definition, first_total_or_percent, "first_total_or_percent")
    last = _check_score_value(definition, latest, "latest")
    gain = (last - first) if definition.higher_is_better else (first - last)
    if gain >= threshold:
        return "improved"
    if gain <= -threshold:
        return "deteriorated"
    return "no_reliable_change"


def is_caseness(instrument: str, total: int) -> bool:
    """Whether a total reaches the definition's caseness threshold (PHQ-9 >= 10, GAD-7 >= 8)."""
    definition = load_instrument(instrument)
    if definition.caseness is None:
        raise ValueError(f"{definition.code} has no caseness threshold")
    if isinstance(total, bool) or not isinstance(total, int):
        raise ValueError(f"{definition.code}: total must be an int, got {_short_repr(total)}")
    if not definition.min_total <= total <= definition.max_total:
        raise ValueError(
            f"{definition.code}: total {total} is out of range "
            f"{definition.min_total}-{definition.max_total}"
        )
    return total >= definition.caseness
