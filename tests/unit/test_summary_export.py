"""The summary report as CSV and Excel: the same figures as the report data, small numbers of
people as hidden as the data hides them, user-typed text never read as a formula, and nothing
about a person (name, client code) in either file."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select

from carestation.assessments import load_instrument
from carestation.db import models as m
from carestation.domain.assessment_values import BandCount
from carestation.domain.summary_values import (
    AppointmentFigures,
    BlockFigures,
    ChangeFigures,
    PeopleGroup,
    Rate,
    StationFigures,
    StationRef,
    SummaryBlock,
    SummaryReportData,
    Use,
    WaitingFigures,
)
from carestation.domain.vocab import (
    AppointmentStatus,
    AppointmentType,
    Modality,
    RoomKind,
    Topic,
)
from carestation.reports.summary_export import (
    summary_table,
    write_summary_csv,
    write_summary_xlsx,
)
from carestation.services.container import Services
from tests.factories import build_world
from tests.unit.summary_data import (
    add_appointment,
    add_case,
    add_clients,
    add_flag,
    add_form,
    add_station,
    local,
    register,
    reports,
)

JAN = date(2026, 1, 1)
REPORT = "R-000123"
HEADERS_EN = ["Month", "Station", "Section", "Measure", "Category", "Value", "Unit"]
# People cells of the four-client station shown as "<10": all but the eight other topics and
# the nine cells of the two questionnaires nobody took (53 people cells in all).
SMALL_CELLS = 53 - 8 - 9

# --------------------------------------------------------------------------- data by hand


def _shown(n: int | None, mark: str = "<10") -> BandCount:
    return BandCount("", n, str(n) if n is not None else mark)


def _cell(band: str, n: int | None, mark: str = "<10") -> BandCount:
    return BandCount(band, n, str(n) if n is not None else mark)


def _group(instrument: str, counts: list[int | None], total: int | None) -> PeopleGroup:
    bands = [b.slug for b in load_instrument(instrument).bands]
    cells = tuple(_cell(b, counts[i] if i < len(counts) else 0) for i, b in enumerate(bands))
    return PeopleGroup(instrument, cells, _cell("total", total, "·"))


def _outcomes(instrument: str, counts: tuple[int | None, int | None, int | None]) -> PeopleGroup:
    keys = ("improved", "deteriorated", "no_reliable_change")
    cells = tuple(_cell(k, n, "·") for k, n in zip(keys, counts, strict=True))
    total = sum(n for n in counts if n is not None) if None not in counts else 40
    return PeopleGroup(instrument, cells, _cell("total", total))


def _figures(scale: int, *, no_rates: bool = False) -> BlockFigures:
    """A block's figures: everything visible and proportional to `scale`, except the cells a
    suppressed table would hide (marked "<10" or "·")."""
    due = 0 if no_rates else 20 * scale
    return BlockFigures(
        appointments=AppointmentFigures(
            by_type={t: scale * (i + 1) for i, t in enumerate(AppointmentType)},
            by_modality={mo: scale * (i + 2) for i, mo in enumerate(Modality)},
            by_status={s: scale * (i + 3) for i, s in enumerate(AppointmentStatus)},
            no_show=Rate(events=scale if due else 0, out_of=due),
            late_cancellation=Rate(events=scale if due else 0, out_of=8 * scale if due else 0),
        ),
        counsellor_hours=Use(used_minutes=90 * scale, available_minutes=0 if no_rates else 600),
        rooms={kind: Use(30 * scale, 0 if no_rates else 1200) for kind in RoomKind},
        lectures_held=scale,
        lecture_attendance=_shown(12 * scale),
        topics=tuple(_cell(t.value, 11 * scale if t is Topic.WORK_STRESS else None) for t in Topic),
        waiting=WaitingFigures(_shown(15 * scale), 6, 21, "6", "21"),
        bands=(
            _group("phq9", [None, 30 * scale, None], 45 * scale),
            _group("gad7", [25 * scale, 11], 36 * scale + 11),
            _group("who5", [], 0),
            _group("pss10", [], 0),
            _group("k10", [], 0),
        ),
        changes=(
            ChangeFigures("phq9", _outcomes("phq9", (25, 15, 0)), _shown(12)),
            ChangeFigures("gad7", _outcomes("gad7", (None, None, 0)), _shown(None, "·")),
            ChangeFigures("who5", _outcomes("who5", (0, 0, 0)), None),
        ),
        crisis_raised=_shown(None),
        crisis_closed=_shown(0),
    )


def _data(
    names: tuple[str, ...] = ("北站", "南站"), *, grouping: str = "month", blocks: int = 2
) -> SummaryReportData:
    labels = ["2026-01", "2026-02", "2026-03"] if grouping == "month" else ["2026 Q1", "2026 Q2"]
    built = []
    for b in range(blocks):
        stations = tuple(
            StationFigures(i + 1, name, _figures(i + b + 1)) for i, name in enumerate(names)
        )
        built.append(
            SummaryBlock(
                first_month=date(2026, b + 1, 1),
                last_month=date(2026, b + 1, 1),
                label=labels[b],
                stations=stations,
                selection=_figures(10 + b),
            )
        )
    return SummaryReportData(
        first_month=JAN,
        last_month=date(2026, blocks, 1),
        grouping=grouping,  # type: ignore[arg-type]
        k=10,
        stations=tuple(StationRef(i + 1, n) for i, n in enumerate(names)),
        blocks=tuple(built),
        generated_at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        hidden_mark_used=True,
    )


# --------------------------------------------------------------------------- reading back


def _csv(data: SummaryReportData, lang: str = "en") -> tuple[bytes, list[list[str]], int]:
    out = io.BytesIO()
    n = write_summary_csv(out, data=data, lang=lang, report_number=REPORT)
    raw = out.getvalue()
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""))), n


def _xlsx(data: SummaryReportData, lang: str = "en") -> tuple[openpyxl.Workbook, int]:
    out = io.BytesIO()
    n = write_summary_xlsx(out, data=data, lang=lang, report_number=REPORT)
    out.seek(0)
    return openpyxl.load_workbook(out), n


def _values(ws: Worksheet) -> list[list[Any]]:
    return [list(row) for row in ws.iter_rows(values_only=True)]


def _all_texts(wb: openpyxl.Workbook) -> list[str]:
    return [str(v) for ws in wb.worksheets for row in _values(ws) for v in row if v is not None]


# --------------------------------------------------------------------------- the long table


def test_the_long_table_has_a_row_per_figure_for_the_selection_then_each_station() -> None:
    headers, rows = summary_table(_data(), "en")
    assert headers == HEADERS_EN
    per_block = len([r for r in rows if r[0] == "2026-01" and r[1] == "All chosen stations"])
    assert per_block == 89
    assert len(rows) == 2 * 3 * per_block
    # Block by block: the selection first, then the stations in report order.
    order = list(dict.fromkeys((r[0], r[1]) for r in rows))
    assert order == [
        ("2026-01", "All chosen stations"),
        ("2026-01", "北站"),
        ("2026-01", "南站"),
        ("2026-02", "All chosen stations"),
        ("2026-02", "北站"),
        ("2026-02", "南站"),
    ]
    selection = [r[2:] for r in rows if r[:2] == ["2026-01", "All chosen stations"]]
    expected = [
        ["Appointments", "By type", "Individual counselling", "10", "appointments"],
        ["Appointments", "By status", "No-show", "70", "appointments"],
        ["Appointments", "All appointments", "", str(10 * (3 + 4 + 5 + 6 + 7)), "appointments"],
        ["Appointments", "No-show rate", "", "5.0%", "%"],
        ["Appointments", "Late-cancellation rate", "", "12.5%", "%"],
        ["Counsellors' hours", "Hours booked", "", "15.0", "hours"],
        ["Counsellors' hours", "Use", "", "150.0%", "%"],
        ["Room use", "Hours booked", "Emotion pod", "5.0", "hours"],
        ["Lectures", "Lectures held", "", "10", "lectures"],
        ["Lectures", "Attendance", "", "120", "people"],
        ["Topics", "People by topic", "Work stress", "110", "people"],
        ["Topics", "People by topic", "Parent-child", "<10", "people"],
        ["Waiting time", "Median", "", "6", "days"],
        ["Assessment bands", "PHQ-9", "None or minimal depressive symptoms", "<10", "people"],
        ["Assessment bands", "PHQ-9", "Mild depressive symptoms", "300", "people"],
        ["Assessment bands", "PHQ-9", "All who answered", "450", "people"],
        ["Change in closed cases", "PHQ-9", "Deteriorated", "15", "people"],
        ["Change in closed cases", "GAD-7", "Improved", "·", "people"],
        ["Change in closed cases", "GAD-7", "Recovered", "·", "people"],
        ["Crisis flags", "People with a flag raised", "", "<10", "people"],
        ["Crisis flags", "People with a flag cleared", "", "0", "people"],
    ]
    for row in expected:
        assert row in selection
    # WHO-5 has no recovery (no caseness): no such row.
    assert ["Change in closed cases", "WHO-5", "Recovered"] not in [r[:3] for r in selection]


def test_one_station_is_not_repeated_under_its_own_name() -> None:
    _headers, rows = summary_table(_data(("北站",)), "en")
    assert {r[1] for r in rows} == {"All chosen stations"}
    assert len(rows) == 2 * 89


def test_rates_with_nothing_to_count_from_print_a_dash() -> None:
    data = _data()
    empty = SummaryBlock(JAN, JAN, "2026-01", data.blocks[0].stations, _figures(1, no_rates=True))
    data = SummaryReportData(**{**data.__dict__, "blocks": (empty,)})
    _headers, rows = summary_table(data, "en")
    rates = {(r[3], r[4]): r[5] for r in rows if r[1] == "All chosen stations" and r[6] == "%"}
    assert len(rates) == 2 + 1 + len(RoomKind)
    assert set(rates.values()) == {"—"}


def test_a_quarterly_report_labels_its_blocks_by_quarter() -> None:
    headers, rows = summary_table(_data(grouping="quarter"), "en")
    assert headers[0] == "Quarter"
    assert [r[0] for r in rows][:1] == ["2026 Q1"]
    assert {r[0] for r in rows} == {"2026 Q1", "2026 Q2"}


def test_chinese_labels_come_from_the_report_language_not_the_screen() -> None:
    headers, rows = summary_table(_data(), "zh_CN")
    assert headers[0] == "月份"
    assert any(r[2] == "预约" and r[4] == "个体咨询" for r in rows)
    assert any(r[3] == "PHQ-9" and r[4] == "轻度抑郁症状" for r in rows)
    assert any(r[4] == "全部作答者" for r in rows)
    assert any(r[4] == "工作压力" for r in rows)
    assert any(r[4] == "情绪调节舱" for r in rows)
    assert not any(r[4] in ("Individual counselling", "Work stress") for r in rows)
    _h, english = summary_table(_data(), "en")
    assert any(r[4] == "Individual counselling" for r in english)


# --------------------------------------------------------------------------- CSV


def test_csv_is_utf8_with_a_bom_and_reads_back_as_the_table_with_the_report_number() -> None:
    data = _data()
    raw, read, n = _csv(data)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in raw
    headers, rows = summary_table(data, "en")
    assert read[0] == ["Report number", *headers]
    assert read[1:] == [[REPORT, *row] for row in rows]
    assert n == len(rows) == len(read) - 1


def test_csv_in_chinese_reads_back_in_chinese() -> None:
    raw, read, _n = _csv(_data(), "zh_CN")
    assert raw.startswith(b"\xef\xbb\xbf")
    assert read[0][1] == "月份"
    assert any(row[5] == "个体咨询" for row in read[1:])
    assert any(row[2] == "北站" for row in read[1:])


def test_csv_quotes_commas_quotes_and_line_breaks_in_station_names() -> None:
    name = 'Station "East", floor 2\nannex'
    _raw, read, _n = _csv(_data((name, "南站")))
    assert name in {row[2] for row in read[1:]}


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://x","y")', "+86 575", "-1+2", "@SUM(A1)", "\t=1"]
)
def test_station_names_a_spreadsheet_would_run_as_a_formula_are_defused(name: str) -> None:
    _raw, read, _n = _csv(_data((name, "南站")))
    assert "'" + name in {row[2] for row in read[1:]}
    assert name not in {row[2] for row in read[1:]}
    wb, _n = _xlsx(_data((name, "南站")))
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f"
                if cell.value == name:
                    assert cell.data_type == "s"
                    assert cell.quotePrefix
    figures = wb.worksheets[0]
    assert any(c.value == name and c.quotePrefix for c in figures["B"])


# --------------------------------------------------------------------------- XLSX


def test_xlsx_reads_back_as_the_same_figures_with_full_numbers_as_numbers() -> None:
    data = _data()
    wb, n = _xlsx(data)
    assert wb.sheetnames == [
        "Figures",
        "About",
        "Appointments",
        "Counsellors' hours",
        "Room use",
        "Lectures",
        "Topics",
        "Waiting time",
        "Assessment bands",
        "Change in closed cases",
        "Crisis flags",
    ]
    ws = wb["Figures"]
    headers, rows = summary_table(data, "en")
    values = _values(ws)
    assert values[0] == headers
    assert n == len(rows) == len(values) - 1
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:G{n + 1}"
    assert all(ws.column_dimensions[c].width > 8 for c in "ABCDEFG")
    for text_row, row in zip(rows, values[1:], strict=True):
        value = row[5]
        assert [v or "" for v in row[:5] + row[6:]] == text_row[:5] + text_row[6:]
        if isinstance(value, str):
            assert value == text_row[5]
            assert value in ("<10", "·", "—")
        elif text_row[6] == "%":
            assert f"{value * 100:.1f}%" == text_row[5]
        elif text_row[6] == "hours":
            assert f"{value:.1f}" == text_row[5]
        else:
            assert isinstance(value, int)
            assert str(value) == text_row[5]
    # Formats: rates as percentages, hours with one decimal.
    by_measure = {
        (r[0].value, r[1].value, r[3].value, r[4].value): r[5] for r in ws.iter_rows(min_row=2)
    }
    rate = by_measure[("2026-01", "All chosen stations", "No-show rate", None)]
    assert (rate.value, rate.number_format) == (0.05, "0.0%")
    hours = by_measure[("2026-01", "All chosen stations", "Hours booked", None)]
    assert (hours.value, hours.number_format) == (15.0, "0.0")


def test_xlsx_about_sheet_says_what_the_report_covers_and_how_to_read_it() -> None:
    wb, _n = _xlsx(_data())
    about = {row[0]: row[1:] for row in _values(wb["About"]) if row and row[0]}
    assert about["Report number"][0] == REPORT
    assert about["Period"][0] == "2026-01 to 2026-02"
    assert about["Blocks"][0] == "By month"
    assert about["Numbers of people hidden below"][0] == "10"
    assert about["Generated"][0] == "2026-03-02 09:30"
    texts = _all_texts(wb)
    assert "北站" in texts
    assert "南站" in texts
    assert any(t.startswith("<10: fewer than 10 people") for t in texts)
    assert any(t.startswith("·: not shown") for t in texts)
    assert "No names, no client codes, no notes: this report holds counts only." in texts


def test_xlsx_properties_are_neutral() -> None:
    wb, _n = _xlsx(_data())
    props = wb.properties
    assert props.title == "CareStation report R-000123"
    assert props.creator == "CareStation"
    assert props.lastModifiedBy == "CareStation"
    assert (props.subject, props.description, props.keywords) == (None, None, None)


def test_xlsx_wide_sheet_has_a_row_per_block_for_the_selection() -> None:
    wb, _n = _xlsx(_data())
    ws = wb["Appointments"]
    values = _values(ws)
    assert values[0][:3] == ["Month", "By type", "By type"]
    assert values[1][:3] == [None, "Individual counselling", "Emotion-pod session"]
    assert [row[0] for row in values[2:]] == ["2026-01", "2026-02"]
    assert values[2][1:3] == [10, 20]  # the selection's, scale 10; not a station's
    assert values[3][1:3] == [11, 22]
    assert ws.freeze_panes == "B3"
    # A section without categories has one header row.
    crisis = wb["Crisis flags"]
    assert _values(crisis)[:2] == [
        ["Month", "People with a flag raised", "People with a flag cleared"],
        ["2026-01", "<10", 0],
    ]
    assert crisis.freeze_panes == "B2"
    bands = _values(wb["Assessment bands"])
    column = bands[1].index("None or minimal depressive symptoms")
    assert bands[0][column] == "PHQ-9"
    assert bands[2][column] == "<10"


def test_xlsx_in_chinese() -> None:
    wb, _n = _xlsx(_data(), "zh_CN")
    figures = wb.worksheets[0]
    assert figures["A1"].value == "月份"
    texts = set(_all_texts(wb))
    assert {"个体咨询", "轻度抑郁症状", "全部作答者", "北站"} <= texts
    assert "Individual counselling" not in texts


def test_xlsx_is_written_without_temporary_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import openpyxl.worksheet._writer as sheet_writer

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a temporary file was opened")

    monkeypatch.setattr(sheet_writer, "NamedTemporaryFile", refuse)
    target = tmp_path / "summary.xlsx"
    n = write_summary_xlsx(target, data=_data(), lang="en", report_number=REPORT)
    assert [p.name for p in tmp_path.iterdir()] == ["summary.xlsx"]
    assert openpyxl.load_workbook(target)["Figures"].max_row == n + 1


def test_both_writers_accept_a_path(tmp_path: Path) -> None:
    n = write_summary_csv(tmp_path / "s.csv", data=_data(), lang="en", report_number=REPORT)
    read = list(csv.reader(io.StringIO((tmp_path / "s.csv").read_text("utf-8-sig"), newline="")))
    assert len(read) == n + 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv"]


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported language"):
        write_summary_csv(io.BytesIO(), data=_data(), lang="fr", report_number=REPORT)


# --------------------------------------------------------------------------- real data


def _four_clients(services: Services) -> tuple[SummaryReportData, list[str], list[str]]:
    """A station with four clients, each with a case, an appointment, questionnaires, a crisis
    flag and a lecture: every number of people in it is below k. Returns the report and the
    client codes and names that must not appear."""
    world = build_world(services)
    station = add_station(services, world, "小站")
    clients = add_clients(services, 4, created=local(2026, 1, 2), station_id=station)
    counsellor = world.counsellor.user_id
    for i, client in enumerate(clients):
        day = 5 + i
        case = add_case(
            services, station_id=station, client_id=client, counsellor_id=counsellor,
            opened=local(2026, 1, day, 9), closed=local(2026, 1, 28), topics=(Topic.WORK_STRESS,),
        )  # fmt: skip
        add_appointment(
            services, station_id=station, starts=local(2026, 1, day, 14), client_id=client,
            counsellor_id=counsellor, case_id=case, topic=Topic.WORK_STRESS,
        )  # fmt: skip
        for instrument, first, last in (("phq9", 16, 4), ("gad7", 12, 3), ("who5", 8, 20)):
            add_form(services, station_id=station, taken=local(2026, 1, day, 14, 30),
                     total=first, instrument=instrument, client_id=client, case_id=case)  # fmt: skip
            add_form(services, station_id=station, taken=local(2026, 1, 27), total=last,
                     instrument=instrument, client_id=client, case_id=case)  # fmt: skip
        add_flag(services, station_id=station, client_id=client, raised=local(2026, 1, day, 15),
                 cleared=local(2026, 1, 20))  # fmt: skip
    lecture = add_appointment(
        services, station_id=station, starts=local(2026, 1, 22, 14), minutes=90,
        type_=AppointmentType.LECTURE,
    )  # fmt: skip
    for client in clients:
        register(services, lecture, client, attended=True)
    data = reports(services).summary(
        world.manager,
        first_month=JAN,
        last_month=JAN,
        station_ids=[station, world.station_id],
        grouping="month",
    )
    with services.db.read() as session:
        people = session.execute(
            select(m.Client.client_code, m.Client.name).where(m.Client.id.in_(clients))
        ).all()
    codes = [code for code, _name in people]
    names = [name for _code, name in people] + [
        world.counsellor.display_name,
        world.manager.display_name,
    ]
    return data, codes, names


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_a_station_with_four_clients_shows_no_number_of_people_in_either_file(
    services: Services, lang: str
) -> None:
    data, codes, names = _four_clients(services)
    _h, english = summary_table(data, "en")
    people = [i for i, r in enumerate(english) if r[6] in ("people", "days")]
    assert len(people) == 3 * 53  # the selection and both stations
    raw, read, _n = _csv(data, lang)
    wb, _n = _xlsx(data, lang)
    figures = _values(wb.worksheets[0])
    # Every number of people (and every waiting time) is "<10" or "0", in both files.
    for i in people:
        assert read[i + 1][6] in ("<10", "0", "—"), english[i]
        assert figures[i + 1][5] in ("<10", 0, "—"), english[i]
    small = Counter(english[i][1] for i in people if read[i + 1][6] == "<10")
    assert small == {"All chosen stations": SMALL_CELLS, "小站": SMALL_CELLS}
    # The wide sheets about people (topics onwards) hold no number from 1 to 9 either.
    for ws in wb.worksheets[6:]:
        for row in _values(ws)[2:]:
            assert not any(isinstance(v, int) and 0 < v < 10 for v in row[1:]), ws.title
    # Operational counts stay in full: four counselling appointments, one lecture.
    small_station = [r[2:] for r in english if r[1] == "小站"]
    assert ["Appointments", "By type", "Individual counselling", "4", "appointments"] in (
        small_station
    )
    assert ["Lectures", "Lectures held", "", "1", "lectures"] in small_station
    # Nothing about a person: no client code, no name, in either file.
    everything = raw.decode("utf-8-sig") + "\n".join(_all_texts(wb))
    for secret in codes + names:
        assert secret not in everything
