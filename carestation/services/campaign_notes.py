"""The notes printed under a campaign summary, on screen and on paper, in either language."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from carestation.domain.suppression import HIDDEN_MARK_NOTE, SMALL_MARK_NOTE
from carestation.i18n import N_, _

SCREENING_NOTE = N_(
    "This is a screening, not a diagnosis: the questionnaires show how people felt over the "
    "last weeks. Only a qualified professional can diagnose, after a conversation."
)
PSS10_NOTE = N_(
    "PSS-10: its author publishes no cut-off scores. The bands low (0-13), moderate (14-26) and "
    "high (27-40) are reference ranges for reading the results, not clinical categories."
)
K_RULE_NOTE = N_(
    "To protect the participants, no number below {k} is shown, and no number that would let "
    "a smaller one be worked out. No individual result is ever shown; the codes cannot be "
    "linked to the people who used them."
)


def summary_notes(
    *,
    instruments: Sequence[str],
    k: int,
    hidden_mark_used: bool,
    gettext: Callable[[str], str] = _,
) -> tuple[str, ...]:
    """The notes for a summary of these instruments, translated with `gettext` (the report
    passes its own, so a printout can be in another language than the screen)."""
    notes = [gettext(SCREENING_NOTE)]
    if "pss10" in instruments:
        notes.append(gettext(PSS10_NOTE))
    notes.append(gettext(K_RULE_NOTE).format(k=k))
    notes.append(gettext(SMALL_MARK_NOTE).format(k=k))
    if hidden_mark_used:
        notes.append(gettext(HIDDEN_MARK_NOTE).format(k=k))
    return tuple(notes)
