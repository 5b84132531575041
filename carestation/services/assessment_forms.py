"""Checks a completed questionnaire before it is saved, with messages that say what to fix; shared
by the assessment and campaign services so every form is validated and scored the same way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from carestation.assessments import LANGUAGES, Instrument, Score, load_instrument, score
from carestation.domain.assessment_values import AnonymousProfile, FormAnswers
from carestation.domain.errors import ValidationError
from carestation.domain.vocab import AgeBand, Gender, Industry
from carestation.i18n import _, current_language

MOOD = "mood"


@dataclass(frozen=True)
class CheckedForm:
    """A form that passed every check, scored, in the shape it is stored in."""

    instrument: Instrument
    score: Score
    answers: list[int | None]
    extra_answers: dict[str, int] | None
    language: str


def title(definition: Instrument) -> str:
    """The instrument's short name in the reader's language ("PHQ-9")."""
    return definition.short_title.text(current_language())


def _instrument(code: object, *, allow_mood: bool) -> Instrument:
    try:
        definition = load_instrument(code)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ValidationError(
            {
                "instrument": _("Choose a questionnaire from the list; {code} is not one.").format(
                    code=repr(code)
                )
            }
        ) from exc
    if definition.code == MOOD and not allow_mood:
        raise ValidationError(
            {
                "instrument": _(
                    "The distress rating is recorded with an emotion-pod booking, not as a "
                    "questionnaire."
                )
            }
        )
    return definition


def _check_answers(definition: Instrument, answers: object, prorate: bool) -> list[int | None]:
    """Mirrors the scoring rules so each problem gets a translated message naming the question."""
    name = title(definition)
    if not isinstance(answers, Sequence) or isinstance(answers, str | bytes):
        raise ValidationError(
            {"answers": _("The answers of {instrument} are missing.").format(instrument=name)}
        )
    expected = len(definition.items)
    if len(answers) != expected:
        raise ValidationError(
            {
                "answers": _(
                    "{instrument} has {expected} questions but {count} answers were given; "
                    "answer each question once."
                ).format(instrument=name, expected=expected, count=len(answers))
            }
        )
    unanswered: list[str] = []
    codes: list[int | None] = []
    for item, value in zip(definition.items, answers, strict=True):
        if value is None:
            unanswered.append(item.id)
            codes.append(None)
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not definition.min_code <= value <= definition.max_code
        ):
            raise ValidationError(
                {
                    "answers": _(
                        "The answer to question {number} of {instrument} is not one of its "
                        "choices ({low} to {high}). Choose one of the listed answers."
                    ).format(
                        number=item.id,
                        instrument=name,
                        low=definition.min_code,
                        high=definition.max_code,
                    )
                }
            )
        codes.append(value)
    may_prorate = prorate and definition.prorate_one_missing
    if len(unanswered) == 1 and not may_prorate:
        raise ValidationError(
            {
                "answers": _(
                    "Question {number} of {instrument} has no answer. Answer every question "
                    "before saving."
                ).format(number=unanswered[0], instrument=name)
            }
        )
    if len(unanswered) > 1:
        message = (
            _(
                "Questions {numbers} of {instrument} have no answer; at most one question may be "
                "left out. Answer the others before saving."
            )
            if may_prorate
            else _(
                "Questions {numbers} of {instrument} have no answer. Answer every question "
                "before saving."
            )
        )
        raise ValidationError(
            {"answers": message.format(numbers=", ".join(unanswered), instrument=name)}
        )
    return codes


def _check_extra(definition: Instrument, extra: object) -> dict[str, int] | None:
    name = title(definition)
    options = {e.id: {o.code for o in e.options} for e in definition.extra_items}
    chosen: dict[str, int] = {}
    try:
        pairs = list(extra)  # type: ignore[call-overload]
    except TypeError:
        pairs = [extra]
    for pair in pairs:
        if not (isinstance(pair, tuple | list) and len(pair) == 2):
            raise ValidationError(
                {
                    "extra_answers": _("An extra answer of {instrument} is malformed.").format(
                        instrument=name
                    )
                }
            )
        item_id, value = str(pair[0]), pair[1]
        if item_id not in options:
            raise ValidationError(
                {
                    "extra_answers": _("{instrument} has no extra question {number}.").format(
                        instrument=name, number=item_id
                    )
                }
            )
        if item_id in chosen:
            raise ValidationError(
                {
                    "extra_answers": _(
                        "Extra question {number} of {instrument} was answered twice; keep one "
                        "answer."
                    ).format(number=item_id, instrument=name)
                }
            )
        if isinstance(value, bool) or not isinstance(value, int) or value not in options[item_id]:
            raise ValidationError(
                {
                    "extra_answers": _(
                        "The answer to extra question {number} of {instrument} is not one of "
                        "its choices. Choose one of the listed answers."
                    ).format(number=item_id, instrument=name)
                }
            )
        chosen[item_id] = value
    return chosen or None


def check_form(form: FormAnswers) -> CheckedForm:
    """Validates and scores one questionnaire (never the pod's distress rating). Raises
    ValidationError with a translated message under "instrument", "language", "answers" or
    "extra_answers"."""
    definition = _instrument(form.instrument, allow_mood=False)
    if form.language not in LANGUAGES:
        raise ValidationError(
            {"language": _("Say in which language the questions were read: Chinese or English.")}
        )
    codes = _check_answers(definition, form.answers, form.prorate)
    extra = _check_extra(definition, form.extra_answers)
    missing = "prorate" if any(c is None for c in codes) else "reject"
    try:
        result = score(definition.code, codes, missing=missing)
    except ValueError as exc:  # the checks above mirror the rules; this is a safety net
        raise ValidationError(
            {
                "answers": _(
                    "The answers of {instrument} cannot be scored. Check every answer and try "
                    "again."
                ).format(instrument=title(definition))
            }
        ) from exc
    return CheckedForm(
        instrument=definition,
        score=result,
        answers=codes,
        extra_answers=extra,
        language=form.language,
    )


def check_forms(forms: Sequence[FormAnswers]) -> list[CheckedForm]:
    """Every form of a self-service or campaign session, all valid, or a ValidationError."""
    if not forms:
        raise ValidationError(
            {"forms": _("No questionnaire was completed, so there is nothing to save.")}
        )
    return [check_form(f) for f in forms]


def check_mood(value: object) -> Score:
    """The 0-10 distress rating taken with an emotion-pod session, scored."""
    definition = _instrument(MOOD, allow_mood=True)
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not definition.min_code <= value <= definition.max_code
    ):
        raise ValidationError(
            {
                "value": _("Choose a rating from {low} to {high}.").format(
                    low=definition.min_code, high=definition.max_code
                )
            }
        )
    return score(MOOD, [value])


def check_profile(profile: AnonymousProfile) -> AnonymousProfile:
    """An anonymous visitor's optional answers about themselves, each from its list."""
    try:
        return AnonymousProfile(
            age_band=AgeBand(profile.age_band) if profile.age_band is not None else None,
            gender=Gender(profile.gender) if profile.gender is not None else None,
            industry=Industry(profile.industry) if profile.industry is not None else None,
        )
    except ValueError as exc:
        raise ValidationError(
            {
                "profile": _(
                    "Choose the age band, gender and industry from the lists, or leave them empty."
                )
            }
        ) from exc


def rescore(instrument: str, answers: Sequence[int | None] | None) -> Score | None:
    """The score of stored raw answers by today's rules (a K10 with one answer left out is
    prorated), or None when the stored answers cannot be scored."""
    if answers is None:
        return None
    missing = "prorate" if any(a is None for a in answers) else "reject"
    try:
        return score(instrument, list(answers), missing=missing)
    except ValueError:
        return None


def local_midnight(moment: datetime, zone: str) -> datetime:
    """The start of `moment`'s day in the station's time zone, as an aware datetime. Anonymous
    forms are stored at this time (converted to UTC) so no row can be matched to a visit."""
    tz = ZoneInfo(zone)
    return datetime.combine(moment.astimezone(tz).date(), time.min, tzinfo=tz)
