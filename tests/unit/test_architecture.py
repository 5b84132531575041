"""The layering rules, checked mechanically: Qt only in the UI, a plain-Python domain."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "carestation"
QT_ALLOWED = {"ui", "app.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(
                node.module.split(".")[0]
                if not node.module.startswith("carestation.")
                else node.module
            )
    return names


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_ui_imports_qt(path: Path) -> None:
    top = path.relative_to(PACKAGE).parts[0]
    if top in QT_ALLOWED:
        return
    assert "PySide6" not in _imports(path), f"{path} imports PySide6 outside carestation/ui"


@pytest.mark.parametrize("path", sorted((PACKAGE / "domain").rglob("*.py")), ids=lambda p: p.name)
def test_domain_imports_neither_sqlalchemy_nor_outer_layers(path: Path) -> None:
    imported = _imports(path)
    assert "sqlalchemy" not in imported
    assert not {
        m
        for m in imported
        if m.startswith(("carestation.db", "carestation.services", "carestation.ui"))
    }


def test_import_linter_contracts_hold() -> None:
    # In a child process: import-linter reconfigures logging (disabling every existing logger),
    # which would silence the loggers other tests check.
    import subprocess
    import sys

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports; "
            f"sys.exit(lint_imports(config_filename={str(PACKAGE.parent / 'pyproject.toml')!r}))",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
