"""A reportlab canvas that holds its pages back until the document is complete, so that each
page's footer can say "page X of Y"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reportlab.pdfgen.canvas import Canvas

# Draws one page's footer: (the canvas, on that page, the total number of pages).
Footer = Callable[[Canvas, int], None]


def counted_pages_canvas(font: str, footer: Footer) -> type[Canvas]:
    """A Canvas class for SimpleDocTemplate.build(canvasmaker=...) that calls `footer` on every
    page once the number of pages is known."""

    class CountedPagesCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("initialFontName", font)
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                footer(self, total)
                super().showPage()
            super().save()

    return CountedPagesCanvas
