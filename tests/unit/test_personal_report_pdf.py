"""The personal wellbeing report as a PDF, read back with poppler (text, fonts, metadata) and
checked with qpdf: one questionnaire with one form, five with many forms, with and without the
name, several reports in one file."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from carestation.domain.report_values import InstrumentSection, PersonalReportData, ReportPoint
from carestation.i18n import current_language
from carestation.reports.personal import write_personal_report, write_personal_reports
from carestation.reports.personal_chart import date_ticks

STATION = "暨阳街道职工情绪管理服务站"
PHONE = "0575-87001234"
NAME = "张伟明"


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


def _pdf(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    return path


def _text(pdf: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return " ".join(_run("pdftotext", "-layout", *pages, str(pdf), "-").split())


def _checked(pdf: Path) -> str:
    """Every font embedded, the file structurally sound; returns pdfinfo's output."""
    rows = _run("pdffonts", str(pdf)).splitlines()[2:]
    assert rows, "no fonts listed"
    for row in rows:
        assert re.search(r"\syes\s+yes\s+yes\s", row), row  # emb sub uni
    assert "No syntax or stream encoding errors" in _run("qpdf", "--check", str(pdf))
    return _run("pdfinfo", str(pdf))


def _section(
    code: str,
    values: list[tuple[date, int]],
    band: str,
    *,
    total: int | None = None,
    change: str | None = None,
    follow_up: bool = False,
) -> InstrumentSection:
    last_on, last_value = values[-1]
    return InstrumentSection(
        instrument=code,
        latest_total=last_value if total is None else total,
        latest_value=last_value,
        latest_band=band,
        latest_on=last_on,
        points=tuple(ReportPoint(d, v) for d, v in values),
        change=change,
        follow_up_advised=follow_up,
    )


def _data(
    sections: list[InstrumentSection], *, lang: str = "zh_CN", **kw: object
) -> PersonalReportData:
    values: dict[str, object] = {
        "report_number": "R-000123",
        "lang": lang,
        "station_name": STATION,
        "station_address": "诸暨市暨阳街道浣纱南路 88 号",
        "station_phone": PHONE,
        "client_code": "ZJ-7K3Q",
        "client_name": None,
        "counsellor_name": "王丽华",
        "issued_on": date(2026, 3, 14),
        "sections": tuple(sections),
    }
    values.update(kw)
    return PersonalReportData(**values)  # type: ignore[arg-type]


ONE = _data([_section("phq9", [(date(2026, 3, 14), 11)], "moderate", follow_up=True)])


def _many(lang: str, **kw: object) -> PersonalReportData:
    start = date(2023, 5, 8)
    phq = [(start + timedelta(days=60 * i), v) for i, v in enumerate([18, 15, 12, 9, 8, 6, 7, 5])]
    phq.append((phq[-1][0], 4))  # a second form on the same day
    return _data(
        [
            _section("phq9", phq, "minimal", change="improved"),
            _section(
                "gad7",
                [(date(2026, 1, 5) + timedelta(days=7 * i), v) for i, v in enumerate([14, 12, 10])],
                "moderate",
                change="no_reliable_change",
                follow_up=True,
            ),
            _section(
                "who5",
                [(date(2025, 9, 1), 24), (date(2026, 3, 14), 56)],
                "adequate",
                total=14,
                change="improved",
            ),
            _section(
                "pss10", [(date(2026, 3, 12), 29), (date(2026, 3, 14), 27)], "high", follow_up=True
            ),
            _section(
                "k10", [(date(2026, 2, 1), 33), (date(2026, 3, 1), 27)], "high", follow_up=True
            ),
        ],
        lang=lang,
        **kw,
    )


