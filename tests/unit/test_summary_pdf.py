"""The managers' summary report as a PDF, read back with poppler (text, fonts, metadata) and
checked with qpdf: crafted data from the database (a station with four clients, a known client
code and name that must never be printed), and made-up figures for the sizes the report must
handle (one block, sixty blocks, one station, a hundred and twenty stations)."""

from __future__ import annotations

import io
import itertools
import os
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from reportlab.graphics.shapes import Circle, Drawing, Rect, String
from reportlab.pdfbase.pdfmetrics import stringWidth

from carestation.assessments import load_instrument
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
from carestation.reports import translator
from carestation.reports.fonts import register_fonts
from carestation.reports.summary import summary_report_title, write_summary_report
from carestation.reports.summary_charts import Series, label_step, lines, stacked_bars
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

NUMBER = "R-000042"
INSTRUMENTS = ("phq9", "gad7", "who5", "pss10", "k10")
CHANGED = ("phq9", "gad7", "who5")


def _tool(name: str) -> str:
    """The command, or a skip (a failure on CI, where the tools must be installed)."""
    found = shutil.which(name)
    if found is None:
        message = f"needs {name} (poppler-utils / qpdf)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def _run(*args: str) -> str:
    return subprocess.run(
        [_tool(args[0]), *args[1:]], capture_output=True, text=True, check=True
    ).stdout


def _write(tmp_path: Path, data: SummaryReportData, lang: str) -> tuple[Path, int]:
    buffer = io.BytesIO()
    pages = write_summary_report(buffer, data=data, lang=lang, report_number=NUMBER)
    path = tmp_path / f"summary-{lang}.pdf"
    path.write_bytes(buffer.getvalue())
    return path, pages


def _text(pdf: Path) -> str:
    return " ".join(_run("pdftotext", "-layout", str(pdf), "-").split())


def _checked(pdf: Path) -> dict[str, str]:
    """Every font embedded, the file structurally sound; returns pdfinfo's fields."""
    rows = _run("pdffonts", str(pdf)).splitlines()[2:]
    assert rows, "no fonts listed"
    for row in rows:
        assert re.search(r"\syes\s+yes\s+yes\s", row), row  # emb sub uni
    assert "No syntax or stream encoding errors" in _run("qpdf", "--check", str(pdf))
    info = {}
    for line in _run("pdfinfo", str(pdf)).splitlines():
        key, _sep, value = line.partition(":")
        info[key.strip()] = value.strip()
    return info


# --------------------------------------------------------------------------- made-up figures


def _cell(key: str, count: int | None, k: int = 10) -> BandCount:
    if count is None:
        return BandCount(key, None, "·")
    if 0 < count < k:
        return BandCount(key, None, f"<{k}")
    return BandCount(key, count, str(count))


def _group(key: str, cells: dict[str, int | None], total: int | None) -> PeopleGroup:
    return PeopleGroup(key, tuple(_cell(b, n) for b, n in cells.items()), _cell("total", total))


