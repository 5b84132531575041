"""PDF documents drawn with reportlab (no Qt): what they share is here. Every document is written
in the language it is asked for, whatever the screen shows, through its own translator (the
global catalogue is never switched, so a PDF written in a worker thread leaves the UI alone)."""

from __future__ import annotations

import contextlib
import gettext
import os
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

from carestation.i18n import DOMAIN, normalise_language
from carestation.resources import resource_path

Translate = Callable[[str], str]
CREATOR = "CareStation"


def report_title(campaign_id: int) -> str:
    """The PDF's metadata title: neutral, never a person's or a work unit's name."""
    return f"CareStation report C-{campaign_id:06d}"


def document_language(lang: str) -> str:
    """ "zh_CN" or "en"; ValueError for anything else."""
    found = normalise_language(lang)
    if found is None:
        raise ValueError(f"unsupported language {lang!r}; use zh_CN or en")
    return found


@cache
def _translations(lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()  # msgids are English
    return gettext.translation(
        DOMAIN, localedir=str(resource_path("translations")), languages=[lang], fallback=True
    )


def translator(lang: str) -> Translate:
    """gettext for `lang`; in a report module bind it as `_ = translator(lang)` so that the
    strings are still extracted into the catalogue."""
    return _translations(document_language(lang)).gettext


def write_atomically(path: Path, content: bytes) -> None:
    """Writes `content` to a temporary name beside `path`, then renames it into place: a reader
    never sees half a file, a failure leaves nothing behind and an existing file untouched, and
    no copy of a report is left in a temporary folder elsewhere. Raises OSError."""
    fd, part = tempfile.mkstemp(prefix=".carestation-", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(part, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(part)
        raise
