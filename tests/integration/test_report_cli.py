"""`carestation report personal` on a small demo database: the PDF is written only where asked,
refusals exit 2 with one clear line, and every printed report is numbered in the audit trail."""

from __future__ import annotations

import importlib.util
import shutil
import sys
import types
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from carestation.cli import main
from carestation.db import models as m
from carestation.db.demo import generate_demo
from carestation.db.migrate import open_database

COUNSELLOR_PASSWORD = "demo-counsellor-2026"
WRITER_READY = importlib.util.find_spec("carestation.reports.personal") is not None
needs_writer = pytest.mark.skipif(
    not WRITER_READY, reason="carestation/reports/personal.py (the PDF writer) is not written yet"
)


@dataclass(frozen=True)
class Demo:
    url: str
    path: Path
    code: str  # c001 has seen this client, who has questionnaires and report consent
    no_consent: str  # c001 has seen this client too, but report consent was never given
    stranger: str  # a counsellor who has never seen the client `code`


def _codes(engine: Engine) -> tuple[str, str, str]:
    with engine.begin() as conn:
        c001 = conn.execute(text("SELECT id FROM user_account WHERE username='c001'")).scalar()
        seen = conn.execute(
            text(
                "SELECT c.id, c.client_code FROM client c WHERE EXISTS (SELECT 1 FROM "
                "assessment a WHERE a.client_id = c.id AND a.instrument <> 'mood') AND "
                "EXISTS (SELECT 1 FROM appointment p WHERE p.client_id = c.id AND "
                "p.counsellor_id = :u) ORDER BY c.client_code"
            ),
            {"u": c001},
        ).all()
        assert len(seen) >= 2, "the demo should give c001 clients with questionnaires"
        (client_id, code), (_other_id, no_consent) = seen[0], seen[1]
        # A counsellor with no link to that client: no appointment, form or case, and not the
        # supervisor of a station where the client has a case.
        stranger = conn.execute(
            text(
                "SELECT u.username FROM user_account u JOIN counsellor_profile p "
                "ON p.user_id = u.id WHERE NOT EXISTS (SELECT 1 FROM appointment a WHERE "
                "a.client_id = :c AND a.counsellor_id = u.id) AND NOT EXISTS (SELECT 1 FROM "
                "assessment f WHERE f.client_id = :c AND f.administered_by = u.id) AND NOT "
                "EXISTS (SELECT 1 FROM care_case k LEFT JOIN station s ON s.id = k.station_id "
                "WHERE k.client_id = :c AND (k.counsellor_id = u.id OR s.supervisor_id = u.id)) "
                "ORDER BY u.username LIMIT 1"
            ),
            {"c": client_id},
        ).scalar_one()
        # The demo records report consent for most assessed clients; this one never gave it.
        conn.execute(
            text("DELETE FROM consent WHERE client_id = :c AND purpose = 'report_printing'"),
            {"c": _other_id},
        )
        conn.execute(
            text(
                "INSERT INTO consent (client_id, purpose, wording_version, language, station_id, "
                "given_at, taken_by) VALUES (:c, 'report_printing', '1', 'zh_CN', 1, :at, NULL)"
            ),
            {"c": client_id, "at": datetime(2026, 11, 1, tzinfo=UTC)},
        )
    return code, no_consent, stranger


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    engine, _result = open_database(f"sqlite:///{path.as_posix()}")
    try:
        generate_demo(engine, stations=2, clients=60, months=2, seed=1, today=date(2026, 11, 23))
        code, no_consent, stranger = _codes(engine)
    finally:
        engine.dispose()
    return Demo(f"sqlite:///{path.as_posix()}", path, code, no_consent, stranger)


