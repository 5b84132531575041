"""The `carestation report ...` subcommands: printed reports written to a file, for scripting."""

from __future__ import annotations

import argparse
import getpass
import io
import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from carestation.domain.errors import (
    AuthenticationFailed,
    CareStationError,
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from carestation.i18n import _, current_language
from carestation.reports import write_atomically

if TYPE_CHECKING:
    from carestation.domain.summary_values import SummaryReportData

PASSWORD_VARIABLE = "CARESTATION_PASSWORD"
# Refused, not found, no consent, wrong password: the request cannot be met as asked (exit 2).
# Anything else (the database cannot be opened ...) is left to the caller (exit 1).
REFUSALS = (AuthenticationFailed, PermissionDenied, NotFound, Conflict, ValidationError)


def add_report_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    common_db: Callable[..., None],
) -> None:
    report = sub.add_parser("report", help="write a printed report to a PDF file")
    kinds = report.add_subparsers(dest="report_command", metavar="REPORT", required=True)
    personal = kinds.add_parser(
        "personal",
        help="a client's personal wellbeing report (client code only, never the name)",
        description="Write one client's personal wellbeing report to FILE.pdf, as the "
        "counsellor --user. The password is read from the CARESTATION_PASSWORD environment "
        "variable when it is set (for scripts), otherwise asked at the terminal. The report is "
        "numbered and recorded in the audit trail, and written only to the -o file.",
    )
    common_db(personal, required=True)
    personal.add_argument("--client", metavar="CODE", required=True, help="the client's code")
    personal.add_argument(
        "-o", "--output", metavar="FILE.pdf", required=True, type=Path, help="the PDF to write"
    )
    personal.add_argument(
        "--lang",
        dest="report_lang",
        choices=["zh_CN", "en"],
        help="language of the report (default: the interface language)",
    )
    personal.add_argument(
        "--user", metavar="USERNAME", required=True, help="the counsellor printing the report"
    )
    personal.add_argument(
        "--station",
        metavar="NAME",
        help="the station whose contact details the report carries (default: the user's first)",
    )

    summary = kinds.add_parser(
        "summary",
        help="the managers' summary report across stations (no names, small numbers hidden)",
        description="Write the managers' summary report for whole months FROM..TO to FILE.pdf "
        "(and the same figures to --csv and --xlsx), as the manager or administrator --user. "
        "Numbers of people below the administrator's threshold are hidden exactly as on screen. "
        "The password is read from CARESTATION_PASSWORD when it is set, otherwise asked at the "
        "terminal. Each file gets its own report number in the audit trail.",
    )
    common_db(summary, required=True)
    summary.add_argument(
        "--from",
        dest="first_month",
        metavar="DATE",
        required=True,
        type=_month,
        help="first month: 2026-01 or any day in it (2026-01-15)",
    )
    summary.add_argument(
        "--to",
        dest="last_month",
        metavar="DATE",
        required=True,
        type=_month,
        help="last month, included: 2026-12 or any day in it",
    )
    summary.add_argument(
        "--station",
        dest="stations",
        metavar="NAME",
        action="append",
        help="a station to include (repeat for several; default: every active station)",
    )
    summary.add_argument(
        "--by",
        dest="grouping",
        choices=["month", "quarter"],
        default="month",
        help="blocks of the report (default: month; quarters need whole quarters)",
    )
    summary.add_argument(
        "-o", "--output", metavar="FILE.pdf", required=True, type=Path, help="the PDF to write"
    )
    summary.add_argument("--csv", metavar="FILE", type=Path, help="also write the figures as CSV")
    summary.add_argument(
        "--xlsx", metavar="FILE", type=Path, help="also write the figures as an Excel workbook"
    )
    summary.add_argument(
        "--lang",
        dest="report_lang",
        choices=["zh_CN", "en"],
        help="language of the report (default: the interface language)",
    )
    summary.add_argument(
        "--user", metavar="USERNAME", required=True, help="the manager or administrator"
    )


def _month(text: str) -> date:
    """2026-01 or 2026-01-15: the first day of that month."""
    value = text.strip()
    try:
        if len(value) <= 7:
            year, month = (int(part) for part in value.split("-"))
            return date(year, month, 1)
        return date.fromisoformat(value).replace(day=1)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a month: write it as 2026-01 or 2026-01-15"
        ) from None


def run_report(args: argparse.Namespace) -> int:
    try:
        if args.report_command == "personal":
            return _personal(args)
        if args.report_command == "summary":
            return _summary(args)
    except REFUSALS as exc:
        print(f"carestation: {exc}", file=sys.stderr)
        return 2
    raise AssertionError(args.report_command)  # argparse allows only the choices above


