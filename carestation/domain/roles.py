"""Roles, permissions, and who holds which: the single table the services check against."""

from __future__ import annotations

from enum import StrEnum

from carestation.i18n import N_, _


class Role(StrEnum):
    STAFF = "staff"
    COUNSELLOR = "counsellor"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def title(self) -> str:
        return _(_ROLE_TITLES[self])


_ROLE_TITLES = {
    Role.STAFF: N_("Station staff"),
    Role.COUNSELLOR: N_("Counsellor"),
    Role.MANAGER: N_("Manager"),
    Role.ADMIN: N_("Administrator"),
}


class Permission(StrEnum):
    # Identified, per-appointment data at the stations the user works at.
    VIEW_STATION_APPOINTMENTS = "view_station_appointments"
    # A counsellor's own appointments, at any station.
    VIEW_OWN_APPOINTMENTS = "view_own_appointments"
    # Aggregated, de-identified figures across stations.
    VIEW_SUMMARY = "view_summary"
    MANAGE_STATIONS = "manage_stations"
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"
    CONFIGURE_THIS_PC = "configure_this_pc"
    # Book, move, cancel and check in at the stations the user works at.
    BOOK_AT_STATION = "book_at_station"
    # Book and change appointments the counsellor runs (crisis sessions at short notice).
    BOOK_OWN = "book_own"
    REGISTER_CLIENTS = "register_clients"
    # Opening rules, closures, booking rules, counsellors' weekly hours.
    MANAGE_SCHEDULE = "manage_schedule"
    # Leave, training days and extra hours (staff for their stations; counsellors their own).
    RECORD_ABSENCE = "record_absence"
    # Confidential records (issue 4). Who may read a particular note or case is decided in the
    # services from the relationship (author, the station's supervisor, the named co-signer);
    # these permissions say only who may take part at all.
    # Open and close cases, write and sign notes, raise and clear crisis flags, record disclosures.
    KEEP_CASE_RECORDS = "keep_case_records"
    # Take and withdraw a client's consents, and print the consent form for signature.
    RECORD_CONSENT = "record_consent"
    # Correct a client's registered details.
    CORRECT_CLIENTS = "correct_clients"
    # The person's rights: export everything held about a client, erase it on request.
    HANDLE_DATA_REQUESTS = "handle_data_requests"
    # Set up, back up and restore the key that protects notes; purge expired records.
    MANAGE_KEYS = "manage_keys"
    # Back up the embedded database and restore it from a backup.
    MANAGE_BACKUPS = "manage_backups"
    # Assessments (issue 5).
    # Give a questionnaire in a session, and see a client's answers and trends (who may see
    # a particular client's is decided in the services from the relationship).
    GIVE_ASSESSMENTS = "give_assessments"
    # Open the station's self-service screen, for a client or for anonymous visitors.
    RUN_KIOSK = "run_kiosk"
    # See and act on risk alerts at the stations the user works at.
    ACT_ON_RISK_ALERTS = "act_on_risk_alerts"
    # Screening campaigns: create, issue codes, print slips and the anonymised summary.
    RUN_CAMPAIGNS = "run_campaigns"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.STAFF: frozenset(
        {
            Permission.VIEW_STATION_APPOINTMENTS,
            Permission.BOOK_AT_STATION,
            Permission.REGISTER_CLIENTS,
            Permission.RECORD_ABSENCE,
            Permission.RECORD_CONSENT,
            Permission.CORRECT_CLIENTS,
            Permission.RUN_KIOSK,
            Permission.ACT_ON_RISK_ALERTS,
            Permission.RUN_CAMPAIGNS,
        }
    ),
    Role.COUNSELLOR: frozenset(
        {
            Permission.VIEW_OWN_APPOINTMENTS,
            Permission.BOOK_OWN,
            Permission.REGISTER_CLIENTS,
            Permission.RECORD_ABSENCE,
            Permission.KEEP_CASE_RECORDS,
            Permission.RECORD_CONSENT,
            Permission.CORRECT_CLIENTS,
            Permission.GIVE_ASSESSMENTS,
            Permission.RUN_KIOSK,
            Permission.ACT_ON_RISK_ALERTS,
        }
    ),
    Role.MANAGER: frozenset({Permission.VIEW_SUMMARY}),
    # The admin runs the system but never sees who used the service.
    Role.ADMIN: frozenset(
        {
            Permission.VIEW_SUMMARY,
            Permission.MANAGE_STATIONS,
            Permission.MANAGE_USERS,
            Permission.VIEW_AUDIT,
            Permission.CONFIGURE_THIS_PC,
            Permission.MANAGE_SCHEDULE,
            Permission.HANDLE_DATA_REQUESTS,
            Permission.MANAGE_KEYS,
            Permission.MANAGE_BACKUPS,
        }
    ),
}


def permissions_for(roles: frozenset[Role]) -> frozenset[Permission]:
    result: set[Permission] = set()
    for role in roles:
        result |= ROLE_PERMISSIONS[role]
    return frozenset(result)