@pytest.fixture
def demo(demo_template: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Demo:
    """A fresh copy per test, so report numbers start at R-000001 in each."""
    path = tmp_path / "db" / "demo.db"
    path.parent.mkdir()
    shutil.copy(demo_template.path, path)
    monkeypatch.setenv("CARESTATION_PASSWORD", COUNSELLOR_PASSWORD)
    return Demo(
        f"sqlite:///{path.as_posix()}",
        path,
        demo_template.code,
        demo_template.no_consent,
        demo_template.stranger,
    )


def run(demo: Demo, out: Path, *extra: str, client: str | None = None, user: str = "c001") -> int:
    return main(
        [
            "--lang",
            "en",
            "report",
            "personal",
            "--db",
            demo.url,
            "--client",
            client or demo.code,
            "-o",
            str(out),
            "--user",
            user,
            *extra,
        ]
    )


def report_entries(demo: Demo) -> list[tuple[str, str, str, str]]:
    engine, _result = open_database(demo.url)
    try:
        with engine.connect() as conn:
            return [
                tuple(row)  # type: ignore[misc]
                for row in conn.execute(
                    select(
                        m.AuditEvent.username,
                        m.AuditEvent.object_ref,
                        m.AuditEvent.result,
                        m.AuditEvent.detail,
                    )
                    .where(m.AuditEvent.action == "print_personal_report")
                    .order_by(m.AuditEvent.id)
                )
            ]
    finally:
        engine.dispose()


def refused(
    demo: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: Any, **kwargs: Any
) -> str:
    """Runs a command that must be refused: exit 2, one line on stderr, no file anywhere."""
    out = tmp_path / "out" / "report.pdf"
    out.parent.mkdir(exist_ok=True)
    assert run(demo, out, *args, **kwargs) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("carestation: ")
    assert captured.err.count("\n") == 1
    assert list(out.parent.iterdir()) == []
    return captured.err


def test_help_documents_the_password_variable(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["report", "personal", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for option in ("--db", "--client", "-o", "--lang", "--user", "--station"):
        assert option in out
    assert "CARESTATION_PASSWORD" in out


@needs_writer
@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_writes_the_report_only_where_asked(
    demo: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str], lang: str
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "report.pdf"
    assert run(demo, out, "--lang", lang) == 0
    assert capsys.readouterr().out == f"Report R-000001 written to {out}.\n"
    assert out.read_bytes().startswith(b"%PDF-")
    assert list(out_dir.iterdir()) == [out]
    assert run(demo, out) == 0  # a second report replaces the file and takes the next number
    assert list(out_dir.iterdir()) == [out]
    assert report_entries(demo) == [
        ("c001", demo.code, "ok", "R-000001; code only"),
        ("c001", demo.code, "ok", "R-000002; code only"),
    ]


def test_a_failed_write_leaves_no_file_behind(
    demo: Demo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A stand-in writer, so this runs whether or not the real one is there.
    fake = types.ModuleType("carestation.reports.personal")
    fake.write_personal_report = lambda out, *, data, lang=None: out.write(b"%PDF-1.4 fake")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "carestation.reports.personal", fake)

    def fail(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("carestation.report_cli.os.replace", fail)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    assert run(demo, out_dir / "report.pdf") == 1
    assert "No space left on device" in capsys.readouterr().err
    assert list(out_dir.iterdir()) == []


def test_an_unknown_client_code(
    demo: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = refused(demo, tmp_path, capsys, client="ZZZZ-ZZZZ-Z")
    assert "No client has the code ZZZZ-ZZZZ-Z" in err


def test_a_client_without_report_consent(
    demo: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = refused(demo, tmp_path, capsys, client=demo.no_consent)
    assert "consent" in err
    assert report_entries(demo) == []


def test_a_client_the_counsellor_has_never_seen(
    demo: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = refused(demo, tmp_path, capsys, user=demo.stranger)
    assert "not allowed" in err
    assert report_entries(demo) == [(demo.stranger, demo.code, "denied", "")]


@pytest.mark.parametrize(
    ("user", "password"),
    [
        ("staff01", "demo-staff-2026"),
        ("manager", "demo-manager-2026"),
        ("admin", "demo-admin-2026"),
    ],
)
def test_other_roles_are_refused(
    demo: Demo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    user: str,
    password: str,
) -> None:
    monkeypatch.setenv("CARESTATION_PASSWORD", password)
    assert "not allowed" in refused(demo, tmp_path, capsys, user=user)
    assert [(u, r) for u, _ref, r, _d in report_entries(demo)] == [(user, "denied")]


def test_a_wrong_password(
    demo: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARESTATION_PASSWORD", "not the password")
    refused(demo, tmp_path, capsys)
    assert report_entries(demo) == []


def test_no_password_and_no_terminal(
    demo: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CARESTATION_PASSWORD")
    monkeypatch.setattr("sys.stdin", types.SimpleNamespace(isatty=lambda: False))
    assert "CARESTATION_PASSWORD" in refused(demo, tmp_path, capsys)


def test_an_unknown_station(demo: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "No station is called 火星站" in refused(demo, tmp_path, capsys, "--station", "火星站")


def test_a_station_the_counsellor_does_not_work_at(
    demo: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine, _result = open_database(demo.url)
    try:
        with engine.connect() as conn:
            name = conn.execute(text("SELECT name FROM station WHERE id = 2")).scalar_one()
    finally:
        engine.dispose()
    # c002 works at station 1 only.
    err = refused(demo, tmp_path, capsys, "--station", name, user="c002")
    assert f"c002 does not work at {name}" in err


def test_the_output_folder_must_exist(
    demo: Demo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(demo, tmp_path / "missing" / "report.pdf") == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "missing").exists()
    assert report_entries(demo) == []
