"""Fake assessment services and realistic results for the assessment UI tests (and screenshots):
they return the contract's dataclasses, scored with the real scoring code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from carestation.assessments import is_caseness, load_instrument, reliable_change, score
from carestation.domain.assessment_values import (
    AssessmentRecord,
    ClientAssessments,
    FormAnswers,
    InstrumentTrend,
    PodRatings,
    RecordedForm,
    TrendPoint,
    risk_reasons,
)
from carestation.domain.errors import ValidationError
from carestation.domain.values import Actor
from carestation.domain.vocab import AssessmentMode, PodPhase

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)


@dataclass
class FakeAssessments:
    """Stands in for AssessmentService: records calls, scores with the real rules."""

    refuse: str = ""  # a ValidationError message to raise instead of saving
    crisis_flag: bool = True
    calls: list[dict[str, object]] = field(default_factory=list)
    data: ClientAssessments | None = None
    ratings: dict[int, PodRatings] = field(default_factory=dict)

    def record_in_session(
        self,
        actor: Actor,
        *,
        client_id: int,
        form: FormAnswers,
        case_id: int | None = None,
        appointment_id: int | None = None,
    ) -> RecordedForm:
        self.calls.append(
            {
                "actor": actor,
                "client_id": client_id,
                "form": form,
                "case_id": case_id,
                "appointment_id": appointment_id,
            }
        )
        if self.refuse:
            raise ValidationError({"form": self.refuse})
        result = score(
            form.instrument, form.answers, missing="prorate" if form.prorate else "reject"
        )
        reasons = risk_reasons(result)
        return RecordedForm(
            score=result,
            assessment_id=41,
            risk_reasons=reasons,
            alert_id=7 if reasons else None,
            crisis_flag_id=9 if reasons and self.crisis_flag else None,
        )

    def client_assessments(self, actor: Actor, *, client_id: int) -> ClientAssessments:
        self.calls.append({"client_id": client_id})
        assert self.data is not None
        return self.data

    def record_pod_rating(
        self, actor: Actor, *, appointment_id: int, phase: PodPhase, value: int
    ) -> PodRatings:
        self.calls.append({"appointment_id": appointment_id, "phase": phase, "value": value})
        if self.refuse:
            raise ValidationError({"value": self.refuse})
        old = self.ratings.get(appointment_id, PodRatings(appointment_id, None, None))
        new = (
            PodRatings(appointment_id, value, old.after)
            if phase is PodPhase.BEFORE
            else PodRatings(appointment_id, old.before, value)
        )
        self.ratings[appointment_id] = new
        return new

    def pod_ratings(self, actor: Actor, *, appointment_id: int) -> PodRatings:
        return self.ratings.get(appointment_id, PodRatings(appointment_id, None, None))


def client_results(
    series: Mapping[str, Sequence[Sequence[int | None]]],
    *,
    answers_visible: bool = True,
    every: timedelta = timedelta(days=21),
) -> ClientAssessments:
    """A client's results: for each instrument its forms (raw answers) taken `every` apart."""
    records: list[AssessmentRecord] = []
    trends: list[InstrumentTrend] = []
    next_id = 1
    for code, forms in series.items():
        instrument = load_instrument(code)
        points = []
        for n, answers in enumerate(forms):
            result = score(code, list(answers), missing="prorate" if None in answers else "reject")
            taken = START + n * every + timedelta(hours=len(records) % 5)
            records.append(
                AssessmentRecord(
                    id=next_id,
                    instrument=code,
                    instrument_version=result.version,
                    taken_at=taken,
                    mode=AssessmentMode.COUNSELLOR if n % 2 == 0 else AssessmentMode.KIOSK,
                    total=result.total,
                    band=result.band,
                    percent=result.percent,
                    flags=result.flags,
                    prorated=result.prorated,
                    answers=tuple(answers) if answers_visible else None,
                    extra_answers=(("10", 1),) if answers_visible and code == "phq9" else None,
                    language="zh_CN",
                    station_name="诸暨市职工情绪管理服务站",
                    administered_by_name="陈静",
                )
            )
            value = result.percent if result.percent is not None else result.total
            points.append(TrendPoint(next_id, taken, result.total, value, result.band))
            next_id += 1
        change = recovered = None
        if instrument.reliable_change is not None and len(points) > 1:
            change = reliable_change(code, points[0].value, points[-1].value)
        if instrument.caseness is not None and is_caseness(code, points[0].total):
            recovered = not is_caseness(code, points[-1].total)
        trends.append(InstrumentTrend(code, tuple(points), change, recovered))
    records.sort(key=lambda r: r.taken_at, reverse=True)
    return ClientAssessments(
        client_id=5,
        client_code="C-000123",
        records=tuple(records),
        trends=tuple(trends),
        answers_visible=answers_visible,
    )


def spread(total: int, items: int, top: int) -> list[int]:
    """Answers of `items` questions coded 0..top adding up to `total` (as evenly as possible)."""
    base, extra = divmod(total, items)
    answers = [base + (1 if i < extra else 0) for i in range(items)]
    assert max(answers) <= top
    return answers


def realistic() -> ClientAssessments:
    """About twenty results over six months: a PHQ-9 recovery, GAD-7 unchanged, WHO-5 rising."""
    return client_results(
        {
            "phq9": [[*spread(t, 8, 3), 0] for t in (17, 15, 12, 11, 9, 8, 6, 5)],
            "gad7": [spread(t, 7, 3) for t in (12, 11, 11, 10, 9, 9)],
            "who5": [spread(t, 5, 5) for t in (7, 9, 12, 14, 17)],
            "pss10": [[2, 3, 3, 1, 1, 3, 1, 2, 3, 3], [2, 2, 2, 2, 2, 2, 2, 2, 2, 2]],
        }
    )
