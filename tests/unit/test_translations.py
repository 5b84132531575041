"""The one gettext catalogue: every string translated to zh_CN, placeholders intact, .mo current."""

from __future__ import annotations

import ast
import gettext
import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from carestation.i18n import _, set_language

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "resources/translations/zh_CN/LC_MESSAGES/carestation.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"\{(\w*)(?:[!:][^{}]*)?\}")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def _source_messages() -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    method_map = [("carestation/**.py", "python")]
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else tuple(message))  # type: ignore[arg-type]
    return found


def _catalog():  # type: ignore[no-untyped-def]
    with PO.open("rb") as fh:
        return read_po(fh, locale="zh_CN")


def test_every_source_string_has_a_chinese_translation() -> None:
    catalog = _catalog()
    missing, fuzzy = [], []
    for message in _source_messages():
        msgid = message if isinstance(message, str) else message[0]
        entry = catalog.get(msgid)
        if entry is None or not (
            entry.string if isinstance(entry.string, str) else all(entry.string)
        ):
            missing.append(msgid)
        elif entry.fuzzy:
            fuzzy.append(msgid)
    assert not missing, "untranslated (run the commands in docs/translations.md):\n" + "\n".join(
        sorted(missing)
    )
    assert not fuzzy, "fuzzy translations to check:\n" + "\n".join(sorted(fuzzy))


def test_placeholders_match_the_source() -> None:
    problems = []
    for entry in _catalog():
        if not entry.id:
            continue
        ids = [entry.id] if isinstance(entry.id, str) else list(entry.id)
        strings = [entry.string] if isinstance(entry.string, str) else list(entry.string)
        expected = set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0]))
        for translated in strings:
            if translated and set(PLACEHOLDER.findall(translated)) != expected:
                problems.append(f"{ids[0]!r} -> {translated!r}")
            if "" in set(PLACEHOLDER.findall(translated)):
                problems.append(f"positional placeholder in {translated!r}")
    assert not problems, "\n".join(problems)


def test_compiled_catalogue_is_up_to_date() -> None:
    buffer = io.BytesIO()
    write_mo(buffer, _catalog())
    buffer.seek(0)
    fresh = gettext.GNUTranslations(buffer)
    with MO.open("rb") as fh:
        shipped = gettext.GNUTranslations(fh)
    assert shipped._catalog == fresh._catalog, (
        "run: pybabel compile -d resources/translations -D carestation"
    )  # type: ignore[attr-defined]


def _translation_calls() -> list[tuple[Path, int, ast.Call]]:
    calls = []
    for path in sorted((ROOT / "carestation").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in KEYWORDS
            ):
                calls.append((path, node.lineno, node))
    return calls


def test_translated_strings_are_literals_with_named_placeholders() -> None:
    problems = []
    for path, line, call in _translation_calls():
        count = 2 if call.func.id == "ngettext" else 1  # type: ignore[attr-defined]
        for arg in call.args[:count]:
            where = f"{path.relative_to(ROOT)}:{line}"
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                # N_ marks and _ translates names passed through vocabularies; the literal
                # forms are checked where they are defined.
                if call.func.id == "_" and isinstance(
                    arg, ast.Subscript | ast.Name | ast.Attribute
                ):  # type: ignore[attr-defined]
                    continue
                problems.append(f"{where}: not a string literal")
            elif "{}" in arg.value or re.search(r"%[sd]", arg.value):
                problems.append(f"{where}: positional placeholder in {arg.value!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh_CN", "用户名或密码不正确，请重试。"),
        ("en", "The user name or password is not right. Please try again."),
    ],
)
def test_language_switch(language: str, expected: str) -> None:
    set_language(language)
    assert _("The user name or password is not right. Please try again.") == expected


def test_no_literal_translation_inside_an_f_string() -> None:
    """Babel cannot extract from inside f-strings: such a string would never be translated."""
    problems = []
    for path in sorted((ROOT / "carestation").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.JoinedStr):
                continue
            for inner in ast.walk(node):
                literal = (
                    isinstance(inner, ast.Call)
                    and isinstance(inner.func, ast.Name)
                    and inner.func.id in KEYWORDS
                    and inner.args
                    and isinstance(inner.args[0], ast.Constant)
                )
                if literal:
                    problems.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    assert not problems, "move these _() calls out of their f-strings:\n" + "\n".join(problems)
