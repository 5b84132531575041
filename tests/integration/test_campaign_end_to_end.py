"""A screening campaign from printed codes to a printed summary over the REAL services (SQLite
and PostgreSQL): staff create it and print the slips, an employee types a code on the
self-service screen and answers, the code then refuses a second use, more people take part,
and the union gets a summary with small numbers hidden and no code or individual result."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel, QLineEdit
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from carestation.db import models as m
from carestation.domain import campaign_codes
from carestation.domain.assessment_values import CampaignInput, FormAnswers
from carestation.domain.vocab import AssessmentMode
from carestation.i18n import _
from carestation.reports.campaign_slips import write_code_slips
from carestation.reports.campaign_summary import write_campaign_summary
from carestation.services.assessment_forms import local_midnight
from carestation.services.container import Services
from carestation.ui.kiosk import KioskWindow
from carestation.ui.prompts import RecordingPrompter
from tests.conftest import IN_CI
from tests.factories import World, build_world
from tests.integration.test_assessment_end_to_end import (
    FastKiosk,
    answer_on_screen,
    button,
    page,
    shown_text,
    staff_close,
    tap,
)

TODAY = date(2026, 11, 23)  # the test clock's day in Shanghai
PHQ9_CALM = [0, 1, 0, 0, 1, 0, 0, 0, 0]  # total 2: minimal
WHO5_FINE = [4, 4, 3, 4, 4]  # 76 %: adequate
WHO5_POOR = [2, 2, 2, 2, 2]  # 40 %: poor wellbeing
USED = (
    "This code has already been used; each code works once. If you did not use it yourself, ask "
    "the station staff for a new one."
)
POPPLER = ("pdftotext", "pdffonts")


def pdf_text(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True)
    return out.stdout.decode()


def assert_fonts_embedded(pdf: Path) -> None:
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    fonts = out.stdout.splitlines()[2:]
    assert fonts, "no fonts listed"
    for line in fonts:
        assert re.search(r"\syes\s+yes\s+yes\s", line), f"not embedded: {line}"  # emb sub uni


def row_of(text: str, label: str) -> str:
    [line] = [ln for ln in text.splitlines() if label in ln]
    return " ".join(line.split())


@pytest.fixture
def world(services: Services) -> World:
    return build_world(services)


@pytest.fixture
def kiosk(qtbot: QtBot, services: Services, world: World) -> Iterator[KioskWindow]:
    [station] = [
        s for s in services.admin.list_stations(actor=world.staff) if s.id == world.station_id
    ]
    window = FastKiosk(services, world.staff, station, RecordingPrompter(), "zh_CN")
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    yield window
    if window.isVisible():
        staff_close(qtbot, window)


def test_a_campaign_runs_from_printed_codes_to_a_printed_summary(
    qtbot: QtBot, services: Services, world: World, kiosk: KioskWindow, tmp_path: Path
) -> None:
    missing = [tool for tool in POPPLER if shutil.which(tool) is None]
    if missing and IN_CI:
        pytest.fail(f"CI must check the printouts, but {', '.join(missing)} is not installed")
    staff = world.staff
    [station] = [s for s in services.admin.list_stations(actor=staff) if s.id == world.station_id]

    # Staff create the campaign and print the slips.
    campaign = services.campaigns.create(
        staff,
        data=CampaignInput(
            name="2026 冬季职工心理健康普测",
            work_unit="诸暨市水务集团有限公司",
            instruments=("phq9", "who5"),
            starts_on=TODAY,
            ends_on=date(2026, 12, 23),
            codes=12,
        ),
    )
    codes = services.campaigns.unused_codes(staff, campaign_id=campaign.id)
    assert len(codes) == 12
    assert all(campaign_codes.is_valid(campaign_codes.normalise(c)) for c in codes)
    slips = tmp_path / "slips.pdf"
    write_code_slips(
        slips,
        campaign=campaign,
        codes=codes,
        station_name=station.name,
        station_phone=station.phone,
        lang="zh_CN",
    )

    # An employee types their code as it comes: lower case, spaces for the dashes.
    mine = codes[0]
    tap(qtbot, button(kiosk, "welcome_code"))
    field = kiosk.findChild(QLineEdit, "code_field")
    assert field is not None
    qtbot.keyClicks(field, mine.lower().replace("-", " "))
    tap(qtbot, button(kiosk, "code_continue"))
    assert page(kiosk) == "kiosk_intro"
    answer_on_screen(qtbot, kiosk, [*PHQ9_CALM, 0])  # and the difficulty question
    answer_on_screen(qtbot, kiosk, WHO5_POOR)
    assert page(kiosk) == "kiosk_review"
    tap(qtbot, button(kiosk, "review_submit"))
    assert page(kiosk) == "kiosk_thanks"
    assert mine in shown_text(kiosk)  # the code for a follow-up, never a result
    with services.db.read() as session:
        forms = session.scalars(select(m.Assessment).order_by(m.Assessment.id)).all()
        used = session.scalars(select(m.CampaignCode).where(m.CampaignCode.used_on.is_not(None)))
        assert [c.code for c in used] == [campaign_codes.normalise(mine)]
    assert [(f.instrument, f.answers) for f in forms] == [("phq9", PHQ9_CALM), ("who5", WHO5_POOR)]
    midnight = local_midnight(services.audit.clock.now(), "Asia/Shanghai")
    for form in forms:
        assert (form.campaign_id, form.client_id, form.mode) == (
            campaign.id,
            None,
            AssessmentMode.ANONYMOUS,
        )
        assert (form.taken_at, form.language, form.administered_by) == (midnight, "zh_CN", None)
    tap(qtbot, button(kiosk, "thanks_done"))

    # The same code a second time: refused on the code page, nothing saved.
    tap(qtbot, button(kiosk, "welcome_code"))
    qtbot.keyClicks(field, mine)
    tap(qtbot, button(kiosk, "code_continue"))
    assert page(kiosk) == "kiosk_code"
    error = kiosk.findChild(QLabel, "code_error")
    assert error is not None
    assert error.isVisible()
    assert error.text() == _(USED)  # in the screen's language
    tap(qtbot, button(kiosk, "code_back"))
    staff_close(qtbot, kiosk)

    # Ten more people take part; one code stays unused.
    for i, code in enumerate(codes[1:11]):
        who5 = WHO5_POOR if i < 2 else WHO5_FINE  # 3 poor in all: a small cell
        services.campaigns.record(
            staff,
            code=code,
            forms=[FormAnswers("phq9", tuple(PHQ9_CALM)), FormAnswers("who5", tuple(who5))],
        )
    summary = services.campaigns.summary(staff, campaign_id=campaign.id)
    assert (summary.campaign.used, summary.campaign.issued) == (11, 12)
    cells = {(d.instrument, c.band): c.shown for d in summary.distributions for c in d.cells}
    assert cells[("phq9", "minimal")] == "11"
    assert cells[("who5", "poor_wellbeing")] == "<10"
    printed = {lang: tmp_path / f"summary-{lang}.pdf" for lang in ("en", "zh_CN")}
    for lang, pdf in printed.items():
        assert write_campaign_summary(pdf, summary=summary, station_name=station.name, lang=lang)

    # What the printouts say (poppler-utils).
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (poppler-utils): printouts not read back")
    slip_text = pdf_text(slips)
    for code in codes:
        assert slip_text.count(code) == 1, code
    assert_fonts_embedded(slips)
    english = pdf_text(printed["en"])
    flat = " ".join(english.split())
    for heading in (
        "Screening summary",
        "Patient Health Questionnaire (PHQ-9)",
        "World Health Organization Five Well-Being Index (WHO-5)",
        "Notes",
        "11 of 12 codes used",
    ):
        assert heading in flat, heading
    assert row_of(english, "Poor wellbeing").split()[-1] == "<10"
    assert " 3 " not in f" {row_of(english, 'Poor wellbeing')} "
    for pdf in printed.values():
        text = pdf_text(pdf)
        assert "<10" in text
        for code in codes:
            assert code not in text
            assert campaign_codes.normalise(code) not in text
        assert_fonts_embedded(pdf)
