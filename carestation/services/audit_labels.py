"""Readable, translated names for the audit trail's action and result codes."""

from __future__ import annotations

from carestation.domain.roles import Role
from carestation.i18n import N_, _

ACTIONS = {
    "sign_in": N_("Sign in"),
    "unlock": N_("Unlock the screen"),
    "change_password": N_("Change own password"),
    "setup": N_("First set-up"),
    "create_station": N_("Create station"),
    "update_station": N_("Edit station"),
    "activate_station": N_("Reactivate station"),
    "deactivate_station": N_("Deactivate station"),
    "create_room": N_("Create room"),
    "update_room": N_("Edit room"),
    "activate_room": N_("Reactivate room"),
    "deactivate_room": N_("Deactivate room"),
    "list_users": N_("List users"),
    "create_user": N_("Create user"),
    "update_user": N_("Edit user"),
    "activate_user": N_("Reactivate user"),
    "deactivate_user": N_("Deactivate user"),
    "reset_password": N_("Reset a password"),
    "unlock_user": N_("Unlock an account"),
    "view_day_list": N_("View a station's day"),
    "view_my_day": N_("View own day"),
    "view_summary": N_("View the overview"),
    "view_summary_report": N_("View the summary report"),
    "print_summary_report": N_("Print the summary report"),
    "export_summary_report": N_("Save or export the summary report"),
    "view_suppression_k": N_("View the small-number threshold of reports"),
    "set_suppression_k": N_("Change the small-number threshold of reports"),
    "view_audit": N_("View the audit trail"),
    "book": N_("Book an appointment"),
    "book_series": N_("Book a series"),
    "plan_series": N_("Plan a series"),
    "find_slots": N_("Find a time"),
    "move": N_("Move an appointment"),
    "cancel": N_("Cancel an appointment"),
    "set_status": N_("Check in / complete / no-show"),
    "register_client": N_("Register a client"),
    "search_clients": N_("Search clients"),
    "view_client": N_("View a client"),
    "view_appointment": N_("View an appointment"),
    "view_station_days": N_("View a station's calendar"),
    "view_counsellor_days": N_("View a counsellor's calendar"),
    "view_reminders": N_("View the reminder list"),
    "add_to_waitlist": N_("Add to the waitlist"),
    "withdraw_waitlist": N_("Withdraw from the waitlist"),
    "view_waitlist": N_("View the waitlist"),
    "view_lectures": N_("View lectures"),
    "view_roster": N_("View a lecture's list"),
    "register_lecture": N_("Register for a lecture"),
    "unregister_lecture": N_("Cancel a lecture registration"),
    "lecture_attendance": N_("Tick lecture attendance"),
    "set_booking_rules": N_("Change booking rules"),
    "add_closure": N_("Close the station for a day"),
    "remove_closure": N_("Reopen a closed day"),
    "set_counsellor_hours": N_("Set a counsellor's hours"),
    "add_absence": N_("Record leave or extra hours"),
    "remove_absence": N_("Remove leave or extra hours"),
    "export_ics": N_("Export a calendar file"),
    "print": N_("Print or save a document"),
    "view_absences": N_("View leave and extra hours"),
    # consent, rights, disclosures, retention
    "give_consent": N_("Record a client's consent"),
    "withdraw_consent": N_("Record a withdrawal of consent"),
    "view_consents": N_("View a client's consents"),
    "find_client_for_request": N_("Find a client for a data request"),
    "correct_client": N_("Correct a client's details"),
    "export_client": N_("Export everything held about a client"),
    "erase_client": N_("Erase a client on request"),
    "record_disclosure": N_("Record a disclosure"),
    "view_disclosures": N_("View a client's disclosures"),
    "preview_purge": N_("Preview the retention purge"),
    "purge_expired": N_("Purge expired records"),
    # cases and notes
    "open_case": N_("Open a case"),
    "view_case": N_("View a case"),
    "view_case_timeline": N_("View a case's timeline"),
    "view_client_cases": N_("View a client's cases"),
    "list_my_cases": N_("List own cases"),
    "update_case": N_("Edit a case"),
    "close_case": N_("Close a case"),
    "link_case_appointment": N_("Add an appointment to a case"),
    "create_note": N_("Start a session note"),
    "save_note": N_("Save a session note"),
    "view_note": N_("Read a session note"),
    "list_case_notes": N_("List a case's notes"),
    "sign_note": N_("Sign a session note"),
    "cosign_note": N_("Co-sign a session note"),
    "return_note": N_("Return a note for changes"),
    "view_cosign_queue": N_("View notes to co-sign"),
    "add_addendum": N_("Add an addendum to a note"),
    # the protection key and the audit chain
    "unlock_keys": N_("Unlock protected records on this PC"),
    "show_recovery_code": N_("Show the recovery code"),
    "set_key_passphrase": N_("Set the key passphrase"),
    "view_key_status": N_("View the protection key's state"),
    "verify_audit": N_("Verify the audit trail"),
    # backups of the embedded database
    "list_backups": N_("List the database backups"),
    "back_up_database": N_("Back up the database"),
    "restore_database": N_("Restore the database from a backup"),
    "view_records_policy": N_("View a station's rules for confidential records"),
    "set_records_policy": N_("Change a station's rules for confidential records"),
    # crisis flags
    "raise_crisis_flag": N_("Raise a crisis flag"),
    "clear_crisis_flag": N_("Clear a crisis flag"),
    "record_crisis_followup": N_("Record a crisis follow-up"),
    "view_crisis_flag": N_("View a crisis flag"),
    "view_crisis_followups": N_("View crisis follow-ups due"),
    # assessments, the self-service screen and risk alerts
    "record_assessment": N_("Record a questionnaire"),
    "view_assessments": N_("View a client's questionnaires"),
    "record_pod_rating": N_("Record an emotion-pod distress rating"),
    "view_pod_ratings": N_("View emotion-pod distress ratings"),
    "view_band_distribution": N_("View questionnaire statistics"),
    "kiosk_exit": N_("Close the self-service screen"),
    "raise_risk_alert": N_("Raise a risk alert"),
    "act_on_risk_alert": N_("Record the action taken on a risk alert"),
    "view_recent_risk_alerts": N_("View risk alerts"),
    # screening campaigns
    "create_campaign": N_("Create a screening campaign"),
    "issue_campaign_codes": N_("Issue screening codes"),
    "print_campaign_codes": N_("Print screening code slips"),
    "close_campaign": N_("Close a screening campaign"),
    "use_campaign_code": N_("Use a screening code at the self-service screen"),
    "request_campaign_follow_up": N_("Record a follow-up request for a screening code"),
    "view_campaign_summary": N_("View a screening campaign's summary"),
    "list_campaigns": N_("List screening campaigns"),
    "view_campaign": N_("View a screening campaign"),
    "print_personal_report": N_("Print a personal wellbeing report"),
    # moving a station onto the network
    "import_station": N_("Import a station's database"),
    "import_client_code": N_("Give an imported client a new code"),
}
RESULTS = {
    "ok": N_("Done"),
    "denied": N_("Refused: not allowed"),
    "failed": N_("Failed"),
    "locked": N_("Refused: account locked"),
}


def action_title(code: str) -> str:
    return _(ACTIONS[code]) if code in ACTIONS else code


def result_title(code: str) -> str:
    return _(RESULTS[code]) if code in RESULTS else code


def role_title(code: str) -> str:
    try:
        return Role(code).title
    except ValueError:
        return code
