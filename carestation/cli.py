"""Command line: starts the GUI by default; headless subcommands for scripting and checks."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from carestation import __version__
from carestation.domain.errors import CareStationError
from carestation.i18n import set_language, system_language


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
        if args.command == "demo":
            return _demo(args)
        if args.command == "migrate":
            return _migrate(args)
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


def _migrate(args: argparse.Namespace) -> int:
    from carestation.db.migrate import head_revision, open_database

    engine, result = open_database(args.db)
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