def test_one_questionnaire_with_one_form_fits_one_page(tmp_path: Path) -> None:
    out = io.BytesIO()
    assert write_personal_report(out, data=ONE) == 1
    pdf = _pdf(tmp_path, out.getvalue())
    info = _checked(pdf)
    assert re.search(r"Title:\s+CareStation report R-000123\n", info)
    assert "Pages:           1" in info
    for forbidden in ("ZJ-7K3Q", STATION, "王丽华"):
        assert forbidden not in info
    text = _text(pdf)
    for expected in (
        STATION,
        PHONE,
        "个人心理健康评估报告",
        "您的编号 ZJ-7K3Q",
        "报告编号 R-000123",
        "出具日期 2026年3月14日",
        "咨询师 王丽华",
        "患者健康问卷抑郁量表（PHQ-9）",
        "最近一次填写：2026年3月14日",
        "11 / 27",
        "中度抑郁症状",
        "这个结果说明什么",
        "可以尝试的做法",
        "我们的建议：建议您在接下来的一两周内",
        "12356 全国心理援助热线",
        "12351 工会职工服务热线",
        "120 急救电话",
        "110 报警电话",
        f"{PHONE} {STATION}：预约咨询",
        "本报告是心理健康筛查结果，不是医学诊断",
        "报告编号 R-000123 · 本报告为心理健康筛查结果，不是诊断",
        "第 1 页，共 1 页",
        "2026-03-14",  # the date under the only point
    ):
        assert expected in text, expected
    assert "姓名" not in text
    assert "结果一览" not in text  # no overview table for a single questionnaire
    assert current_language() == "en"  # the UI's catalogue was never switched


def test_five_questionnaires_with_many_forms_in_english(tmp_path: Path) -> None:
    pdf = tmp_path / "many.pdf"
    pages = write_personal_report(pdf, data=_many("en", report_number="R-000124"))
    assert pages >= 3
    info = _checked(pdf)
    assert re.search(r"Title:\s+CareStation report R-000124\n", info)
    assert f"Pages:           {pages}" in info
    text = _text(pdf)
    headings = [
        "Personal wellbeing report",
        "Your results at a glance",
        "Patient Health Questionnaire (PHQ-9)",
        "Generalized Anxiety Disorder scale (GAD-7)",
        "World Health Organization Five Well-Being Index (WHO-5)",
        "Perceived Stress Scale (PSS-10)",
        "Kessler Psychological Distress Scale (K10)",
        "If you need help now",
    ]
    positions = [text.index(h) for h in headings]
    assert positions == sorted(positions)
    for row in (
        "PHQ-9 2024-07-01 4 / 27 None or minimal depressive symptoms",
        "GAD-7 2026-01-19 10 / 21 Moderate anxiety symptoms",
        "WHO-5 2026-03-14 56 / 100 Adequate wellbeing",
        "PSS-10 2026-03-14 27 / 40 High perceived stress",
        "K10 2026-03-01 27 / 50 High psychological distress",
    ):
        assert row in text, row
    for expected in (
        "Latest result: 14 March 2026 · Score: 56 / 100 · Adequate wellbeing",
        "Percent score 0–100; higher is better",
        "Compared with your first questionnaire on 8 May 2023, your results show a clear "
        "improvement.",
        "Compared with your first questionnaire on 5 January 2026, there is no clear change.",
        "its author publishes no cut-off scores",
        "Our suggestion: We suggest a session with a counsellor",
        "12356 National psychological assistance hotline",
        "Report R-000124 · a wellbeing screening, not a diagnosis",
        f"Page 1 of {pages}",
        f"Page {pages} of {pages}",
        "Counsellor's signature",
    ):
        assert expected in text, expected
    # Every point is labelled with its value: the PHQ-9 history, the same-day pair included.
    phq_chart = text[text.index("lower is better") : text.index("What this means")]
    for value in ("18", "15", "12", "9", "8", "6", "7", "5", "4"):
        assert re.search(rf"(^|\s){value}(\s|$)", phq_chart), value
    assert "2024-01" in phq_chart or "2024" in phq_chart  # a date axis over years
    # Minimal PHQ-9 without a flag: no follow-up box in that section.
    assert "Our suggestion" not in text[text.index("(PHQ-9)", 400) : text.index("(GAD-7)", 400)]
    assert "Name" not in text.split("Your results at a glance")[0]


def test_the_name_is_printed_only_when_given_and_never_in_the_metadata(tmp_path: Path) -> None:
    with_name = tmp_path / "named.pdf"
    write_personal_report(with_name, data=_many("zh_CN", client_name=NAME))
    info = _checked(with_name)
    assert NAME not in info
    text = _text(with_name)
    assert text.count(NAME) == 1
    assert f"姓名 {NAME}" in text
    without = tmp_path / "code.pdf"
    write_personal_report(without, data=_many("zh_CN"))
    assert NAME not in _text(without)
    assert "姓名" not in _text(without)


