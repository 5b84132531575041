"""The shared table model: Qt's model checks, sorting by typed keys, headers that follow the language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from PySide6.QtCore import QSortFilterProxyModel, Qt

from carestation.i18n import _, set_language
from carestation.ui.table_model import SORT_ROLE, Column, RecordTableModel


@dataclass(frozen=True)
class Row:
    when: datetime
    count: int


def _model() -> RecordTableModel[Row]:
    return RecordTableModel(
        [
            Column(lambda: _("Time"), lambda r: f"{r.when:%H:%M}", sort_key=lambda r: r.when),
            Column(
                lambda: _("Appointments"),
                lambda r: str(r.count),
                sort_key=lambda r: r.count,
                align_right=True,
            ),
        ]
    )


def test_model_passes_qt_checks(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = _model()
    model.set_rows(
        [Row(datetime(2026, 1, 1, tzinfo=UTC), 3), Row(datetime(2026, 1, 2, tzinfo=UTC), 10)]
    )
    qtmodeltester.check(model)


def test_sorting_uses_the_keys_not_the_text() -> None:
    shanghai = timezone(timedelta(hours=8))
    model = _model()
    # 08:30 in Shanghai is earlier than 10:30 and 15:45, though its text would sort the same way
    # only by luck; counts 9 and 10 sort numerically, not as text.
    model.set_rows(
        [
            Row(datetime(2026, 11, 18, 15, 45, tzinfo=shanghai), 9),
            Row(datetime(2026, 11, 18, 8, 30, tzinfo=shanghai), 10),
            Row(datetime(2026, 11, 18, 10, 30, tzinfo=shanghai), 2),
        ]
    )
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    proxy.sort(0, Qt.SortOrder.AscendingOrder)
    assert [proxy.index(r, 0).data() for r in range(3)] == ["08:30", "10:30", "15:45"]
    proxy.sort(1, Qt.SortOrder.AscendingOrder)
    assert [proxy.index(r, 1).data() for r in range(3)] == ["2", "9", "10"]


def test_headers_follow_the_language() -> None:
    model = _model()
    set_language("zh_CN")
    assert model.headerData(0, Qt.Orientation.Horizontal) == "时间"
    set_language("en")
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Time"
