"""Keeps the gettext catalogue current: `python tools/translations.py update` extracts the strings,
merges them into the zh_CN catalogue and lists what still needs translating; `compile` builds the
.mo. Always run from anywhere: paths are taken from this file's location."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "resources" / "translations"
POT = TRANSLATIONS / "carestation.pot"
PO = TRANSLATIONS / "zh_CN" / "LC_MESSAGES" / "carestation.po"


def pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], cwd=ROOT, check=True)


def untranslated() -> list[str]:
    with PO.open("rb") as fh:
        catalog = read_po(fh)
    return [
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog
        if m.id and (not m.string or (not isinstance(m.string, str) and not all(m.string)))
    ]


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command == "update":
        pybabel(
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "N_",
            "-o",
            str(POT),
            "--no-location",
            "--sort-output",
            "--project",
            "CareStation",
            "--copyright-holder",
            "CareStation",
            ".",
        )
        # Without fuzzy matching: a guessed translation of a changed string is worse than none.
        pybabel(
            "-q",
            "update",
            "-i",
            str(POT),
            "-d",
            str(TRANSLATIONS),
            "-D",
            "carestation",
            "-l",
            "zh_CN",
            "--no-fuzzy-matching",
        )
        missing = untranslated()
        for msgid in missing:
            print(f"untranslated: {msgid!r}")
        print(f"{len(missing)} untranslated")
        return 0
    if command == "compile":
        pybabel("-q", "compile", "-d", str(TRANSLATIONS), "-D", "carestation")
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