def test_a_flag_calls_for_follow_up_whatever_the_band() -> None:
    """PHQ-9 question 9 (or a WHO-5 item at 0/1): the service sets follow_up_advised on a band
    that would not call for one; the general sentence is printed."""
    data = _data([_section("phq9", [(date(2026, 3, 1), 3)], "minimal", follow_up=True)], lang="en")
    out = io.BytesIO()
    write_personal_report(out, data=data)
    text = _pdf_text(out.getvalue())
    assert "Our suggestion: Whatever the total, some of your answers" in text
    quiet = replace(data, sections=(replace(data.sections[0], follow_up_advised=False),))
    out = io.BytesIO()
    write_personal_report(out, data=quiet)
    assert "Our suggestion" not in _pdf_text(out.getvalue())


def _pdf_text(content: bytes) -> str:
    result = subprocess.run(
        [_tool("pdftotext"), "-layout", "-", "-"], input=content, capture_output=True, check=True
    )
    return " ".join(result.stdout.decode("utf-8").split())


def test_lang_argument_overrides_the_data_language_and_chinese_lines_wrap_properly() -> None:
    out = io.BytesIO()
    write_personal_report(out, data=ONE, lang="en")
    text = _pdf_text(out.getvalue())
    assert "Personal wellbeing report" in text
    assert "Moderate depressive symptoms" in text
    out = io.BytesIO()
    write_personal_report(out, data=_many("zh_CN"))
    raw = subprocess.run(
        [_tool("pdftotext"), "-layout", "-", "-"],
        input=out.getvalue(),
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    # No line of Chinese text starts with closing punctuation.
    assert not [ln for ln in raw.splitlines() if re.match(r"\s*[，。、；：！？）》”]", ln)]


def test_several_reports_in_one_file_each_from_a_new_page_with_own_numbering(
    tmp_path: Path,
) -> None:
    second = _many("en", report_number="R-000124")
    pdf = tmp_path / "day.pdf"
    total = write_personal_reports(pdf, reports=[ONE, second])
    info = _checked(pdf)
    assert re.search(r"Title:\s+CareStation reports R-000123 to R-000124\n", info)
    assert f"Pages:           {total}" in info
    first_page = _text(pdf, 1)
    assert "第 1 页，共 1 页" in first_page
    assert "R-000124" not in first_page
    second_page = _text(pdf, 2)
    assert second_page.index("Personal wellbeing report") < 200  # starts the page
    assert f"Page 1 of {total - 1}" in second_page
    assert f"Page {total - 1} of {total - 1}" in _text(pdf, total)
    with pytest.raises(ValueError, match="no reports"):
        write_personal_reports(io.BytesIO(), reports=[])


@pytest.mark.parametrize(
    ("sections", "says"),
    [
        ([], "no questionnaire results"),
        ([_section("mood", [(date(2026, 3, 1), 5)], "moderate")], "does not belong"),
        ([_section("phq9", [(date(2026, 3, 1), 5)], "sunny")], "sunny"),
    ],
)
def test_malformed_data_is_refused(sections: list[InstrumentSection], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        write_personal_report(io.BytesIO(), data=_data(sections))


def test_date_axis_ticks_for_one_day_weeks_months_and_years() -> None:
    day = date(2026, 3, 14)
    assert date_ticks(day, day) == [(day, "2026-03-14")]
    week = date_ticks(date(2026, 1, 5), date(2026, 2, 2))
    assert [t.weekday() for t, _ in week] == [0] * len(week)  # Mondays
    assert [label for _, label in week] == ["2026-01-05", "01-12", "01-19", "01-26", "02-02"]
    months = date_ticks(date(2025, 9, 1), date(2026, 3, 14))
    assert [label for _, label in months] == ["2025-09", "2025-11", "2026-01", "2026-03"]
    years = date_ticks(date(2019, 5, 1), date(2026, 3, 14))
    assert [label for _, label in years] == ["2020", "2022", "2024", "2026"]
    assert 1 <= len(date_ticks(date(2026, 3, 13), date(2026, 3, 14))) <= 6
