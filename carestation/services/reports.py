"""The personal wellbeing report (个人心理健康评估报告): what a counsellor may print for a client,
numbered and audited, and the batch of reports for the clients seen on one day.

The data is the client's questionnaires rescored from the raw answers (never the answers
themselves, never a note or a crisis text). Every report gets its own number from a counter in
`carestation_meta`, taken under lock in the same transaction as its audit entry, so a number is
never given twice and never lost without a trace.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from carestation.assessments import LANGUAGES
from carestation.db import models as m
from carestation.domain.assessment_values import AssessmentRecord, InstrumentTrend
from carestation.domain.client_code import normalise_client_code
from carestation.domain.errors import Conflict, NotFound, ValidationError
from carestation.domain.report_values import InstrumentSection, PersonalReportData, ReportPoint
from carestation.domain.roles import Permission
from carestation.domain.values import Actor
from carestation.domain.vocab import AppointmentStatus, ConsentPurpose
from carestation.i18n import _
from carestation.services.assessment_forms import MOOD
from carestation.services.assessment_queries import client_records, may_read_client
from carestation.services.cases import RecordsService, Refusal, local
from carestation.services.consent_rules import active_consent, require_consent
from carestation.services.report_numbers import next_report_counter, report_number

ACTION = "print_personal_report"

# The one place that says which results call for a suggestion to book a follow-up. Bands at or
# above the usual screening cut-offs (PHQ-9 and GAD-7 10+, K10 22+, PSS-10 27+) and WHO-5 at 50%
# or less, where its authors advise further assessment.
FOLLOW_UP_BANDS: dict[str, frozenset[str]] = {
    "phq9": frozenset({"moderate", "moderately_severe", "severe"}),
    "gad7": frozenset({"moderate", "severe"}),
    "who5": frozenset({"likely_depression", "poor_wellbeing"}),
    "pss10": frozenset({"high"}),
    "k10": frozenset({"high", "very_high"}),
}
# Flags that call for a follow-up whatever the band: thoughts of death or self-harm (PHQ-9
# item 9), and a WHO-5 item answered 0 or 1 (its authors advise following that up too).
FOLLOW_UP_FLAGS: dict[str, frozenset[str]] = {
    "phq9": frozenset({"suicidal_ideation"}),
    "who5": frozenset({"item_score_le_1"}),
}


def follow_up_advised(instrument: str, band: str, flags: tuple[str, ...] | frozenset[str]) -> bool:
    return band in FOLLOW_UP_BANDS.get(instrument, frozenset()) or bool(
        FOLLOW_UP_FLAGS.get(instrument, frozenset()).intersection(flags)
    )


class ReportService(RecordsService):
    # --- one client ----------------------------------------------------------------------------

    def personal_report(
        self, actor: Actor, *, client_id: int, include_name: bool, lang: str
    ) -> PersonalReportData:
        """The data of one personal report, for a counsellor who may read the client's
        questionnaires (see may_read_client; station supervisors included) and a client whose
        consent to report printing is in force. Takes the next report number and audits it."""
        self.require(actor, Permission.GIVE_ASSESSMENTS, action=ACTION, ref=str(client_id))
        _check_language(lang)
        self.ensure_key()  # the audit entry is sealed with the key: fail before the transaction
        with self.guarded(actor), self.db.write() as session:
            client = session.get(m.Client, client_id)
            if client is None or client.erased_at is not None:
                raise NotFound(_("That client's record no longer exists."))
            if not may_read_client(session, actor.user_id, client_id):
                raise Refusal(ACTION, client.client_code)
            require_consent(session, client_id, ConsentPurpose.REPORT_PRINTING)
            station = self._station(session, actor)
            data = self._report(
                session,
                actor,
                client,
                station,
                include_name=include_name,
                lang=lang,
                issued_on=local(self.clock.now(), station.time_zone).date(),
            )
            if data is None:
                raise Conflict(
                    _(
                        "Client {code} has no questionnaires yet, so there is nothing to put in a "
                        "report. Give a questionnaire first."
                    ).format(code=client.client_code)
                )
        return data

    def find_client(self, actor: Actor, *, code: str) -> int:
        """The id of the client with this code (as typed: case, dashes and look-alike letters
        do not matter), for a counsellor who is about to print a report (scripting)."""
        self.require(actor, Permission.GIVE_ASSESSMENTS, action=ACTION, ref=code[:64])
        candidates = {code.strip(), normalise_client_code(code) or ""} - {""}
        with self.db.read() as session:
            client_id = session.scalar(
                select(m.Client.id).where(
                    m.Client.client_code.in_(candidates), m.Client.erased_at.is_(None)
                )
            )
        if client_id is None:
            raise NotFound(_("No client has the code {code}.").format(code=code.strip()))
        return client_id

    # --- a day's clients -----------------------------------------------------------------------

    def clients_seen_on(self, actor: Actor, *, day: date) -> list[tuple[int, str]]:
        """(client id, code) of the clients with a completed appointment that day (the station's
        local day) with this counsellor, or at the actor's station if they supervise it, who
        have a questionnaire and report-printing consent, in code order."""
        self.require(actor, Permission.GIVE_ASSESSMENTS, action=ACTION)
        with self.db.read() as session:
            return self._seen_on(session, actor, day)

    def personal_reports_for_day(
        self, actor: Actor, *, day: date, lang: str
    ) -> list[PersonalReportData]:
        """One report (client code only, never the name) for each client of clients_seen_on,
        each with its own number and audit entry, all in one transaction."""
        self.require(actor, Permission.GIVE_ASSESSMENTS, action=ACTION)
        _check_language(lang)
        self.ensure_key()
        reports: list[PersonalReportData] = []
        with self.db.write() as session:
            seen = self._seen_on(session, actor, day)
            if not seen:
                return []
            station = self._station(session, actor)
            issued_on = local(self.clock.now(), station.time_zone).date()
            for client_id, _code in seen:
                data = self._report(
                    session,
                    actor,
                    session.get_one(m.Client, client_id),
                    station,
                    include_name=False,
                    lang=lang,
                    issued_on=issued_on,
                )
                if data is not None:
                    reports.append(data)
        return reports

    # --- helpers -------------------------------------------------------------------------------

    @staticmethod
    def _station(session: Session, actor: Actor) -> m.Station:
        station = (
            session.get(m.Station, actor.station_id)
            if actor.station_id is not None and actor.station_id in actor.station_ids
            else None
        )
        if station is None:
            raise Conflict(
                _(
                    "A report carries the contact details of the station you work at. Sign in "
                    "at one of your stations to print it."
                )
            )
        return station

    def _seen_on(self, session: Session, actor: Actor, day: date) -> list[tuple[int, str]]:
        supervised = session.scalar(
            select(m.Station.id).where(
                m.Station.id == actor.station_id, m.Station.supervisor_id == actor.user_id
            )
        )
        whose = m.Appointment.counsellor_id == actor.user_id
        if supervised is not None:
            whose = whose | (m.Appointment.station_id == supervised)
        # Every time zone is within a day of UTC: take a window wide enough, then keep the rows
        # whose start falls on `day` in their own station's time.
        start = datetime.combine(day - timedelta(days=1), time(), UTC)
        rows = session.execute(
            select(
                m.Appointment.client_id,
                m.Client.client_code,
                m.Appointment.starts_at,
                m.Station.time_zone,
            )
            .join(m.Client, m.Client.id == m.Appointment.client_id)
            .join(m.Station, m.Station.id == m.Appointment.station_id)
            .where(
                whose,
                m.Appointment.status == AppointmentStatus.COMPLETED,
                m.Appointment.starts_at >= start,
                m.Appointment.starts_at < start + timedelta(days=3),
                m.Client.erased_at.is_(None),
                exists().where(
                    m.Assessment.client_id == m.Appointment.client_id,
                    m.Assessment.instrument != MOOD,
                ),
            )
        ).all()
        found: dict[int, str] = {}
        for client_id, code, starts_at, zone in rows:
            if client_id is None or client_id in found:
                continue
            if starts_at.astimezone(ZoneInfo(zone)).date() == day:
                found[client_id] = code
        return sorted(
            (
                (client_id, code)
                for client_id, code in found.items()
                if may_read_client(session, actor.user_id, client_id)
                and active_consent(session, client_id, ConsentPurpose.REPORT_PRINTING) is not None
            ),
            key=lambda pair: pair[1],
        )

    def _report(
        self,
        session: Session,
        actor: Actor,
        client: m.Client,
        station: m.Station,
        *,
        include_name: bool,
        lang: str,
        issued_on: date,
    ) -> PersonalReportData | None:
        """Builds one report, numbers it and audits it; None when there is nothing to report."""
        records, trends = client_records(session, client.id, answers_visible=False)
        sections = tuple(_section(t, records) for t in trends)
        if not sections:
            return None
        number = report_number(self._next_counter(session))
        self.audit.record(
            session,
            actor=actor,
            action=ACTION,
            object_type="client",
            object_ref=client.client_code,
            detail=f"{number}; {'name printed' if include_name else 'code only'}",
        )
        return PersonalReportData(
            report_number=number,
            lang=lang,
            station_name=station.name,
            station_address=station.address,
            station_phone=station.phone,
            client_code=client.client_code,
            client_name=client.name if include_name else None,
            counsellor_name=actor.display_name,
            issued_on=issued_on,
            sections=sections,
        )

    def _next_counter(self, session: Session) -> int:
        return next_report_counter(session, is_sqlite=self.db.is_sqlite)


def _check_language(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValidationError({"lang": _("Choose Chinese or English for the report.")})


def _section(trend: InstrumentTrend, records: list[AssessmentRecord]) -> InstrumentSection:
    latest_point = trend.points[-1]
    latest = next(r for r in records if r.id == latest_point.assessment_id)
    return InstrumentSection(
        instrument=trend.instrument,
        latest_total=latest_point.total,
        latest_value=latest_point.value,
        latest_band=latest_point.band,
        latest_on=latest_point.taken_at.date(),
        points=tuple(ReportPoint(taken_on=p.taken_at.date(), value=p.value) for p in trend.points),
        change=trend.change,
        follow_up_advised=follow_up_advised(trend.instrument, latest_point.band, latest.flags),
    )