def _password(username: str) -> str:
    password = os.environ.get(PASSWORD_VARIABLE)
    if password is not None:
        return password
    if not sys.stdin.isatty():
        raise AuthenticationFailed(
            _("No password: set {variable} or run the command at a terminal to type it.").format(
                variable=PASSWORD_VARIABLE
            )
        )
    return getpass.getpass(_("Password for {user}: ").format(user=username))


def _personal(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from carestation.cli import open_vault
    from carestation.db import models as m
    from carestation.db.engine import Database
    from carestation.db.migrate import open_database
    from carestation.services.container import build_services

    out: Path = args.output
    _check_folder(out)
    lang = args.report_lang or current_language()
    password = _password(args.user)
    engine, _result = open_database(args.db)
    try:
        db = Database(engine)
        services = build_services(db, vault=open_vault(db))
        reports = services.reports
        station_id = None
        if args.station:
            with db.read() as session:
                station_id = session.scalar(
                    select(m.Station.id).where(m.Station.name == args.station.strip())
                )
            if station_id is None:
                raise NotFound(_("No station is called {name}.").format(name=args.station.strip()))
        actor = services.auth.sign_in(username=args.user, password=password, station_id=station_id)
        if station_id is not None and actor.station_id != station_id:
            raise PermissionDenied(
                _("{user} does not work at {station}.").format(
                    user=actor.username, station=args.station.strip()
                )
            )
        client_id = reports.find_client(actor, code=args.client)
        data = reports.personal_report(actor, client_id=client_id, include_name=False, lang=lang)
    finally:
        engine.dispose()
    from carestation.reports.personal import write_personal_report

    buffer = io.BytesIO()
    write_personal_report(buffer, data=data, lang=lang)
    _write_file(out, buffer.getvalue())
    print(_("Report {number} written to {path}.").format(number=data.report_number, path=out))
    return 0


def _summary(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from carestation.cli import open_vault
    from carestation.db import models as m
    from carestation.db.engine import Database
    from carestation.db.migrate import open_database
    from carestation.services.container import build_services

    outputs: list[tuple[str, Path]] = [("pdf", args.output)]
    outputs += [(kind, getattr(args, kind)) for kind in ("csv", "xlsx") if getattr(args, kind)]
    paths = [path.resolve() for _kind, path in outputs]
    if len(set(paths)) != len(paths):
        raise ValidationError(
            {"output": _("Give the PDF, the CSV and the Excel file different names.")}
        )
    for _kind, path in outputs:
        _check_folder(path)
    lang = args.report_lang or current_language()
    password = _password(args.user)
    engine, _result = open_database(args.db)
    try:
        db = Database(engine)
        services = build_services(db, vault=open_vault(db))
        station_ids = None
        if args.stations:
            station_ids = []
            with db.read() as session:
                for name in args.stations:
                    sid = session.scalar(select(m.Station.id).where(m.Station.name == name.strip()))
                    if sid is None:
                        raise NotFound(_("No station is called {name}.").format(name=name.strip()))
                    station_ids.append(sid)
        actor = services.auth.sign_in(username=args.user, password=password)
        reports = services.summary_report
        data = reports.summary(
            actor,
            first_month=args.first_month,
            last_month=args.last_month,
            station_ids=station_ids,
            grouping=args.grouping,
        )
        documents = [
            (kind, path, _summary_bytes(kind, data, lang, reports.issue(actor, data, output=kind)))
            for kind, path in outputs
        ]
    finally:
        engine.dispose()
    for _kind, path, (number, content) in documents:
        _write_file(path, content)
        print(_("Report {number} written to {path}.").format(number=number, path=path))
    return 0


def _summary_bytes(kind: str, data: SummaryReportData, lang: str, number: str) -> tuple[str, bytes]:
    buffer = io.BytesIO()
    if kind == "pdf":
        from carestation.reports.summary import write_summary_report

        write_summary_report(buffer, data=data, lang=lang, report_number=number)
    elif kind == "csv":
        from carestation.reports.summary_export import write_summary_csv

        write_summary_csv(buffer, data=data, lang=lang, report_number=number)
    else:
        from carestation.reports.summary_export import write_summary_xlsx

        write_summary_xlsx(buffer, data=data, lang=lang, report_number=number)
    return number, buffer.getvalue()


def _check_folder(out: Path) -> None:
    if not out.parent.is_dir():
        raise NotFound(
            _("The folder {folder} does not exist; create it or choose another file.").format(
                folder=out.parent
            )
        )


def _write_file(out: Path, content: bytes) -> None:
    try:
        write_atomically(out, content)
    except OSError as exc:
        raise CareStationError(
            _("The report could not be written to {path}: {reason}").format(
                path=out, reason=exc.strerror or exc
            )
        ) from exc


__all__ = ["add_report_parser", "run_report"]
