"""One visitor's pass through the self-service screen, without Qt: the questionnaires in order,
the answers given so far, and the forms to save. Lives only in memory until Submit."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from carestation.assessments import Instrument, Option
from carestation.domain.assessment_values import AnonymousProfile, FormAnswers


class SessionKind(enum.Enum):
    CLIENT = "client"  # started by staff for a registered client
    ANONYMOUS = "anonymous"  # a walk-in choosing one questionnaire
    CAMPAIGN = "campaign"  # a screening code


@dataclass(frozen=True)
class Question:
    form: int  # index of the questionnaire in the session
    instrument: Instrument
    item_id: str
    extra: bool  # an unscored question (PHQ-9/GAD-7 difficulty), asked after the scored ones
    number: int  # 1-based within its questionnaire
    count: int  # questions in its questionnaire, extras included
    overall: int  # 1-based across the whole session

    @property
    def key(self) -> tuple[int, bool, str]:
        return (self.form, self.extra, self.item_id)

    def text(self, lang: str) -> str:
        if self.extra:
            for extra in self.instrument.extra_items:
                if extra.id == self.item_id:
                    return extra.text(lang)
        for item in self.instrument.items:
            if item.id == self.item_id:
                return item.text(lang)
        raise KeyError(self.item_id)

    @property
    def options(self) -> tuple[Option, ...]:
        if self.extra:
            for extra in self.instrument.extra_items:
                if extra.id == self.item_id:
                    return extra.options
        return self.instrument.options  # in the paper form's order (WHO-5: 5 first)


@dataclass(frozen=True)
class Intro:
    form: int
    instrument: Instrument


Step = Intro | Question


class KioskSession:
    """The steps (an intro, then one question each) and the answers chosen, keyed by question."""

    def __init__(
        self,
        kind: SessionKind,
        instruments: Sequence[Instrument],
        *,
        client_id: int | None = None,
        code: str = "",
        profile: AnonymousProfile | None = None,
    ) -> None:
        if not instruments:
            raise ValueError("a kiosk session needs at least one questionnaire")
        self.kind = kind
        self.instruments = tuple(instruments)
        self.client_id = client_id
        self.code = code
        self.profile = profile or AnonymousProfile()
        self.steps: list[Step] = []
        self.questions: list[Question] = []
        overall = 0
        for form, instrument in enumerate(self.instruments):
            self.steps.append(Intro(form, instrument))
            ids = [(item.id, False) for item in instrument.items]
            ids += [(extra.id, True) for extra in instrument.extra_items]
            for number, (item_id, extra) in enumerate(ids, start=1):
                overall += 1
                question = Question(form, instrument, item_id, extra, number, len(ids), overall)
                self.steps.append(question)
                self.questions.append(question)
        self._answers: dict[tuple[int, bool, str], int] = {}

    @property
    def total_questions(self) -> int:
        return len(self.questions)

    def answer(self, question: Question) -> int | None:
        return self._answers.get(question.key)

    def set_answer(self, question: Question, code: int) -> None:
        if code not in {o.code for o in question.options}:
            raise ValueError(f"{code!r} is not an answer to {question.instrument.code} item")
        self._answers[question.key] = code

    def option_label(self, question: Question, lang: str) -> str:
        code = self.answer(question)
        for option in question.options:
            if option.code == code:
                return option.label(lang)
        return ""

    @property
    def complete(self) -> bool:
        return all(q.key in self._answers for q in self.questions)

    def step_of(self, question: Question) -> int:
        return self.steps.index(question)

    def forms(self, language: str) -> tuple[FormAnswers, ...]:
        """The forms to save, one per questionnaire; raw codes in questionnaire order."""
        if not self.complete:
            raise ValueError("every question must be answered before the forms are saved")
        result = []
        for form, instrument in enumerate(self.instruments):
            answers = tuple(self._answers[(form, False, item.id)] for item in instrument.items)
            extras = tuple(
                (extra.id, self._answers[(form, True, extra.id)])
                for extra in instrument.extra_items
            )
            result.append(
                FormAnswers(
                    instrument=instrument.code,
                    answers=answers,
                    extra_answers=extras,
                    language=language,
                )
            )
        return tuple(result)

    def discard(self) -> None:
        self._answers.clear()
