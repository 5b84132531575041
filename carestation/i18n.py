"""The app's one gettext catalogue: UI, services and reports all translate through here."""

from __future__ import annotations

import gettext
import locale
import os
import sys

from carestation.resources import resource_path

DOMAIN = "carestation"
LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def normalise_language(value: str | None) -> str | None:
    """Map 'zh', 'zh_CN.UTF-8', 'zh-Hans', 'Chinese (Simplified)_China', 'en_US' ... onto one of
    LANGUAGES; None when unknown or unset (the C and POSIX locales mean "nothing chosen")."""
    if not value:
        return None
    v = value.replace("-", "_").split(".")[0].lower()
    if v.startswith(("zh", "chinese")):
        return "zh_CN"
    if v.startswith(("en", "english")):
        return "en"
    return None


def system_language() -> str:
    """The system locale's language if we have it, otherwise Simplified Chinese."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(var, "")
        if value.split(".")[0].upper() in ("C", "POSIX"):
            # Python reports the C locale as en_US; it means no language was chosen.
            return DEFAULT_LANGUAGE
        lang = normalise_language(value.split(":")[0])
        if lang:
            return lang
    try:
        lang = normalise_language(locale.getlocale()[0])
    except ValueError:
        lang = None
    return lang or DEFAULT_LANGUAGE


def set_language(language: str) -> None:
    """Switch the catalogue; takes effect for text produced afterwards."""
    global _translation, _language
    lang = normalise_language(language)
    if lang is None:
        raise ValueError(f"unsupported language {language!r}; use one of {', '.join(LANGUAGES)}")
    _language = lang
    if lang == "en":
        _translation = gettext.NullTranslations()  # msgids are English
        return
    try:
        _translation = gettext.translation(
            DOMAIN, localedir=str(resource_path("translations")), languages=[lang]
        )
    except OSError:
        # A broken install should still start, in English, and say why.
        print(f"carestation: no {lang} translation found; using English", file=sys.stderr)
        _translation = gettext.NullTranslations()


def current_language() -> str:
    return _language


def _(message: str) -> str:
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a string for extraction without translating it yet (translate with _ when shown)."""
    return message
