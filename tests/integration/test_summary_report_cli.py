"""`carestation report summary` on a small demo database: the PDF, CSV and Excel files are
written only where asked, each with its own report number in the audit trail; refusals exit 2
with one clear line and leave no file."""

from __future__ import annotations

import csv
import io
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from carestation.cli import main
from carestation.db import models as m
from carestation.db.migrate import open_database
from tests.integration import test_report_cli as personal_cli
from tests.integration.test_report_cli import Demo

# The personal report's small demo database, copied afresh for each test.
demo_template = personal_cli.demo_template
demo = personal_cli.demo

MANAGER_PASSWORD = "demo-manager-2026"


@pytest.fixture
def manager(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> Demo:
    monkeypatch.setenv("CARESTATION_PASSWORD", MANAGER_PASSWORD)
    return demo


def run(db: Demo, out: Path, *extra: str, user: str = "manager") -> int:
    return main(
        [
            "--lang",
            "en",
            "report",
            "summary",
            "--db",
            db.url,
            "--from",
            "2026-10",
            "--to",
            "2026-11-23",
            "-o",
            str(out),
            "--user",
            user,
            *extra,
        ]
    )


def entries(db: Demo) -> list[tuple[str, str, str, str, str]]:
    engine, _result = open_database(db.url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(
                    m.AuditEvent.action,
                    m.AuditEvent.username,
                    m.AuditEvent.object_ref,
                    m.AuditEvent.result,
                    m.AuditEvent.detail,
                )
                .where(m.AuditEvent.action.like("%summary_report"))
                .order_by(m.AuditEvent.id)
            )
            return [tuple(row) for row in rows]  # type: ignore[misc]
    finally:
        engine.dispose()


def station_names(db: Demo) -> list[str]:
    engine, _result = open_database(db.url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(m.Station.name).order_by(m.Station.id)).scalars())
    finally:
        engine.dispose()


def test_help_names_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["report", "summary", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in ("--db", "--from", "--to", "--station", "--by", "-o", "--csv", "--xlsx"):
        assert option in out
    assert "CARESTATION_PASSWORD" in out


def test_writes_the_pdf_csv_and_workbook_each_numbered(
    manager: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    pdf, sheet, book = out_dir / "summary.pdf", out_dir / "figures.csv", out_dir / "figures.xlsx"
    assert run(manager, pdf, "--csv", str(sheet), "--xlsx", str(book)) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"Report R-000001 written to {pdf}.",
        f"Report R-000002 written to {sheet}.",
        f"Report R-000003 written to {book}.",
    ]
    assert sorted(out_dir.iterdir()) == sorted([pdf, sheet, book])
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "R-000001" in text
    assert "2026-10" in text
    assert "2026-11" in text
    rows = list(csv.reader(io.StringIO(sheet.read_text(encoding="utf-8-sig"))))
    assert len(rows) > 10
    assert any("2026-11" in cell for row in rows for cell in row)
    workbook = load_workbook(book, read_only=True)
    assert workbook.properties.title == "CareStation report R-000003"
    stations = ",".join(str(i) for i in _ids_by_name(manager))  # every active station, by name
    details = f"2026-10..2026-11; month; stations {stations}; k=10"
    assert [e for e in entries(manager) if e[0] != "view_summary_report"] == [
        ("export_summary_report", "manager", "R-000001", "ok", f"pdf; {details}"),
        ("export_summary_report", "manager", "R-000002", "ok", f"csv; {details}"),
        ("export_summary_report", "manager", "R-000003", "ok", f"xlsx; {details}"),
    ]


def _ids_by_name(db: Demo) -> list[int]:
    engine, _result = open_database(db.url)
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    select(m.Station.id).where(m.Station.active).order_by(m.Station.name)
                ).scalars()
            )
    finally:
        engine.dispose()


def test_chosen_stations_by_quarter_in_chinese(
    manager: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = station_names(manager)[0]
    out = tmp_path / "summary.pdf"
    args = ["--station", name, "--by", "quarter", "--lang", "zh_CN"]
    code = main(
        [
            "report",
            "summary",
            "--db",
            manager.url,
            "--from",
            "2026-07",
            "--to",
            "2026-09",
            "-o",
            str(out),
            "--user",
            "manager",
            *args,
        ]
    )
    assert code == 0
    text = subprocess.run(
        ["pdftotext", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert name in text
    sid = station_names(manager).index(name) + 1
    assert entries(manager)[-1][4] == f"pdf; 2026-07..2026-09; quarter; stations {sid}; k=10"


def refused(
    db: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str, **kw: str
) -> str:
    out = tmp_path / "out" / "summary.pdf"
    out.parent.mkdir(exist_ok=True)
    assert run(db, out, *args, **kw) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("carestation: ")
    assert captured.err.count("\n") == 1
    assert list(out.parent.iterdir()) == []
    return captured.err


def test_staff_and_counsellors_are_refused(
    demo: Demo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # the `demo` fixture signs in with the counsellors' password
    refused(demo, tmp_path, capsys, user="c001")
    assert entries(demo)[-1][:4] == ("view_summary_report", "c001", "", "denied")


def test_a_wrong_password(
    manager: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.setenv("CARESTATION_PASSWORD", "not-the-password")
    refused(manager, tmp_path, capsys)


def test_an_unknown_station(
    manager: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = refused(manager, tmp_path, capsys, "--station", "Nowhere")
    assert "No station is called Nowhere" in err


def test_a_quarter_report_must_cover_whole_quarters(
    manager: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = refused(manager, tmp_path, capsys, "--by", "quarter")
    assert "whole quarters" in err


def test_the_same_file_twice_is_refused(
    manager: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "summary.pdf"
    err = refused(manager, tmp_path, capsys, "--csv", str(out))
    assert "different names" in err


def test_a_month_that_is_not_a_month(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "report",
                "summary",
                "--db",
                "sqlite://",
                "--from",
                "2026-13",
                "--to",
                "2026-12",
                "-o",
                str(tmp_path / "x.pdf"),
                "--user",
                "manager",
            ]
        )
    assert exc.value.code == 2
    assert "is not a month" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
