"""Assessments (心理测评): questionnaires given by a counsellor in a session, taken on the
station's self-service screen by a client or by an anonymous visitor, and the emotion pod's
before/after distress rating; who may read a client's results and trends; band statistics.

Every form is validated and scored exactly before the transaction starts; a form that means the
person may be at risk raises a risk alert (and, for an identified client, a crisis flag) in the
same transaction. Anonymous forms keep the day only and nothing that leads back to a person.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from carestation.assessments import load_instrument
from carestation.db import models as m
from carestation.db.engine import Database
from carestation.domain.assessment_values import (
    AnonymousProfile,
    BandDistributionRow,
    ClientAssessments,
    FormAnswers,
    PodRatings,
    RecordedForm,
    RecordedSession,
    risk_reasons,
)
from carestation.domain.errors import Conflict, NotFound, ValidationError
from carestation.domain.roles import Permission
from carestation.domain.values import Actor
from carestation.domain.vocab import (
    AppointmentStatus,
    AppointmentType,
    AssessmentMode,
    CaseStatus,
    ConsentPurpose,
    PodPhase,
)
from carestation.i18n import _
from carestation.services.assessment_forms import (
    MOOD,
    CheckedForm,
    check_form,
    check_forms,
    check_mood,
    check_profile,
    local_midnight,
)
from carestation.services.assessment_queries import client_records, may_read_client, pod_ratings_of
from carestation.services.assessment_stats import band_rows
from carestation.services.audit import AuditLog
from carestation.services.cases import RecordsService, Refusal, may_see_item_answers
from carestation.services.clock import Clock
from carestation.services.consent_rules import require_consent
from carestation.services.crisis import CrisisService
from carestation.services.keys import KeyVault
from carestation.services.risk_alerts import RiskAlertService


class AssessmentService(RecordsService):
    def __init__(
        self,
        db: Database,
        audit: AuditLog,
        clock: Clock,
        vault: KeyVault,
        crisis: CrisisService,
        alerts: RiskAlertService,
    ) -> None:
        super().__init__(db, audit, clock, vault)
        self.crisis = crisis
        self.alerts = alerts

    # --- shared checks -----------------------------------------------------------------------

    def _kiosk_station(self, actor: Actor, action: str, ref: str = "") -> int:
        """The station of this session, if the actor may run its self-service screen there."""
        self.require(actor, Permission.RUN_KIOSK, action=action, ref=ref)
        station = actor.station_id
        if station is None or station not in actor.station_ids:
            self.deny(actor, action=action, ref=ref)
        assert station is not None
        return station

    @staticmethod
    def _client(session: Session, client_id: int, *, lock: bool = False) -> m.Client:
        client = session.get(m.Client, client_id, with_for_update=lock or None)
        if client is None:
            raise NotFound(_("That client's record no longer exists."))
        if client.erased_at is not None:
            raise Conflict(
                _(
                    "This client's record was erased at their request; no questionnaire can be "
                    "saved for it. Register the person again if they come back."
                )
            )
        return client

    def _save(
        self,
        session: Session,
        actor: Actor,
        checked: CheckedForm,
        *,
        mode: AssessmentMode,
        station_id: int,
        client: m.Client | None,
        case_id: int | None = None,
        appointment_id: int | None = None,
        profile: AnonymousProfile | None = None,
    ) -> RecordedForm:
        """Stores one checked form with its risk alert (and crisis flag), and audits it."""
        result = checked.score
        now = self.clock.now()
        anonymous = client is None
        if anonymous:
            zone = session.get_one(m.Station, station_id).time_zone
            taken_at = local_midnight(now, zone)
        else:
            taken_at = now
        row = m.Assessment(
            client_id=None if client is None else client.id,
            case_id=case_id,
            appointment_id=appointment_id,
            station_id=station_id,
            instrument=result.instrument,
            instrument_version=result.version,
            answers=list(checked.answers),
            extra_answers=checked.extra_answers,
            language=checked.language,
            total=result.total,
            band=result.band,
            mode=mode,
            taken_at=taken_at,
            administered_by=actor.user_id if mode is AssessmentMode.COUNSELLOR else None,
            age_band=profile.age_band if profile else None,
            respondent_gender=profile.gender if profile else None,
            industry=profile.industry if profile else None,
        )
        session.add(row)
        session.flush()
        if client is None:
            self.audit.record(
                session,
                actor=actor,
                action="record_assessment",
                object_type="station",
                object_ref=str(station_id),
                detail=f"anonymous {result.instrument}",
            )
        else:
            self.audit.record(
                session,
                actor=actor,
                action="record_assessment",
                object_type="client",
                object_ref=client.client_code,
                detail=f"assessment {row.id}; {result.instrument}; {mode.value}",
            )
        reasons = risk_reasons(result)
        if not reasons:
            return RecordedForm(score=result, assessment_id=None if anonymous else row.id)
        flag_id: int | None = None
        if client is not None:
            flag = self.crisis.raise_from_assessment(
                session,
                client_id=client.id,
                station_id=station_id,
                assessment_id=row.id,
                reason_key=reasons[0],
                actor=actor,
            )
            flag_id = flag.id
        alert_id = self.alerts.raise_alert(
            session,
            station_id=station_id,
            mode=mode,
            instrument=result.instrument,
            reason=reasons[0],
            client_id=None if client is None else client.id,
            assessment_id=None if anonymous else row.id,
            crisis_flag_id=flag_id,
            actor=actor,
        )
        return RecordedForm(
            score=result,
            assessment_id=None if anonymous else row.id,
            risk_reasons=reasons,
            alert_id=alert_id,
            crisis_flag_id=flag_id,
        )

    # --- a counsellor in a session -----------------------------------------------------------

    def record_in_session(
        self,
        actor: Actor,
        *,
        client_id: int,
        form: FormAnswers,
        case_id: int | None = None,
        appointment_id: int | None = None,
    ) -> RecordedForm:
        """A questionnaire the counsellor gives in a session, linked to the client's case and
        appointment if given. Needs the client's assessment consent in force."""
        self.require(
            actor, Permission.GIVE_ASSESSMENTS, action="record_assessment", ref=str(client_id)
        )
        checked = check_form(form)
        self.ensure_key()
        with self.guarded(actor), self.db.write() as session:
            client = self._client(session, client_id, lock=True)
            station_id = actor.station_id
            if case_id is not None:
                case = session.get(m.Case, case_id)
                if case is None or case.client_id != client_id:
                    raise ValidationError(
                        {"case": _("That case is not this client's. Choose one of their cases.")}
                    )
                if case.status is not CaseStatus.OPEN:
                    raise ValidationError(
                        {
                            "case": _(
                                "That case is closed. Save the questionnaire without a case, or "
                                "open a new case first."
                            )
                        }
                    )
            if appointment_id is not None:
                appointment = session.get(m.Appointment, appointment_id)
                if appointment is None or appointment.client_id != client_id:
                    raise ValidationError(
                        {
                            "appointment": _(
                                "That appointment is not this client's. Choose one of their "
                                "appointments."
                            )
                        }
                    )
                if appointment.status is AppointmentStatus.CANCELLED:
                    raise ValidationError(
                        {
                            "appointment": _(
                                "That appointment was cancelled; link the questionnaire to the "
                                "session in which it was given."
                            )
                        }
                    )
                station_id = appointment.station_id
            if station_id is None or station_id not in actor.station_ids:
                raise Refusal("record_assessment", client.client_code)
            require_consent(session, client_id, ConsentPurpose.ASSESSMENT)
            return self._save(
                session,
                actor,
                checked,
                mode=AssessmentMode.COUNSELLOR,
                station_id=station_id,
                client=client,
                case_id=case_id,
                appointment_id=appointment_id,
            )

    # --- the self-service screen -------------------------------------------------------------

    def check_kiosk_client(self, actor: Actor, *, client_id: int) -> None:
        """Before the screen is handed to a client: the record exists and the assessment
        consent is in force, so nobody is turned away after answering."""
        self._kiosk_station(actor, "start_kiosk", str(client_id))
        with self.db.read() as session:
            self._client(session, client_id)
            require_consent(session, client_id, ConsentPurpose.ASSESSMENT)

    def record_kiosk_for_client(
        self, actor: Actor, *, client_id: int, forms: Sequence[FormAnswers]
    ) -> RecordedSession:
        """Every form the client completed on the screen, in one transaction."""
        station_id = self._kiosk_station(actor, "record_assessment", str(client_id))
        checked = check_forms(forms)
        self.ensure_key()
        with self.guarded(actor), self.db.write() as session:
            client = self._client(session, client_id, lock=True)
            require_consent(session, client_id, ConsentPurpose.ASSESSMENT)
            saved = tuple(
                self._save(
                    session,
                    actor,
                    c,
                    mode=AssessmentMode.KIOSK,
                    station_id=station_id,
                    client=client,
                )
                for c in checked
            )
        return RecordedSession(forms=saved)

    def record_anonymous(
        self, actor: Actor, *, forms: Sequence[FormAnswers], profile: AnonymousProfile
    ) -> RecordedSession:
        """An anonymous visitor's forms at this session's station: the day only, no client, no
        administrator; an alert for a result at risk names the station and time only."""
        station_id = self._kiosk_station(actor, "record_assessment")
        checked = check_forms(forms)
        chosen = check_profile(profile)
        with self.db.write() as session:
            saved = tuple(
                self._save(
                    session,
                    actor,
                    c,
                    mode=AssessmentMode.ANONYMOUS,
                    station_id=station_id,
                    client=None,
                    profile=chosen,
                )
                for c in checked
            )
        return RecordedSession(forms=saved)

    # --- the emotion pod ---------------------------------------------------------------------

    def _pod(
        self, session: Session, actor: Actor, appointment_id: int, action: str
    ) -> m.Appointment:
        appointment = session.scalars(
            self.lock_query(select(m.Appointment).where(m.Appointment.id == appointment_id))
        ).first()
        if appointment is None:
            raise NotFound(_("That booking no longer exists."))
        if appointment.station_id not in actor.station_ids:
            raise Refusal(action, f"appointment {appointment_id}")
        if appointment.type is not AppointmentType.POD:
            raise ValidationError(
                {
                    "appointment": _(
                        "Distress ratings are taken with emotion-pod bookings only; this booking "
                        "is another kind."
                    )
                }
            )
        return appointment

    def _may_rate(self, actor: Actor, action: str, ref: str) -> None:
        if not (actor.can(Permission.RUN_KIOSK) or actor.can(Permission.BOOK_AT_STATION)):
            self.deny(actor, action=action, ref=ref)

    def record_pod_rating(
        self, actor: Actor, *, appointment_id: int, phase: PodPhase, value: int
    ) -> PodRatings:
        """The 0-10 distress rating before or after a pod session; a second rating for the same
        phase replaces the first. Stored with the client when the booking has one (which then
        needs the client's assessment consent)."""
        ref = f"appointment {appointment_id}"
        self._may_rate(actor, "record_pod_rating", ref)
        try:
            chosen = PodPhase(phase)
        except ValueError as exc:
            raise ValidationError(
                {"phase": _("Say whether the rating was taken before or after the session.")}
            ) from exc
        result = check_mood(value)
        with self.guarded(actor), self.db.write() as session:
            appointment = self._pod(session, actor, appointment_id, "record_pod_rating")
            if appointment.status is AppointmentStatus.CANCELLED:
                raise Conflict(
                    _("This pod booking was cancelled; no rating can be recorded for it.")
                )
            if appointment.client_id is not None:
                self._client(session, appointment.client_id)
                require_consent(session, appointment.client_id, ConsentPurpose.ASSESSMENT)
            existing = session.scalars(
                select(m.Assessment).where(
                    m.Assessment.appointment_id == appointment_id,
                    m.Assessment.instrument == MOOD,
                    m.Assessment.phase == chosen,
                )
            ).first()
            if existing is None:
                existing = m.Assessment(
                    appointment_id=appointment_id,
                    station_id=appointment.station_id,
                    instrument=MOOD,
                    mode=AssessmentMode.KIOSK,
                    phase=chosen,
                )
                session.add(existing)
            existing.client_id = appointment.client_id
            existing.instrument_version = result.version
            existing.answers = [result.total]
            existing.total = result.total
            existing.band = result.band
            existing.taken_at = self.clock.now()
            session.flush()
            self.audit.record(
                session,
                actor=actor,
                action="record_pod_rating",
                object_type="appointment",
                object_ref=str(appointment_id),
                detail=chosen.value,
            )
            return pod_ratings_of(session, appointment_id)

    def pod_ratings(self, actor: Actor, *, appointment_id: int) -> PodRatings:
        ref = f"appointment {appointment_id}"
        self._may_rate(actor, "view_pod_ratings", ref)
        with self.guarded(actor), self.db.read() as session:
            self._pod(session, actor, appointment_id, "view_pod_ratings")
            ratings = pod_ratings_of(session, appointment_id)
        self.audit.record_now(
            actor=actor,
            action="view_pod_ratings",
            object_type="appointment",
            object_ref=str(appointment_id),
        )
        return ratings

    # --- reading -----------------------------------------------------------------------------

    def client_assessments(self, actor: Actor, *, client_id: int) -> ClientAssessments:
        """The client's forms and trends, for a counsellor who has or had a case, an appointment
        or a form with the client, or supervises a station where the client has a case. Mind
        mentors see totals and bands, not the answers."""
        self.require(
            actor, Permission.GIVE_ASSESSMENTS, action="view_assessments", ref=str(client_id)
        )
        with self.guarded(actor), self.db.read() as session:
            code = session.scalar(select(m.Client.client_code).where(m.Client.id == client_id))
            if code is None:
                raise NotFound(_("That client's record no longer exists."))
            if not may_read_client(session, actor.user_id, client_id):
                raise Refusal("view_assessments", code)
            visible = may_see_item_answers(session, actor)
            records, trends = client_records(session, client_id, answers_visible=visible)
        self.audit.record_now(
            actor=actor, action="view_assessments", object_type="client", object_ref=code
        )
        return ClientAssessments(
            client_id=client_id,
            client_code=code,
            records=tuple(records),
            trends=tuple(trends),
            answers_visible=visible,
        )

    def band_distribution(
        self,
        actor: Actor,
        *,
        first_month: date,
        last_month: date,
        station_ids: Sequence[int] | None = None,
        instruments: Sequence[str] | None = None,
    ) -> list[BandDistributionRow]:
        """How many forms fell in each band, by station, station-local month and instrument,
        counted by the database. No suppression here: the reports apply it."""
        self.require(actor, Permission.VIEW_SUMMARY, action="view_band_distribution")
        if last_month < first_month:
            raise ValidationError({"period": _("The period ends before it starts.")})
        codes: list[str] | None = None
        if instruments is not None:
            try:
                codes = [load_instrument(code).code for code in instruments]
            except ValueError as exc:
                raise ValidationError(
                    {"instruments": _("Choose the questionnaires from the list.")}
                ) from exc
        with self.db.read() as session:
            rows = band_rows(
                session,
                is_sqlite=self.db.is_sqlite,
                first_month=first_month,
                last_month=last_month,
                station_ids=station_ids,
                instruments=codes,
            )
        self.audit.record_now(
            actor=actor,
            action="view_band_distribution",
            detail=f"{first_month:%Y-%m}..{last_month:%Y-%m}",
        )
        return rows
