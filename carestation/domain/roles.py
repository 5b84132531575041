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


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.STAFF: frozenset(
        {
            Permission.VIEW_STATION_APPOINTMENTS,
            Permission.BOOK_AT_STATION,
            Permission.REGISTER_CLIENTS,
            Permission.RECORD_ABSENCE,
        }
    ),
    Role.COUNSELLOR: frozenset(
        {
            Permission.VIEW_OWN_APPOINTMENTS,
            Permission.BOOK_OWN,
            Permission.REGISTER_CLIENTS,
            Permission.RECORD_ABSENCE,
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
        }
    ),
}


def permissions_for(roles: frozenset[Role]) -> frozenset[Permission]:
    result: set[Permission] = set()
    for role in roles:
        result |= ROLE_PERMISSIONS[role]
    return frozenset(result)
