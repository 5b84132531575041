"""Command line: starts the GUI by default; headless subcommands for scripting and checks."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from carestation import __version__
from carestation.domain.errors import CareStationError
from carestation.i18n import set_language, system_language
from carestation.report_cli import add_report_parser, run_report


def _common_db(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        required=required,
        help="SQLAlchemy URL: sqlite:///path/file.db or postgresql+psycopg://user@host/dbname",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="carestation",
        description="CareStation for employee emotion-management stations. Without a subcommand "
        "it starts the desktop application.",
    )
    parser.add_argument("--version", action="version", version=f"carestation {__version__}")
    _common_db(parser, required=False)
    parser.add_argument("--lang", choices=["zh_CN", "en"], help="interface language")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="start on a fresh demo database and show the demo accounts on the sign-in screen",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help="write a realistic demo data set into an empty database")
    _common_db(demo, required=True)
    demo.add_argument("--stations", type=_positive, default=10, help="number of stations (10)")
    demo.add_argument("--clients", type=_positive, default=2000, help="number of clients (2000)")
    demo.add_argument("--months", type=_positive, default=12, help="months of appointments (12)")
    demo.add_argument("--seed", type=int, default=1, help="random seed; same seed, same data (1)")

    migrate = sub.add_parser("migrate", help="bring a database up to this version's schema")
    _common_db(migrate, required=True)

    check = sub.add_parser(
        "selfcheck",
        help="build the main window offscreen for every role and render every view once",
    )
    _common_db(check, required=False)

    audit = sub.add_parser("audit", help="work with the tamper-evident audit trail")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    verify = audit_sub.add_parser(
        "verify",
        help="check every entry's MAC and the chain; report the first broken entry",
    )
    _common_db(verify, required=True)

    purge = sub.add_parser(
        "purge",
        help="delete confidential texts whose retention period has ended (counts are printed, "
        "never content)",
    )
    _common_db(purge, required=True)
    purge.add_argument(
        "--dry-run", action="store_true", help="only count what would be purged; change nothing"
    )
    add_report_parser(sub, _common_db)

    move = sub.add_parser(
        "import-sqlite",
        help="copy one station's SQLite database into another database (the central "
        "PostgreSQL server), all or nothing; recovery codes are typed or taken from "
        "CARESTATION_SOURCE_RECOVERY_CODE / CARESTATION_TARGET_RECOVERY_CODE",
    )
    move.add_argument(
        "--from", dest="source", metavar="FILE", required=True, help="the SQLite file"
    )
    move.add_argument(
        "--to", dest="target", metavar="URL", required=True, help="the target database"
    )
    move.add_argument("--station", metavar="NAME", required=True, help="the station in the file")
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    set_language(args.lang or os.environ.get("CARESTATION_LANG") or system_language())
    try:
        for attribute in ("db", "target"):  # `--db`, and import-sqlite's `--to`
            if isinstance(getattr(args, attribute, None), str):
                setattr(args, attribute, _with_keyring_password(getattr(args, attribute)))
        if args.command == "demo":
            return _demo(args)
        if args.command == "migrate":
            return _migrate(args)
        if args.command == "purge":
            from carestation import logs

            logs.configure(None)
            return _purge(args)
        if args.command == "audit":
            return _audit_verify(args)
        if args.command == "report":
            return run_report(args)
        if args.command == "import-sqlite":
            return _import_sqlite(args)
        if args.command == "selfcheck":
            from carestation.app import selfcheck

            return selfcheck(args.db)
        from carestation.app import run_gui

        return run_gui(db_url=args.db, lang=args.lang, demo=args.demo)
    except CareStationError as exc:
        print(f"carestation: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def open_vault(db):  # type: ignore[no-untyped-def]
    """The database's key for a command: from this PC's keyring, else typed at the terminal
    (the passphrase, or the recovery code). Never from an argument or the environment, which
    would leave it in the shell history or the process list."""
    import getpass

    from carestation.security.secret_store import open_os_store
    from carestation.services.keys import KeyState, KeyVault

    vault = KeyVault(db, open_os_store())
    if vault.state() is KeyState.NOT_SET_UP:
        raise CareStationError(
            "This database has no protection key yet; start the app once to set it up."
        )
    if vault.try_unlock():
        return vault
    if not sys.stdin.isatty():
        raise CareStationError(
            "The protection key is not in this PC's key store. Run the command at a terminal "
            "to type the passphrase or the recovery code."
        )
    if vault.has_passphrase():
        vault.unlock_with_passphrase(getpass.getpass("Passphrase: "))
    else:
        vault.unlock_with_recovery_code(getpass.getpass("Recovery code: "), remember=False)
    return vault


def _with_keyring_password(url: str) -> str:
    """A PostgreSQL URL without a password gets the one this PC keeps in its key store (saved
    by the Database connection dialog), as the app does at start."""
    from carestation.db import connection

    parsed = connection.parse(url)
    if parsed.get_backend_name() != "postgresql" or parsed.password:
        return url
    from carestation.security.secret_store import open_os_store

    found = connection.with_password(parsed, open_os_store())
    return found.render_as_string(hide_password=False) if found.password else url


def _import_sqlite(args: argparse.Namespace) -> int:
    import getpass
    from pathlib import Path

    from carestation.i18n import _
    from carestation.security.secret_store import open_os_store
    from carestation.services import station_import as move

    prompts = {
        "source_code": _("Recovery code of the station's database: "),
        "target_code": _("Recovery code of the target database: "),
        "target_passphrase": _("Passphrase of the target database: "),
    }
    report = move.import_station(
        source=Path(args.source),
        target_url=args.target,
        station=args.station,
        source_code=os.environ.get(move.ENV_SOURCE_CODE) or None,
        target_code=os.environ.get(move.ENV_TARGET_CODE) or None,
        ask=(lambda kind: getpass.getpass(prompts[kind])) if sys.stdin.isatty() else None,
        target_secrets=open_os_store(),
    )
    print(move.format_report(report))
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    from carestation.db.engine import Database
    from carestation.db.migrate import open_database
    from carestation.services.audit import AuditLog

    engine, _result = open_database(args.db)
    try:
        db = Database(engine)
        result = AuditLog(db, vault=open_vault(db)).verify()
    finally:
        engine.dispose()
    if result.ok:
        print(f"Audit trail intact: {result.checked:,} entries checked.")
        return 0
    where = f"entry id {result.broken_id}" if result.broken_id is not None else "the chain head"
    print(
        f"Audit trail BROKEN at {where} (position {result.broken_seq}): {result.reason}. "
        f"{result.checked:,} entries before it are intact.",
        file=sys.stderr,
    )
    return 2


def _purge(args: argparse.Namespace) -> int:
    from carestation.db.engine import Database
    from carestation.db.migrate import open_database
    from carestation.services.container import build_services

    engine, _result = open_database(args.db)
    try:
        db = Database(engine)
        services = build_services(db, vault=open_vault(db))
        retention = services.retention
        report = retention.preview() if args.dry_run else retention.purge_expired()
    finally:
        engine.dispose()
    verb = "Would purge" if args.dry_run else "Purged"
    for s in report.stations:
        print(
            f"{s.station_name}: cases closed before {s.cutoff:%Y-%m-%d} "
            f"({s.retention_months} months): {s.cases} cases, {s.notes} notes, "
            f"{s.addenda} addenda, {s.case_summaries} case summaries, "
            f"{s.crisis_texts} crisis texts, {s.follow_up_notes} follow-up notes"
        )
    print(f"{verb} {report.purged} confidential texts in all.")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from carestation.db.backups import folder_for
    from carestation.db.engine import parse_url, sqlite_path
    from carestation.db.migrate import head_revision, open_database
    from carestation.settings import Settings

    path = sqlite_path(parse_url(args.db))
    folder = folder_for(path, Settings().get("backup_folder")) if path is not None else None
    engine, result = open_database(args.db, backup_folder=folder)
    engine.dispose()
    if result.state_before.value == "current":
        print(f"Already at schema {head_revision()}.")
    else:
        print(f"Migrated from {result.revision_before or 'empty'} to {head_revision()}.")
    if result.backup:
        print(f"Backup written first: {result.backup}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    import time

    from carestation.db.demo import generate_demo
    from carestation.db.migrate import open_database

    started = time.perf_counter()
    engine, _result = open_database(args.db)
    last = [""]

    def progress(stage: str, fraction: float) -> None:
        if stage != last[0]:
            print(f"  {stage} ...", file=sys.stderr)
            last[0] = stage

    try:
        summary = generate_demo(
            engine,
            stations=args.stations,
            clients=args.clients,
            months=args.months,
            seed=args.seed,
            progress=progress,
        )
    finally:
        engine.dispose()
    elapsed = time.perf_counter() - started
    print(f"Demo data written in {elapsed:.1f} s:")
    for table, count in summary.table_counts().items():
        print(f"  {table:<20} {count:>10,}")
    print("\nDemo accounts (user name / password / role):")
    for account in summary.accounts:
        print(f"  {account.username:<10} {account.password:<22} {account.role.title}")
    return 0
