"""All services over one database, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from carestation.db.engine import Database
from carestation.services.admin import AdminService
from carestation.services.appointments import AppointmentQueries
from carestation.services.assessments import AssessmentService
from carestation.services.audit import AuditLog
from carestation.services.audit_queries import AuditQueries
from carestation.services.auth import AuthService
from carestation.services.backups import BackupService
from carestation.services.booking import BookingService
from carestation.services.calendar_export import CalendarExport
from carestation.services.campaigns import CampaignService
from carestation.services.cases import CaseService
from carestation.services.client_rights import ClientRightsService
from carestation.services.clients import ClientService
from carestation.services.clock import Clock, SystemClock
from carestation.services.consent import ConsentService
from carestation.services.crisis import CrisisService
from carestation.services.disclosures import DisclosureService
from carestation.services.key_admin import KeyAdminService
from carestation.services.keys import KeyVault
from carestation.services.lectures import LectureService
from carestation.services.notes import NoteService
from carestation.services.print_log import PrintLog
from carestation.services.reports import ReportService
from carestation.services.retention import RetentionService
from carestation.services.risk_alerts import RiskAlertService
from carestation.services.schedule_admin import ScheduleAdminService
from carestation.services.schedule_queries import ScheduleQueries
from carestation.services.setup import SetupService
from carestation.services.station_records import StationRecordsService
from carestation.services.summary_report import SummaryReportService
from carestation.services.waitlist import WaitlistService


@dataclass(frozen=True)
class Services:
    db: Database
    vault: KeyVault
    audit: AuditLog
    audit_queries: AuditQueries
    auth: AuthService
    setup: SetupService
    admin: AdminService
    appointments: AppointmentQueries
    booking: BookingService
    schedule: ScheduleQueries
    clients: ClientService
    waitlist: WaitlistService
    lectures: LectureService
    schedule_admin: ScheduleAdminService
    calendar_export: CalendarExport
    print_log: PrintLog
    keys: KeyAdminService
    backups: BackupService
    crisis: CrisisService
    cases: CaseService
    notes: NoteService
    consent: ConsentService
    rights: ClientRightsService
    disclosures: DisclosureService
    retention: RetentionService
    station_records: StationRecordsService
    risk_alerts: RiskAlertService
    assessments: AssessmentService
    campaigns: CampaignService
    reports: ReportService
    summary_report: SummaryReportService


def build_services(
    db: Database, clock: Clock | None = None, *, vault: KeyVault | None = None
) -> Services:
    """`vault`: the app passes one over the OS keyring (or a passphrase). Without one, a key is
    made on first use and held only in memory: for tests and benchmarks, never for real data."""
    from carestation.security.secret_store import MemorySecretStore

    clock = clock or SystemClock()
    if vault is None:
        vault = KeyVault(db, MemorySecretStore(), clock=clock, auto_create=True)
        vault.prepare()
    audit = AuditLog(db, clock, vault)
    booking = BookingService(db, audit, clock)
    crisis = CrisisService(db, audit, clock, vault)
    risk_alerts = RiskAlertService(db, audit, clock, vault)
    return Services(
        db=db,
        vault=vault,
        audit=audit,
        audit_queries=AuditQueries(db, audit, clock),
        auth=AuthService(db, audit, clock),
        setup=SetupService(db, audit, clock, vault),
        admin=AdminService(db, audit, clock),
        appointments=AppointmentQueries(db, audit, clock),
        booking=booking,
        schedule=ScheduleQueries(db, audit, clock),
        clients=ClientService(db, audit, clock),
        waitlist=WaitlistService(booking),
        lectures=LectureService(db, audit, clock),
        schedule_admin=ScheduleAdminService(db, audit, clock),
        calendar_export=CalendarExport(db, audit, clock),
        print_log=PrintLog(db, audit, clock),
        keys=KeyAdminService(db, audit, clock, vault),
        backups=BackupService(db, audit, clock, vault),
        crisis=crisis,
        cases=CaseService(db, audit, clock, vault),
        notes=NoteService(db, audit, clock, vault),
        consent=ConsentService(db, audit, clock, vault),
        rights=ClientRightsService(db, audit, clock, vault),
        disclosures=DisclosureService(db, audit, clock, vault),
        retention=RetentionService(db, audit, clock, vault),
        station_records=StationRecordsService(db, audit, clock),
        risk_alerts=risk_alerts,
        assessments=AssessmentService(db, audit, clock, vault, crisis, risk_alerts),
        campaigns=CampaignService(db, audit, clock, vault, risk_alerts),
        reports=ReportService(db, audit, clock, vault),
        summary_report=SummaryReportService(db, audit, clock),
    )
