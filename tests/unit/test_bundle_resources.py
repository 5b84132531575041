"""Resources and migrations are found inside the PyInstaller bundle (build_installer.spec) and
never outside it; selfcheck names a missing resource. The bundle itself is built and checked by
.ci/run (docs/packaging.md)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from carestation import resources
from carestation.db import migrate

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_roots() -> Iterator[None]:
    resources._root.cache_clear()
    yield
    resources._root.cache_clear()


def _bundle(folder: Path, *, without: str | None = None) -> Path:
    """A fake bundle's _internal folder holding copies of resources/ and migrations/."""
    for kind in ("resources", "migrations"):
        shutil.copytree(REPO / kind, folder / kind, ignore=shutil.ignore_patterns("__pycache__"))
    if without:
        target = folder / without
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    return folder


def _freeze(monkeypatch: pytest.MonkeyPatch, internal: Path, executable: Path) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(internal), raising=False)
    monkeypatch.setattr(sys, "executable", str(executable))


def test_from_a_source_checkout_resources_are_the_repositorys() -> None:
    assert not resources.is_frozen()
    assert resources.resource_path("fonts") == REPO / "resources" / "fonts"
    assert resources.migrations_path() == REPO / "migrations"


def test_in_the_bundle_resources_resolve_inside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    internal = _bundle(tmp_path / "carestation" / "_internal")
    _freeze(monkeypatch, internal, tmp_path / "carestation" / "carestation.exe")
    assert resources.is_frozen()
    assert resources.resource_path("instruments", "phq9.json") == (
        internal / "resources" / "instruments" / "phq9.json"
    )
    assert resources.migrations_path() == internal / "migrations"


def test_a_bundle_with_its_files_beside_the_program_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """contents_directory="." (PyInstaller 5's layout): no _internal folder."""
    app = _bundle(tmp_path / "app")
    _freeze(monkeypatch, tmp_path / "elsewhere", app / "carestation.exe")
    assert resources.resource_path("fonts") == app / "resources" / "fonts"


def test_a_bundle_missing_a_folder_fails_by_name_and_never_uses_the_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    internal = _bundle(tmp_path / "carestation" / "_internal", without="migrations")
    _freeze(monkeypatch, internal, tmp_path / "carestation" / "carestation")
    with pytest.raises(FileNotFoundError, match="migrations folder is missing") as exc:
        resources.migrations_path()
    assert str(REPO) not in str(exc.value)


def test_alembic_config_takes_a_folder_with_a_percent_sign(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """configparser interpolation: "%" must be doubled (a Windows user folder may hold one)."""
    folder = tmp_path / "Zhang 100%" / "migrations"
    monkeypatch.setattr(migrate, "migrations_path", lambda: folder)
    assert migrate.alembic_config().get_main_option("script_location") == str(folder)


def test_alembic_migrates_from_a_bundle_in_a_folder_with_spaces_chinese_and_percent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    internal = _bundle(tmp_path / "服务站 100%" / "_internal")
    _freeze(monkeypatch, internal, internal.parent / "carestation.exe")
    engine, result = migrate.open_database(f"sqlite:///{(tmp_path / 'a.db').as_posix()}")
    engine.dispose()
    assert result.state_before is migrate.SchemaState.EMPTY
    assert migrate.inspect_sqlite_file(tmp_path / "a.db") == (
        migrate.SchemaState.CURRENT,
        migrate.head_revision(),
    )


# --- selfcheck's resource checks (the bundle runs them in CI) --------------------------------


def test_selfcheck_resource_checks_pass_from_source(
    qapp: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from carestation.app import _selfcheck_resources

    assert _selfcheck_resources(tmp_path) == []
    out = capsys.readouterr().out
    for name in (
        "translations",
        "Qt translations",
        "instruments",
        "texts",
        "fonts and PDF",
        "Qt image formats",
        "holidays",
        "database drivers",
        "keyring",
    ):
        assert f"selfcheck: {name}: " in out
    assert "WenQuanYiMicroHei embedded, drawn by QtPdf" in out


def test_selfcheck_names_a_missing_catalogue(
    qapp: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from carestation.app import _selfcheck_resources

    internal = _bundle(
        tmp_path / "b" / "_internal",
        without="resources/translations/zh_CN/LC_MESSAGES/carestation.mo",
    )
    _freeze(monkeypatch, internal, internal.parent / "carestation")
    failures = _selfcheck_resources(tmp_path)
    assert [f for f in failures if f.startswith("translations: FileNotFoundError")], failures


@pytest.mark.qt_no_exception_capture
def test_selfcheck_fails_on_an_exception_escaping_into_qt(
    qapp: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A view that raises in a slot is printed by PySide and would otherwise go unnoticed (the
    bundle once lacked holidays' catalogues: every calendar view raised, and selfcheck said ok)."""
    from carestation.app import selfcheck

    monkeypatch.setenv("CARESTATION_CONFIG_DIR", str(tmp_path))

    def boom() -> None:
        raise RuntimeError("a view could not load its data")

    hook = sys.excepthook
    QTimer.singleShot(0, boom)
    assert selfcheck(None) == 1
    assert sys.excepthook is hook
    captured = capsys.readouterr()
    assert "selfcheck: FAILED unhandled RuntimeError: a view could not load its data" in (
        captured.err
    )
    assert "selfcheck: failed in" in captured.out
