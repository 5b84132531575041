"""Screening campaigns (普测): a work unit's employees take questionnaires at the station's
self-service screen with one-time codes, and the employer's union gets counts only.

What links to what: a form a code unlocked carries the campaign, never the code; the code keeps
the day it was used, never by whom or with which result; the audit trail names the campaign, never
the code beside a result. Staff run campaigns at their stations; managers and administrators read
any campaign and its summary, never its codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, insert, select, true
from sqlalchemy.orm import Session

from carestation.assessments import load_instrument
from carestation.db import models as m
from carestation.db.engine import Database
from carestation.domain import campaign_codes
from carestation.domain.assessment_values import (
    BandDistribution,
    CampaignCodeCheck,
    CampaignInfo,
    CampaignInput,
    CampaignSummary,
    FormAnswers,
    RecordedForm,
    RecordedSession,
    risk_reasons,
)
from carestation.domain.errors import Conflict, NotFound, ValidationError
from carestation.domain.roles import Permission
from carestation.domain.suppression import HIDDEN_MARK, MIN_K, suppress
from carestation.domain.values import Actor
from carestation.domain.vocab import AssessmentMode
from carestation.i18n import _
from carestation.services.assessment_forms import check_forms, local_midnight, title
from carestation.services.audit import AuditLog
from carestation.services.campaign_notes import summary_notes
from carestation.services.campaign_rules import (
    campaign_infos,
    check_count,
    check_input,
    code_row,
    usable,
)
from carestation.services.cases import RecordsService, Refusal
from carestation.services.clock import Clock
from carestation.services.keys import KeyVault

DEFAULT_K = 10
_GENERATE_ATTEMPTS = 20


class AlertRaiser(Protocol):
    """What the campaign service needs of RiskAlertService."""

    def raise_alert(
        self,
        session: Session,
        *,
        station_id: int,
        mode: AssessmentMode,
        instrument: str,
        reason: str,
        client_id: int | None = None,
        assessment_id: int | None = None,
        crisis_flag_id: int | None = None,
        actor: Actor | None = None,
    ) -> int: ...


def _ref(campaign_id: int) -> str:
    return str(campaign_id)


class CampaignService(RecordsService):
    def __init__(
        self, db: Database, audit: AuditLog, clock: Clock, vault: KeyVault, alerts: AlertRaiser
    ) -> None:
        super().__init__(db, audit, clock, vault)
        self.alerts = alerts

    # --- helpers ---------------------------------------------------------------------------------

    def _today(self, zone: str) -> date:
        return self.clock.now().astimezone(ZoneInfo(zone)).date()

    @staticmethod
    def _zone(session: Session, station_id: int) -> str:
        return session.get_one(m.Station, station_id).time_zone

    def _info(self, session: Session, campaign_id: int) -> CampaignInfo:
        session.flush()
        found = campaign_infos(session, m.Campaign.id == campaign_id)
        if not found:
            raise NotFound(_("That screening campaign no longer exists."))
        return found[0]

    def _campaign(self, session: Session, campaign_id: int, *, lock: bool = False) -> m.Campaign:
        query = select(m.Campaign).where(m.Campaign.id == campaign_id)
        row = session.scalars(self.lock_query(query) if lock else query).first()
        if row is None:
            raise NotFound(_("That screening campaign no longer exists."))
        return row

    def _runs(self, actor: Actor, campaign: m.Campaign, action: str) -> None:
        """Refuses unless the actor runs campaigns at the campaign's station."""
        if not (actor.can(Permission.RUN_CAMPAIGNS) and campaign.station_id in actor.station_ids):
            raise Refusal(action, _ref(campaign.id))

    def _reads(self, actor: Actor, campaign: m.Campaign, action: str) -> None:
        if actor.can(Permission.VIEW_SUMMARY):
            return
        self._runs(actor, campaign, action)

    def _kiosk_station(self, actor: Actor, action: str) -> int:
        self.require(actor, Permission.RUN_KIOSK, action=action)
        if actor.station_id is None or actor.station_id not in actor.station_ids:
            self.deny(actor, action=action)
        assert actor.station_id is not None
        return actor.station_id

    def _changeable(self, session: Session, campaign: m.Campaign) -> None:
        if campaign.closed_at is not None:
            raise Conflict(_("This screening campaign is closed and can no longer be changed."))
        if campaign.ends_on < self._today(self._zone(session, campaign.station_id)):
            raise Conflict(
                _(
                    "This screening campaign ended on {date}; its codes can no longer be used. "
                    "Create a new campaign for another round."
                ).format(date=campaign.ends_on.isoformat())
            )

    # --- creating and issuing ----------------------------------------------------------------------

    def _add_codes(self, session: Session, campaign_id: int, count: int) -> None:
        """`count` new codes, none equal to any code ever issued."""
        made: set[str] = set()
        for _attempt in range(_GENERATE_ATTEMPTS):
            batch = {campaign_codes.generate() for _ in range(count - len(made))} - made
            taken = set(
                session.scalars(select(m.CampaignCode.code).where(m.CampaignCode.code.in_(batch)))
            )
            made |= batch - taken
            if len(made) == count:
                break
        else:  # pragma: no cover - 31^9 possible codes: never in practice
            raise Conflict(_("No free codes could be made just now; try again."))
        now = self.clock.now()
        session.execute(
            insert(m.CampaignCode),
            [{"campaign_id": campaign_id, "code": c, "issued_at": now} for c in sorted(made)],
        )

    def create(self, actor: Actor, *, data: CampaignInput) -> CampaignInfo:
        """A campaign at the actor's station, with its first codes."""
        self.require(actor, Permission.RUN_CAMPAIGNS, action="create_campaign")
        station_id = actor.station_id
        if station_id is None or station_id not in actor.station_ids:
            self.deny(actor, action="create_campaign")
        assert station_id is not None
        with self.db.write() as session:
            name, work_unit, instruments = check_input(
                data, self._today(self._zone(session, station_id))
            )
            row = m.Campaign(
                station_id=station_id,
                name=name,
                work_unit=work_unit,
                instruments=instruments,
                starts_on=data.starts_on,
                ends_on=data.ends_on,
                created_at=self.clock.now(),
                created_by=actor.user_id,
                version=1,
            )
            session.add(row)
            session.flush()
            self._add_codes(session, row.id, data.codes)
            self.audit.record(
                session,
                actor=actor,
                action="create_campaign",
                object_type="campaign",
                object_ref=_ref(row.id),
                detail=f"{data.codes} codes; {','.join(instruments)}",
            )
            return self._info(session, row.id)

    def issue_codes(self, actor: Actor, *, campaign_id: int, count: int) -> CampaignInfo:
        self.require(actor, Permission.RUN_CAMPAIGNS, action="issue_campaign_codes")
        count = check_count(count)
        with self.guarded(actor), self.db.write() as session:
            campaign = self._campaign(session, campaign_id, lock=True)
            self._runs(actor, campaign, "issue_campaign_codes")
            self._changeable(session, campaign)
            self._add_codes(session, campaign.id, count)
            campaign.version += 1
            self.audit.record(
                session,
                actor=actor,
                action="issue_campaign_codes",
                object_type="campaign",
                object_ref=_ref(campaign.id),
                detail=f"{count} codes",
            )
            return self._info(session, campaign.id)

    # --- reading -----------------------------------------------------------------------------------

    def list_campaigns(self, actor: Actor) -> list[CampaignInfo]:
        """Staff: the campaigns of their stations; managers and administrators: all."""
        if actor.can(Permission.VIEW_SUMMARY):
            condition: ColumnElement[bool] = true()
        elif actor.can(Permission.RUN_CAMPAIGNS):
            condition = m.Campaign.station_id.in_(actor.station_ids)
        else:
            self.deny(actor, action="list_campaigns")
        with self.db.read() as session:
            return campaign_infos(session, condition)

    def get(self, actor: Actor, *, campaign_id: int) -> CampaignInfo:
        with self.guarded(actor), self.db.read() as session:
            self._reads(actor, self._campaign(session, campaign_id), "view_campaign")
            return self._info(session, campaign_id)

    def unused_codes(self, actor: Actor, *, campaign_id: int) -> list[str]:
        """The codes not used yet, as printed (K7QF-3MXA-PW), in the order they were issued."""
        self.require(actor, Permission.RUN_CAMPAIGNS, action="print_campaign_codes")
        with self.guarded(actor), self.db.write() as session:
            campaign = self._campaign(session, campaign_id)
            self._runs(actor, campaign, "print_campaign_codes")
            self._changeable(session, campaign)
            codes = list(
                session.scalars(
                    select(m.CampaignCode.code)
                    .where(
                        m.CampaignCode.campaign_id == campaign_id,
                        m.CampaignCode.used_on.is_(None),
                    )
                    .order_by(m.CampaignCode.id)
                )
            )
            self.audit.record(
                session,
                actor=actor,
                action="print_campaign_codes",
                object_type="campaign",
                object_ref=_ref(campaign_id),
                detail=f"{len(codes)} codes",
            )
        return [campaign_codes.display(c) for c in codes]

    def close(self, actor: Actor, *, campaign_id: int, version: int) -> CampaignInfo:
        """Ends the campaign early: its unused codes stop working; the summary stays."""
        self.require(actor, Permission.RUN_CAMPAIGNS, action="close_campaign")
        with self.guarded(actor), self.db.write() as session:
            campaign = self._campaign(session, campaign_id, lock=True)
            self._runs(actor, campaign, "close_campaign")
            if campaign.closed_at is not None:
                raise Conflict(_("This screening campaign is already closed."))
            if campaign.version != version:
                raise Conflict(
                    _(
                        "Someone changed this campaign a moment ago (perhaps in another window). "
                        "Look at it again, then close it."
                    )
                )
            campaign.closed_at = self.clock.now()
            campaign.version += 1
            self.audit.record(
                session,
                actor=actor,
                action="close_campaign",
                object_type="campaign",
                object_ref=_ref(campaign.id),
            )
            return self._info(session, campaign.id)

    # --- the self-service screen ---------------------------------------------------------------

    @staticmethod
    def _check(code: str, campaign: m.Campaign) -> CampaignCodeCheck:
        return CampaignCodeCheck(
            code=campaign_codes.display(code),
            campaign_id=campaign.id,
            campaign_name=campaign.name,
            instruments=tuple(campaign.instruments),
        )

    def check_code(self, actor: Actor, *, code: str) -> CampaignCodeCheck:
        """Whether a typed code may be used now, and which questionnaires it unlocks."""
        self._kiosk_station(actor, "use_campaign_code")
        parsed = campaign_codes.parse(code)
        with self.db.read() as session:
            row = code_row(session, parsed)
            campaign, _zone = usable(session, row, actor, self._today)
            return self._check(parsed, campaign)

    def record(self, actor: Actor, *, code: str, forms: Sequence[FormAnswers]) -> RecordedSession:
        """Saves a campaign session: all of the campaign's questionnaires, in its order, with
        the campaign only (no code, no person, the day only), and marks the code used."""
        station_id = self._kiosk_station(actor, "use_campaign_code")
        parsed = campaign_codes.parse(code)
        checked = check_forms(forms)
        with self.db.write() as session:
            row = code_row(session, parsed, lock_query=self.lock_query)
            campaign, zone = usable(session, row, actor, self._today)
            if [c.instrument.code for c in checked] != list(campaign.instruments):
                names = ", ".join(title(load_instrument(i)) for i in campaign.instruments)
                raise ValidationError(
                    {
                        "forms": _(
                            "This screening asks these questionnaires, in this order: {names}. "
                            "Answer each of them before saving."
                        ).format(names=names)
                    }
                )
            now = self.clock.now()
            taken_at = local_midnight(now, self._zone(session, station_id))
            saved: list[RecordedForm] = []
            for form in checked:
                result = form.score
                session.add(
                    m.Assessment(
                        client_id=None,
                        station_id=station_id,
                        instrument=result.instrument,
                        instrument_version=result.version,
                        answers=list(form.answers),
                        extra_answers=form.extra_answers,
                        language=form.language,
                        total=result.total,
                        band=result.band,
                        mode=AssessmentMode.ANONYMOUS,
                        taken_at=taken_at,
                        administered_by=None,
                        campaign_id=campaign.id,
                    )
                )
                reasons = risk_reasons(result)
                alert_id = None
                for reason in reasons:
                    raised = self.alerts.raise_alert(
                        session,
                        station_id=station_id,
                        mode=AssessmentMode.ANONYMOUS,
                        instrument=result.instrument,
                        reason=reason,
                        actor=actor,
                    )
                    alert_id = alert_id or raised
                saved.append(
                    RecordedForm(
                        score=result, assessment_id=None, risk_reasons=reasons, alert_id=alert_id
                    )
                )
            row.used_on = self._today(zone)
            self.audit.record(
                session,
                actor=actor,
                action="use_campaign_code",
                object_type="campaign",
                object_ref=_ref(campaign.id),
            )
        return RecordedSession(forms=tuple(saved))

    def request_follow_up(self, actor: Actor, *, code: str) -> CampaignCodeCheck:
        """The holder of a used code asked for a follow-up talk; staff then book it as usual."""
        self.require(actor, Permission.BOOK_AT_STATION, action="request_campaign_follow_up")
        parsed = campaign_codes.parse(code)
        with self.db.write() as session:
            row = code_row(session, parsed, lock_query=self.lock_query)
            campaign = session.get_one(m.Campaign, row.campaign_id)
            station = session.get_one(m.Station, campaign.station_id)
            if campaign.station_id not in actor.station_ids:
                raise Conflict(
                    _(
                        "This code is from a screening run by {station}; the follow-up is "
                        "arranged there."
                    ).format(station=station.name)
                )
            if row.used_on is None:
                raise Conflict(
                    _(
                        "This code has not been used yet. A follow-up is offered after the "
                        "questionnaires: ask the person to take them on the self-service screen "
                        "first, or book a talk without the code."
                    )
                )
            if row.follow_up_at is not None:
                raise Conflict(
                    _(
                        "A follow-up for this code was already recorded on {date}. Look for the "
                        "booking made then, or book a talk without the code."
                    ).format(
                        date=f"{row.follow_up_at.astimezone(ZoneInfo(station.time_zone)):%Y-%m-%d}"
                    )
                )
            row.follow_up_at = self.clock.now()
            row.follow_up_by = actor.user_id
            self.audit.record(
                session,
                actor=actor,
                action="request_campaign_follow_up",
                object_type="campaign",
                object_ref=_ref(campaign.id),
            )
            return self._check(parsed, campaign)

    # --- the summary ----------------------------------------------------------------------------

    def summary(self, actor: Actor, *, campaign_id: int, k: int = DEFAULT_K) -> CampaignSummary:
        """Band counts per questionnaire, small numbers suppressed; never a single result."""
        if isinstance(k, bool) or not isinstance(k, int) or k < MIN_K:
            raise ValidationError(
                {"k": _("Hide numbers below {k} at least (5 or more).").format(k=MIN_K)}
            )
        with self.guarded(actor), self.db.read() as session:
            campaign = self._campaign(session, campaign_id)
            self._reads(actor, campaign, "view_campaign_summary")
            info = self._info(session, campaign_id)
            counts: dict[str, dict[str, int]] = {}
            for instrument, band, n in session.execute(
                select(m.Assessment.instrument, m.Assessment.band, func.count())
                .where(m.Assessment.campaign_id == campaign_id)
                .group_by(m.Assessment.instrument, m.Assessment.band)
            ):
                counts.setdefault(instrument, {})[band] = int(n)
            zone = self._zone(session, campaign.station_id)
        _cells, participants = suppress({"used": info.used}, ["used"], k=k)
        distributions = []
        for instrument in info.instruments:
            order = [b.slug for b in load_instrument(instrument).bands]
            cells, total = suppress(counts.get(instrument, {}), order, k=k)
            distributions.append(BandDistribution(instrument=instrument, cells=cells, total=total))
        hidden_used = any(c.shown == HIDDEN_MARK for d in distributions for c in d.cells)
        self.audit.record_now(
            actor=actor,
            action="view_campaign_summary",
            object_type="campaign",
            object_ref=_ref(campaign_id),
            detail=f"k={k}",
        )
        return CampaignSummary(
            campaign=info,
            k=k,
            participants=participants,
            distributions=tuple(distributions),
            generated_at=self.clock.now().astimezone(ZoneInfo(zone)),
            notes=summary_notes(instruments=info.instruments, k=k, hidden_mark_used=hidden_used),
        )
