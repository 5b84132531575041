"""One place that finds bundled files, from a source checkout, an installed wheel or a PyInstaller bundle."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def is_frozen() -> bool:
    """True inside the PyInstaller bundle (build_installer.spec)."""
    return bool(getattr(sys, "frozen", False))


def _candidates(kind: str) -> list[Path]:
    roots: list[Path] = []
    meipass = getattr(sys, "_MEIPASS", None)
    if meipass:
        roots.append(Path(meipass) / kind)  # the bundle's _internal folder
    if is_frozen():
        # A bundle built with contents_directory="." keeps its files beside the program. A
        # bundle never looks outside itself: a missing file must fail its selfcheck, not be
        # found in whatever checkout happens to sit next to it.
        roots.append(Path(sys.executable).resolve().parent / kind)
        return list(dict.fromkeys(roots))
    roots.append(_PACKAGE_DIR / "_bundled" / kind)  # installed wheel
    roots.append(_PACKAGE_DIR.parent / kind)  # source checkout / editable install
    return roots


@cache
def _root(kind: str) -> Path:
    for candidate in _candidates(kind):
        if candidate.is_dir():
            return candidate
    searched = ", ".join(str(p) for p in _candidates(kind))
    raise FileNotFoundError(f"CareStation's {kind} folder is missing (looked in {searched})")


def resource_path(*parts: str) -> Path:
    """Path of a file under `resources/`, wherever the app is running from."""
    return _root("resources").joinpath(*parts)


def migrations_path() -> Path:
    """The Alembic script directory."""
    return _root("migrations")
