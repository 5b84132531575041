"""A client's results panel: charts with shaded bands, reliable-change badges, the results table
(raw answers only for readers who may see them), and how fast it opens."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time

from PySide6.QtCharts import QAreaSeries, QDateTimeAxis, QLineSeries, QValueAxis
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from carestation.assessments import load_instrument
from carestation.domain.assessment_values import ClientAssessments
from carestation.domain.errors import PermissionDenied
from carestation.domain.values import Actor
from carestation.i18n import set_language
from carestation.ui.assessment_trends import (
    AssessmentsPanel,
    AssessmentTableModel,
    client_loader,
    record_columns,
    tick_interval,
)
from carestation.ui.prompts import RecordingPrompter
from tests.ui.assessment_fakes import FakeAssessments, client_results, realistic
from tests.ui.test_assessment_dialog import COUNSELLOR


def make(qtbot: QtBot, data: ClientAssessments | None = None, **kwargs: bool) -> AssessmentsPanel:
    panel = AssessmentsPanel(data if data is not None else realistic(), **kwargs)
    qtbot.addWidget(panel)
    panel.resize(1100, 760)
    panel.show()
    return panel


def areas(panel: AssessmentsPanel, code: str) -> list[QAreaSeries]:
    chart = panel.chart(code)
    assert chart is not None
    return [s for s in chart.series() if isinstance(s, QAreaSeries)]


def score_line(panel: AssessmentsPanel, code: str) -> QLineSeries:
    chart = panel.chart(code)
    assert chart is not None
    (line,) = [s for s in chart.series() if type(s) is QLineSeries]
    return line


def headers(panel: AssessmentsPanel) -> list[str]:
    model = panel.model
    return [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]


def shown_rows(panel: AssessmentsPanel) -> list[list[str]]:
    proxy = panel.proxy
    return [
        [proxy.index(r, c).data() for c in range(proxy.columnCount())]
        for r in range(proxy.rowCount())
    ]


def test_phq9_chart_has_a_point_per_result_and_an_area_per_band(qtbot: QtBot) -> None:
    panel = make(qtbot)
    assert panel.current_instrument() == "phq9"
    line = score_line(panel, "phq9")
    assert [p.y() for p in line.points()] == [17, 15, 12, 11, 9, 8, 6, 5]
    xs = [p.x() for p in line.points()]
    assert xs == sorted(xs)
    bands = areas(panel, "phq9")
    # Highest band first, so the legend reads top to bottom like the chart.
    assert [a.name() for a in bands] == [
        "Severe depressive symptoms",
        "Moderately severe depressive symptoms",
        "Moderate depressive symptoms",
        "Mild depressive symptoms",
        "None or minimal depressive symptoms",
    ]
    edges = {
        a.objectName(): (a.lowerSeries().points()[0].y(), a.upperSeries().points()[0].y())
        for a in bands
    }
    # Half a point beyond each inclusive band, so bands meet and a cut-off score sits inside.
    assert edges == {
        "band_minimal": (0, 4.5),
        "band_mild": (4.5, 9.5),
        "band_moderate": (9.5, 14.5),
        "band_moderately_severe": (14.5, 19.5),
        "band_severe": (19.5, 27),
    }
    chart = panel.chart("phq9")
    assert chart is not None
    (y_axis,) = chart.axes(Qt.Orientation.Vertical)
    assert isinstance(y_axis, QValueAxis)
    assert (y_axis.min(), y_axis.max()) == (0, 27)
    assert y_axis.titleText() == "Total score (lower is better)"
    (x_axis,) = chart.axes(Qt.Orientation.Horizontal)
    assert isinstance(x_axis, QDateTimeAxis)
    assert x_axis.min().toMSecsSinceEpoch() < xs[0]
    assert xs[-1] < x_axis.max().toMSecsSinceEpoch()


def test_who5_is_plotted_in_percent_on_a_percent_axis(qtbot: QtBot) -> None:
    panel = make(qtbot)
    panel.select_instrument("who5")
    assert [p.y() for p in score_line(panel, "who5").points()] == [28, 36, 48, 56, 68]
    assert score_line(panel, "who5").name() == "Percent score"
    edges = [
        (a.lowerSeries().points()[0].y(), a.upperSeries().points()[0].y())
        for a in areas(panel, "who5")
    ]
    assert edges == [(50, 100), (30, 50), (0, 30)]
    chart = panel.chart("who5")
    assert chart is not None
    (y_axis,) = chart.axes(Qt.Orientation.Vertical)
    assert (y_axis.min(), y_axis.max()) == (0, 100)
    assert y_axis.titleText() == "Wellbeing, percent score (higher is better)"


def test_charts_are_built_only_for_instruments_looked_at(qtbot: QtBot) -> None:
    panel = make(qtbot)
    assert set(panel.charts) == {"phq9"}
    panel.select_instrument("gad7")
    assert set(panel.charts) == {"phq9", "gad7"}
    assert len(areas(panel, "gad7")) == 4
    assert panel.chart_stack.currentWidget() is panel.charts["gad7"]
    items = [panel.instrument_list.item(i).text() for i in range(panel.instrument_list.count())]
    assert items == [
        "PHQ-9: 8 results",
        "GAD-7: 6 results",
        "WHO-5: 5 results",
        "PSS-10: 2 results",
    ]


def test_badges_say_reliable_change_and_recovery_in_words(qtbot: QtBot) -> None:
    panel = make(qtbot)
    assert panel.change_badge.text() == "Reliable improvement"
    assert panel.recovery_badge.text() == (
        "Recovery: started at or above caseness (10) and is now below it"
    )
    assert panel.summary_label.text() == "First 17 on 2026-03-02; latest 5 on 2026-07-27"
    panel.select_instrument("gad7")
    assert panel.change_badge.text() == "No reliable change"
    assert panel.recovery_badge.text() == (
        "No recovery yet: started at or above caseness (8) and is still there"
    )
    panel.select_instrument("pss10")  # no threshold: no badges, and the cut-off caveat
    assert not panel.change_badge.isVisibleTo(panel)
    assert not panel.recovery_badge.isVisibleTo(panel)
    assert panel.reference_label.isVisibleTo(panel)
    assert panel.reference_label.text() == "Reference ranges: the author publishes no cut-offs."


def test_deterioration_and_a_single_result(qtbot: QtBot) -> None:
    worse = client_results({"phq9": [[1] * 9, [2] * 9], "gad7": [[1] * 7]})
    panel = make(qtbot, worse)
    assert panel.change_badge.text() == "Reliable deterioration"
    assert not panel.recovery_badge.isVisibleTo(panel)  # started below caseness
    panel.select_instrument("gad7")
    assert panel.change_badge.text() == "Change needs a second result"
    assert len(score_line(panel, "gad7").points()) == 1


def test_table_shows_raw_answers_per_item_newest_first(qtbot: QtBot) -> None:
    panel = make(qtbot)
    assert headers(panel) == [
        "Date",
        "Questionnaire",
        "Mode",
        "Total",
        "Band",
        "Flags",
        *[f"Q{n}" for n in range(1, 10)],
        "Q10 (not scored)",
    ]
    rows = shown_rows(panel)
    assert len(rows) == 8
    assert rows[0][:6] == [
        "2026-07-27 12:00",
        "PHQ-9",
        "Self-service screen",
        "5",
        "Mild depressive symptoms",
        "",
    ]
    assert rows[-1][3:] == [
        "17",
        "Moderately severe depressive symptoms",
        "",
        *["3", "2", "2", "2", "2", "2", "2", "2", "0"],
        "1",
    ]
    tip = panel.proxy.index(len(rows) - 1, 6).data(Qt.ItemDataRole.ToolTipRole)
    assert tip == "Q1. Little interest or pleasure in doing things\n3 = Nearly every day"
    assert not panel.answers_note.isVisibleTo(panel)


def test_who5_table_shows_percent_and_raw_codes(qtbot: QtBot) -> None:
    panel = make(qtbot)
    panel.select_instrument("who5")
    assert headers(panel)[6:] == ["Q1", "Q2", "Q3", "Q4", "Q5"]
    oldest = shown_rows(panel)[-1]
    assert oldest[3] == "7 (28 %)"
    assert oldest[4] == "Likely depression: further assessment advised"
    assert oldest[6:] == ["2", "2", "1", "1", "1"]


def test_mentor_sees_totals_and_a_note_instead_of_answers(qtbot: QtBot) -> None:
    hidden = client_results({"phq9": [[1] * 9, [2] * 9]}, answers_visible=False)
    panel = make(qtbot, hidden, can_give=False)
    assert headers(panel) == ["Date", "Questionnaire", "Mode", "Total", "Band", "Flags"]
    assert panel.answers_note.isVisibleTo(panel)
    assert panel.answers_note.text() == (
        "Item answers are shown to experts and emotion regulators only."
    )
    assert [r[3] for r in shown_rows(panel)] == ["18", "9"]
    assert not panel.give_button.isVisibleTo(panel)


def test_table_model_passes_the_model_tester(qtbot: QtBot, qtmodeltester) -> None:
    data = realistic()
    model = AssessmentTableModel([])
    model.show_records(
        [r for r in data.records if r.instrument == "phq9"],
        record_columns(load_instrument("phq9"), True),
    )
    qtmodeltester.check(model)
    assert model.rowCount() == 8
    assert model.columnCount() == 16
    assert model.rowCount(model.index(0, 0)) == 0
    assert model.data(QModelIndex()) is None


def test_give_button_asks_for_a_questionnaire(qtbot: QtBot) -> None:
    panel = make(qtbot)
    with qtbot.waitSignal(panel.questionnaire_requested):
        panel.give_button.click()


def test_loader_is_called_on_reload_and_refusals_are_reported(qtbot: QtBot) -> None:
    service = FakeAssessments(data=realistic())
    prompter = RecordingPrompter()
    record = QWidget()  # the client record the panel sits in
    qtbot.addWidget(record)
    panel = AssessmentsPanel(
        client_loader(service, COUNSELLOR, prompter, client_id=5, parent=record)
    )
    qtbot.addWidget(panel)
    assert service.calls == []  # nothing read until the tab is opened
    assert panel.data is None
    assert panel.empty_label.text() == "No questionnaires yet."
    panel.reload()
    assert service.calls == [{"client_id": 5}]
    assert panel.current_instrument() == "phq9"
    panel.select_instrument("who5")
    panel.reload()  # keeps the instrument being looked at
    assert panel.current_instrument() == "who5"

    class Refusing:
        def client_assessments(self, actor: Actor, *, client_id: int) -> ClientAssessments:
            raise PermissionDenied("You may not see this client's questionnaires.")

    refused = AssessmentsPanel(
        client_loader(Refusing(), COUNSELLOR, prompter, client_id=5, parent=panel)
    )
    qtbot.addWidget(refused)
    refused.reload()
    assert refused.data is None
    assert prompter.shown[-1][2] == "You may not see this client's questionnaires."


def test_clear_forgets_everything(qtbot: QtBot) -> None:
    panel = make(qtbot)
    panel.clear()
    assert panel.data is None
    assert panel.charts == {}
    assert panel.model.rowCount() == 0
    assert panel.instrument_list.count() == 0
    assert not panel.change_badge.isVisibleTo(panel)


def test_chinese_titles_and_band_names(qtbot: QtBot) -> None:
    set_language("zh_CN")
    panel = make(qtbot)
    chart = panel.chart("phq9")
    assert chart is not None
    assert chart.title() == load_instrument("phq9").title.zh_cn
    assert areas(panel, "phq9")[-1].name() == "无或极轻微抑郁症状"
    assert shown_rows(panel)[0][4] == "轻度抑郁症状"


def test_scale_ticks_divide_every_scale() -> None:
    assert [tick_interval(span) for span in (27, 21, 100, 40, 10)] == [3, 3, 10, 5, 2]


def test_about_twenty_results_open_in_under_100_ms(qtbot: QtBot) -> None:
    data = realistic()
    assert len(data.records) == 21
    started = time.perf_counter()
    panel = AssessmentsPanel(data)
    qtbot.addWidget(panel)
    panel.resize(1100, 760)
    panel.show()
    QApplication.processEvents()  # layout and first paint of the chart
    elapsed = time.perf_counter() - started
    assert panel.chart("phq9") is not None
    assert elapsed < 0.1, f"{elapsed * 1000:.0f} ms"
