"""The command line: exit codes, one-line errors, and the headless subcommands."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from carestation import __version__
from carestation.cli import main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"carestation {__version__}"


@pytest.mark.parametrize("command", [[], ["demo"], ["migrate"], ["selfcheck"]])
def test_help_for_every_command(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*command, "--help"])
    assert exc.value.code == 0
    assert "--db" in capsys.readouterr().out


def test_missing_db_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["migrate"])
    assert exc.value.code == 2
    assert "--db" in capsys.readouterr().err


def test_migrate_fresh_then_current(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    assert main(["--lang", "en", "migrate", "--db", url]) == 0
    assert "Migrated from empty to" in capsys.readouterr().out
    assert main(["--lang", "en", "migrate", "--db", url]) == 0
    assert "Already at schema" in capsys.readouterr().out


def test_migrate_refuses_a_foreign_file_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"\x00not sqlite\x00" * 50)
    before = hashlib.sha256(junk.read_bytes()).hexdigest()
    assert main(["--lang", "en", "migrate", "--db", f"sqlite:///{junk}"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("carestation: ")
    assert "left untouched" in err
    assert hashlib.sha256(junk.read_bytes()).hexdigest() == before


def test_errors_are_translated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["--lang", "zh_CN", "migrate", "--db", f"sqlite:///{tmp_path / 'no' / 'x.db'}"]) == 1
    )
    assert "不存在" in capsys.readouterr().err


def test_demo_writes_data_and_refuses_a_second_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert (
        main(
            [
                "--lang",
                "en",
                "demo",
                "--db",
                url,
                "--stations",
                "2",
                "--clients",
                "40",
                "--months",
                "2",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Demo accounts" in out
    for username in ("admin", "manager", "staff01", "c001"):
        assert f"  {username} " in out
    assert (
        main(
            [
                "--lang",
                "en",
                "demo",
                "--db",
                url,
                "--stations",
                "2",
                "--clients",
                "40",
                "--months",
                "2",
            ]
        )
        == 1
    )
    assert capsys.readouterr().err.startswith("carestation: ")


@pytest.mark.parametrize("bad", ["0", "-3", "many"])
def test_demo_sizes_must_be_positive_whole_numbers(bad: str, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--db", f"sqlite:///{tmp_path / 'd.db'}", "--clients", bad])
    assert exc.value.code == 2


def test_selfcheck_renders_every_role(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CARESTATION_CONFIG_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "carestation", "--lang", "zh_CN", "selfcheck"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for role in ("staff", "counsellor", "manager", "admin"):
        assert f"selfcheck: {role}:" in result.stdout
    assert "selfcheck: ok" in result.stdout