def _figures(seed: int, *, tiny: bool = False) -> BlockFigures:
    """Plausible figures; `tiny`: a station with almost nothing (every people cell "<10",
    no room, no hours)."""
    n = 0 if tiny else 40 + seed % 17
    statuses = {s: 0 for s in AppointmentStatus}
    statuses[AppointmentStatus.COMPLETED] = 2 if tiny else n * 8
    statuses[AppointmentStatus.CANCELLED] = 0 if tiny else n
    statuses[AppointmentStatus.NO_SHOW] = 0 if tiny else n // 3 + seed % 5
    total = sum(statuses.values())
    types = {t: 0 for t in AppointmentType}
    types[AppointmentType.COUNSELLING] = total - (0 if tiny else n * 2)
    types[AppointmentType.POD] = 0 if tiny else n * 2
    modes = {m: 0 for m in Modality}
    modes[Modality.IN_PERSON] = total
    people = 3 if tiny else n
    bands = []
    for code in INSTRUMENTS:
        definition = load_instrument(code)
        slugs = [b.slug for b in definition.bands]
        counts: dict[str, int | None] = {s: (3 if tiny else people // len(slugs)) for s in slugs}
        if not tiny and seed % 3 == 0:
            counts[slugs[-1]] = 4  # a small cell, and its neighbour hidden with it
            counts[slugs[0]] = None
        bands.append(_group(code, counts, 3 if tiny else people))
    changes = tuple(
        ChangeFigures(
            code,
            _group(
                code,
                {"improved": people, "deteriorated": 2, "no_reliable_change": None},
                people * 2,
            ),
            None if code == "who5" else _cell("recovered", people // 2),
        )
        for code in CHANGED
    )
    minutes = 0 if tiny else 6000 + seed * 37 % 900
    return BlockFigures(
        appointments=AppointmentFigures(
            by_type=types,
            by_modality=modes,
            by_status=statuses,
            no_show=Rate(statuses[AppointmentStatus.NO_SHOW], 0 if tiny else total),
            late_cancellation=Rate(seed % 4, 0 if tiny else total),
        ),
        counsellor_hours=Use(minutes, 0 if tiny else 18000),
        rooms={k: Use(minutes // 3, 0 if tiny else 20000) for k in RoomKind},
        lectures_held=0 if tiny else 1 + seed % 3,
        lecture_attendance=_cell("attended", 4 if tiny else 30 + seed % 11),
        topics=tuple(_cell(t.value, 5 if tiny else people + i) for i, t in enumerate(Topic)),
        waiting=WaitingFigures(
            people=_cell("people", 2 if tiny else people),
            median_days=None if tiny else 9,
            p90_days=None if tiny else 16,
            shown_median="<10" if tiny else "9",
            shown_p90="<10" if tiny else "16",
        ),
        bands=tuple(bands),
        changes=changes,
        crisis_raised=_cell("raised", 1 if tiny else 0),
        crisis_closed=_cell("closed", 1 if tiny else 0),
    )


def _made_up(
    *, stations: int, blocks: int, grouping: str = "month", tiny: int | None = None
) -> SummaryReportData:
    refs = tuple(StationRef(i + 1, f"职工情绪管理服务站 {i + 1:03d} 号") for i in range(stations))
    out = []
    for b in range(blocks):
        if grouping == "month":
            start = date(2022 + b // 12, b % 12 + 1, 1)
            label, last = f"{start:%Y-%m}", start
        else:
            start = date(2022 + b // 4, b % 4 * 3 + 1, 1)
            label, last = f"{start.year} Q{b % 4 + 1}", date(start.year, start.month + 2, 1)
        rows = tuple(
            StationFigures(r.id, r.name, _figures(b + r.id, tiny=r.id == tiny)) for r in refs
        )
        selection = rows[0].figures if stations == 1 else _figures(b * 7, tiny=False)
        out.append(SummaryBlock(start, last, label, rows, selection))
    return SummaryReportData(
        first_month=out[0].first_month,
        last_month=out[-1].last_month,
        grouping=grouping,  # type: ignore[arg-type]
        k=10,
        stations=refs,
        blocks=tuple(out),
        generated_at=datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
        hidden_mark_used=True,
    )


# --------------------------------------------------------------------------- crafted data


CODE, NAME = "ABCD-EFGH-1", "张三"


@pytest.fixture
def four_clients(services: Services) -> SummaryReportData:
    """A station with four clients (every count of people below k) and the world's client
    (code and name known) with a form and a crisis flag at another station."""
    world = build_world(services)
    station = add_station(services, world, "小站")
    clients = add_clients(services, 4, created=local(2026, 1, 2), station_id=station)
    counsellor = world.counsellor.user_id
    for i, client in enumerate(clients):
        day = 5 + i
        case = add_case(services, station_id=station, client_id=client, counsellor_id=counsellor,
                        opened=local(2026, 1, day, 9), closed=local(2026, 1, 28),
                        topics=(Topic.WORK_STRESS,))  # fmt: skip
        add_appointment(services, station_id=station, starts=local(2026, 1, day, 14),
                        client_id=client, counsellor_id=counsellor, case_id=case,
                        topic=Topic.WORK_STRESS)  # fmt: skip
        for instrument, first, last in (("phq9", 16, 4), ("gad7", 12, 3)):
            add_form(services, station_id=station, taken=local(2026, 1, day, 14, 30),
                     total=first, instrument=instrument, client_id=client, case_id=case)  # fmt: skip
            add_form(services, station_id=station, taken=local(2026, 1, 27), total=last,
                     instrument=instrument, client_id=client, case_id=case)  # fmt: skip
        add_flag(services, station_id=station, client_id=client, raised=local(2026, 1, day, 15),
                 cleared=local(2026, 1, 20))  # fmt: skip
    lecture = add_appointment(services, station_id=station, starts=local(2026, 1, 22, 14),
                              minutes=90, type_=AppointmentType.LECTURE)  # fmt: skip
    for client in clients:
        register(services, lecture, client, attended=True)
    add_appointment(services, station_id=world.station_id, starts=local(2026, 1, 9, 10),
                    client_id=world.client_id, counsellor_id=counsellor)  # fmt: skip
    add_form(services, station_id=world.station_id, taken=local(2026, 1, 9, 11), total=20,
             client_id=world.client_id)  # fmt: skip
    add_flag(services, station_id=world.station_id, client_id=world.client_id,
             raised=local(2026, 1, 9, 12))  # fmt: skip
    return reports(services).summary(
        world.manager,
        first_month=date(2026, 1, 1),
        last_month=date(2026, 1, 1),
        station_ids=[station, world.station_id],
        grouping="month",
    )


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_a_station_with_four_clients_prints_only_hidden_people_and_no_client(
    tmp_path: Path, four_clients: SummaryReportData, lang: str
) -> None:
    pdf, pages = _write(tmp_path, four_clients, lang)
    info = _checked(pdf)
    assert info["Pages"] == str(pages)
    assert (info["Title"], info["Author"], info["Creator"]) == (
        "CareStation report R-000042",
        "CareStation",
        "CareStation",
    )
    assert "Subject" not in info or info["Subject"] == ""
    text = _text(pdf)
    _ = translator(lang)
    for heading in (
        "Employee wellbeing stations: summary report",
        "Appointments by type and modality",
        "Assessment bands",
        "Change in closed cases (people)",
        "Stations at a glance, whole period",
    ):
        assert " ".join(_(heading).split()) in text, heading
    assert "小站" in text
    assert "暨阳街道职工情绪管理服务站" in text
    assert NUMBER in text
    assert "2026-01" in text
    assert load_instrument("phq9").title.text(lang) in text
    assert _(AppointmentType.COUNSELLING.msgid) in text
    # Nobody: no client code, no name, no counsellor, no user.
    for secret in (CODE, NAME, "测试", "T0000", "陈静", "赵主席", "manager"):
        assert secret not in text, secret
    assert "<10" in text
    assert "—" in text  # the small station has no room: its room use has nothing to measure
    assert _("Page {page} of {pages}").format(page=pages, pages=pages) in text


def _station_rows(pdf: Path, station: str) -> list[str]:
    """The text lines of `station`'s own section (from its title to the next station's)."""
    lines_ = _run("pdftotext", "-layout", str(pdf), "-").splitlines()
    start = max(i for i, line in enumerate(lines_) if line.strip() == station)
    return lines_[start:]


def test_the_small_stations_section_shows_every_person_count_as_below_k(
    tmp_path: Path, four_clients: SummaryReportData
) -> None:
    pdf, _pages = _write(tmp_path, four_clients, "en")
    section = _station_rows(pdf, "小站")
    end = next(i for i, line in enumerate(section) if "暨阳街道职工情绪管理服务站" in line)
    # Tables side by side share a text line: each block row starts with the block's label.
    rows = [
        ["2026-01", *part.split()] for line in section[:end] for part in line.split("2026-01")[1:]
    ]
    # appointments, status | use, waiting/lectures/crisis, topics, PHQ-9 | GAD-7,
    # WHO-5 | PSS-10, K10, change
    assert len(rows) == 11
    waiting = rows[3]
    assert waiting == ["2026-01", "<10", "<10", "<10", "1", "<10", "<10", "<10"]
    # PHQ-9 and GAD-7 (side by side, so in either order): every band and all who answered
    assert sorted([rows[5][1:], rows[6][1:]], key=len) == [["<10"] * 5, ["<10"] * 6]
    for row in rows[3:]:
        people = [c for c in row[1:] if c not in {"<10", "0", "—", "1"}]
        assert people == [], row  # nothing from 1 to 9 printed as a number of people


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_twenty_quarters_of_made_up_figures_split_their_tables_and_label_every_block(
    tmp_path: Path, lang: str
) -> None:
    data = _made_up(stations=3, blocks=20, grouping="quarter")
    pdf, pages = _write(tmp_path, data, lang)
    _checked(pdf)
    text = _text(pdf)
    assert all(block.label in text for block in data.blocks)
    assert pages > 10


def test_sixty_months_and_a_tiny_station(tmp_path: Path) -> None:
    data = _made_up(stations=2, blocks=60, tiny=2)
    pdf, pages = _write(tmp_path, data, "zh_CN")
    _checked(pdf)
    text = _text(pdf)
    assert "2022-01" in text
    assert "2026-12" in text
    assert "·" in text  # the hidden mark, and its note on the heading page
    hidden_note = translator("zh_CN")(
        "·: not shown, so that a number below {k} cannot be worked out from the total and the "
        "other numbers."
    ).format(k=10)
    assert " ".join(hidden_note.split())[:12] in text
    assert pages > 20


def test_a_hundred_and_twenty_stations_each_get_their_section(tmp_path: Path) -> None:
    data = _made_up(stations=120, blocks=1)
    pdf, pages = _write(tmp_path, data, "en")
    text = _text(pdf)
    for ref in data.stations:
        assert text.count(ref.name) >= 2  # the overview table and its own section
    assert pages >= 120


def test_one_station_one_block_has_no_per_station_repeat(tmp_path: Path) -> None:
    data = _made_up(stations=1, blocks=1)
    pdf, pages = _write(tmp_path, data, "en")
    _checked(pdf)
    text = _text(pdf)
    name = data.stations[0].name
    assert "Stations at a glance" not in text
    assert "All chosen stations together" not in text
    assert text.count(name) == 2  # the heading page, and the title of its figures
    assert pages <= 8


def test_the_title_is_neutral() -> None:
    assert summary_report_title("R-000123") == "CareStation report R-000123"


def test_unsupported_language_and_empty_data_are_refused() -> None:
    data = _made_up(stations=1, blocks=1)
    with pytest.raises(ValueError, match="unsupported language"):
        write_summary_report(io.BytesIO(), data=data, lang="fr", report_number=NUMBER)
    with pytest.raises(ValueError, match="at least one block"):
        write_summary_report(
            io.BytesIO(), data=replace(data, blocks=()), lang="en", report_number=NUMBER
        )


# --------------------------------------------------------------------------- charts


def _shapes(drawing: Drawing, kind: type) -> list:
    return [s for s in drawing.contents if isinstance(s, kind)]


def test_a_hidden_count_is_not_drawn_as_a_bar_but_marked() -> None:
    font = register_fonts()
    chart = stacked_bars(
        ["2026-01", "2026-02"],
        [Series("mild", (12.0, None)), Series("severe", (None, 30.0))],
        width=400,
        height=120,
        font=font,
        hidden_note="hidden",
    )
    bars = [r for r in _shapes(chart, Rect) if r.fillColor is not None and r.width < 100]
    # legend swatches are 8 wide; bars are the rest: one per shown value, none for hidden.
    drawn = [r for r in bars if r.width != 8]
    assert len(drawn) == 2
    assert sorted(round(r.height) for r in drawn) != [0, 0]
    markers = [c for c in _shapes(chart, Circle) if c.fillColor is not None]
    assert len(markers) == 3  # one per block with a hidden value, and the legend's
    assert any(isinstance(s, String) and s.text == "hidden" for s in chart.contents)


def test_sixty_block_labels_are_thinned_so_they_never_overlap() -> None:
    font = register_fonts()
    labels = [f"{2022 + i // 12}-{i % 12 + 1:02d}" for i in range(60)]
    chart = lines(
        labels,
        [Series("rate", tuple(0.1 for _ in labels))],
        width=780,
        height=120,
        font=font,
    )
    drawn = [s for s in chart.contents if isinstance(s, String) and s.text in labels]
    assert 6 <= len(drawn) < 60
    spans = sorted((s.x - stringWidth(s.text, font, s.fontSize) / 2, s.x) for s in drawn)
    for (left, _x), (next_left, _nx) in itertools.pairwise(spans):
        width = next_left - left
        assert width > stringWidth("2026-12", font, 7)
    assert label_step(labels, font, 780 / 60) > 1
