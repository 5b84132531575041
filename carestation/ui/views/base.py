"""What the main window expects of a screen, and how screens report service errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtWidgets import QAbstractButton, QWidget

from carestation.domain.errors import CareStationError, DatabaseUnavailable, ValidationError
from carestation.i18n import _
from carestation.ui.connection_status import report_connection_lost
from carestation.ui.forms import FieldErrors
from carestation.ui.prompts import Prompter

R = TypeVar("R")


class View(QWidget):
    """A screen in the main window. `clear` must drop every piece of personal data it shows."""

    TITLE = ""  # set by each screen, marked with N_

    def title(self) -> str:
        return _(self.TITLE)

    def refresh(self) -> None:
        """Reload from the services (called when the view is shown and after changes)."""

    def clear(self) -> None:
        """Forget what is shown (called on lock and sign-out)."""

    def search_field(self) -> QWidget | None:
        """The screen's search or filter box, where Find (Ctrl+F) puts the cursor."""
        return None

    def print_button(self) -> QAbstractButton | None:
        """The button of the screen's main print, which Print (Ctrl+P) presses."""
        return None


def attempt(
    parent: QWidget,
    prompter: Prompter,
    action: Callable[[], R],
    *,
    errors: FieldErrors | None = None,
    title: str | None = None,
) -> R | None:
    """Runs a service call; shows validation problems beside their fields, others in a message.

    Returns the call's result, or None when it failed (and the user has been told why). A lost
    connection to the database server also turns on the window's offline banner, which retries;
    the caller (a dialog) stays open with everything typed, so saving again works once the
    server is back.
    """
    try:
        return action()
    except DatabaseUnavailable as exc:
        report_connection_lost(parent, exc)
        prompter.error(
            parent,
            title or _("No connection to the database"),
            "\n\n".join(
                [
                    str(exc),
                    _(
                        "What you entered is still here. Try again when the connection is back: "
                        "the banner at the top of the main window disappears then."
                    ),
                ]
            ),
        )
    except ValidationError as exc:
        rest = errors.show(exc.errors) if errors is not None else list(exc.errors.values())
        if rest:
            prompter.error(parent, title or _("Please check"), "\n".join(rest))
    except CareStationError as exc:
        prompter.error(parent, title or _("The action could not be completed"), str(exc))
    return None
