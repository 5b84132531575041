"""The campaign printouts: code slips and the anonymised summary, read back with poppler's tools
(text, fonts, metadata) in both languages."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from carestation.assessments import load_instrument
from carestation.domain import campaign_codes
from carestation.domain.assessment_values import (
    BandDistribution,
    CampaignInfo,
    CampaignInput,
    CampaignSummary,
    FormAnswers,
)
from carestation.domain.suppression import suppress
from carestation.i18n import current_language
from carestation.reports.campaign_slips import write_code_slips
from carestation.reports.campaign_summary import write_campaign_summary
from carestation.services.campaigns import CampaignService
from carestation.services.container import Services
from carestation.services.risk_alerts import RiskAlertService
from tests.factories import build_world

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext, pdffonts)"
)

SH = timezone(timedelta(hours=8))
STATION = "暨阳街道职工情绪管理服务站"
CAMPAIGN = CampaignInfo(
    id=123,
    station_id=1,
    station_name=STATION,
    name="2026 冬季职工心理健康普测",
    work_unit="诸暨市水务集团有限公司",
    instruments=("phq9", "pss10", "k10"),
    starts_on=date(2026, 11, 23),
    ends_on=date(2026, 12, 23),
    issued=120,
    used=87,
    follow_ups=0,
    closed_at=None,
    version=1,
)
COUNTS = {
    # 9, 3 and 1 are below 10: three small cells, none given away by the total.
    "phq9": {"minimal": 50, "mild": 24, "moderate": 9, "moderately_severe": 3, "severe": 1},
    "pss10": {"low": 30, "moderate": 45, "high": 12},
    # 5 very high alone would be 87 - 40 - 30 - 12: the 12 is hidden with it.
    "k10": {"low": 40, "moderate": 30, "high": 12, "very_high": 5},
}


def _summary(counts: dict[str, dict[str, int]], used: int, **changes: object) -> CampaignSummary:
    campaign = CampaignInfo(**{**CAMPAIGN.__dict__, "used": used, **changes})  # type: ignore[arg-type]
    dists = []
    for instrument in campaign.instruments:
        order = [b.slug for b in load_instrument(instrument).bands]
        cells, total = suppress(counts.get(instrument, {}), order, k=10)
        dists.append(BandDistribution(instrument, cells, total))
    _cells, participants = suppress({"used": used}, ["used"], k=10)
    return CampaignSummary(
        campaign=campaign,
        k=10,
        participants=participants,
        distributions=tuple(dists),
        generated_at=datetime(2026, 11, 23, 10, 5, tzinfo=SH),
    )


def _text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def _fonts_embedded(pdf: Path) -> list[str]:
    out = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert out, "no fonts listed"
    for line in out:
        # name type encoding emb sub uni ...: "emb" is the fourth column from the right group.
        assert re.search(r"\syes\s+yes\s+yes\s", line), line
    return out


def _info(pdf: Path) -> str:
    return subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout


def _row(text: str, label: str) -> str:
    """The table row holding `label` (a band label, or a score range such as "0–4")."""
    pattern = re.compile(rf"(^|\s){re.escape(label)}(\s|$)")
    [line] = [ln for ln in text.splitlines() if pattern.search(ln)]
    return " ".join(line.split())


# --------------------------------------------------------------------------- slips


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_slips_carry_every_code_and_how_to_use_it(tmp_path: Path, lang: str) -> None:
    codes = [campaign_codes.generate() for _ in range(12)]
    pdf = tmp_path / "slips.pdf"
    pages = write_code_slips(
        pdf,
        campaign=CAMPAIGN,
        codes=[campaign_codes.display(c) for c in codes[:6]] + codes[6:],
        station_name=STATION,
        station_phone="0575-87001234",
        lang=lang,
    )
    assert pages == 2
    text = _text(pdf)
    for code in codes:
        assert text.count(campaign_codes.display(code)) == 1
    assert text.count(CAMPAIGN.name) == 12
    assert text.count(CAMPAIGN.work_unit) == 12
    assert text.count("0575-87001234") == 12
    flat = " ".join(text.split())
    for number in ("12356", "12351", "120"):
        assert number in flat
    if lang == "en":
        assert "I have a screening code" in flat
        assert "nobody can link this code to you" in flat
        assert "from 2026-11-23 to 2026-12-23" in flat
    _fonts_embedded(pdf)
    info = _info(pdf)
    assert "CareStation report C-000123" in info
    assert CAMPAIGN.name not in info
    assert CAMPAIGN.work_unit not in info
    assert "Pages:           2" in info
    assert current_language() == "en"


def test_slips_fill_whole_pages_and_go_to_a_stream() -> None:
    out = io.BytesIO()
    codes = [campaign_codes.generate() for _ in range(10)]
    assert (
        write_code_slips(
            out, campaign=CAMPAIGN, codes=codes, station_name=STATION, station_phone="", lang="en"
        )
        == 1
    )
    assert out.getvalue().startswith(b"%PDF")


@pytest.mark.parametrize(("codes", "says"), [([], "no codes"), (["K7QF-3MXA-PB"], "not valid")])
def test_slips_refuse_nothing_or_a_bad_code(codes: list[str], says: str) -> None:
    with pytest.raises(ValueError, match=says):
        write_code_slips(
            io.BytesIO(),
            campaign=CAMPAIGN,
            codes=codes,
            station_name=STATION,
            station_phone="",
            lang="en",
        )


# --------------------------------------------------------------------------- the summary


def test_summary_shows_counts_and_hides_small_ones(tmp_path: Path) -> None:
    pdf = tmp_path / "summary.pdf"
    pages = write_campaign_summary(
        pdf, summary=_summary(COUNTS, 87), station_name=STATION, lang="en"
    )
    text = _text(pdf)
    flat = " ".join(text.split())
    assert f"Pages:           {pages}" in _info(pdf)
    for heading in (
        "Screening summary",
        "Patient Health Questionnaire (PHQ-9)",
        "Perceived Stress Scale (PSS-10)",
        "Notes",
    ):
        assert heading in flat
    assert "2026 冬季职工心理健康普测" in flat
    assert "诸暨市水务集团有限公司" in flat
    assert "2026-11-23 to 2026-12-23" in flat
    assert "87 of 120 codes used" in flat
    assert _row(text, "Mild depressive symptoms") == "Mild depressive symptoms 5–9 24 24"
    # A small count shows "<10", never its value.
    assert _row(text, "Moderate depressive symptoms") == "Moderate depressive symptoms 10–14 <10"
    assert _row(text, "Very high psychological distress") == (
        "Very high psychological distress 30–50 ·"
    )
    assert _row(text, "High psychological distress").endswith("22–29 ·")
    assert _row(text, "High perceived stress") == "High perceived stress 27–40 12 12"
    assert "publishes no cut-off scores" in flat
    assert "not a diagnosis" in flat
    assert "no number below 10 is shown" in flat
    assert f"Page 1 of {pages}" in flat
    assert "generated 2026-11-23 10:05" in flat
    _fonts_embedded(pdf)
    info = _info(pdf)
    assert "Title:           CareStation report C-000123" in info
    assert "冬季" not in info
    assert "水务" not in info


def test_summary_in_chinese_uses_the_definitions_labels(tmp_path: Path) -> None:
    pdf = tmp_path / "summary.pdf"
    pages = write_campaign_summary(
        pdf, summary=_summary(COUNTS, 87), station_name=STATION, lang="zh_CN"
    )
    flat = " ".join(_text(pdf).split())
    for band in load_instrument("phq9").bands:
        assert band.label.text("zh_CN") in flat
    assert "患者健康问卷抑郁量表" in flat
    assert f"第 1 页，共 {pages} 页" in flat
    _fonts_embedded(pdf)
    # Writing in Chinese left the rest of the app in English.
    assert current_language() == "en"


def test_four_participants_give_no_figures(tmp_path: Path) -> None:
    pdf = tmp_path / "summary.pdf"
    small = {"phq9": {"severe": 3, "minimal": 1}, "pss10": {"high": 4}, "k10": {"low": 4}}
    pages = write_campaign_summary(
        pdf, summary=_summary(small, 4, issued=20), station_name=STATION, lang="en"
    )
    flat = " ".join(_text(pdf).split())
    assert pages == 1
    assert "<10 of 20 codes used" in flat
    assert "Fewer than 10 people took part" in flat
    assert "Severe depressive symptoms" not in flat
    body = flat.split("CareStation ·")[0].replace("2026-11-23", "").replace("2026-12-23", "")
    assert not re.search(r"\b[1-4]\b", body.replace("2026", ""))


def test_from_printed_codes_to_a_printed_summary(sqlite_services: Services, tmp_path: Path) -> None:
    """The whole campaign on a real database: create, print slips, take the questionnaires
    with the printed codes, print the summary."""
    services = sqlite_services
    world = build_world(services)
    clock = services.audit.clock
    alerts = RiskAlertService(services.db, services.audit, clock, services.vault)
    campaigns = CampaignService(services.db, services.audit, clock, services.vault, alerts)
    info = campaigns.create(
        world.staff,
        data=CampaignInput(
            "春季普测", "店口镇五金厂", ("gad7",), date(2026, 11, 23), date(2026, 11, 30), 12
        ),
    )
    codes = campaigns.unused_codes(world.staff, campaign_id=info.id)
    slips = tmp_path / "slips.pdf"
    write_code_slips(
        slips, campaign=info, codes=codes, station_name=STATION, station_phone="", lang="zh_CN"
    )
    printed = re.findall(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{2}", _text(slips))
    assert sorted(printed) == sorted(codes)
    for i, code in enumerate(printed[:11]):
        answers = (0,) * 7 if i < 10 else (3,) * 7  # ten minimal, one severe
        campaigns.record(world.staff, code=code.lower(), forms=[FormAnswers("gad7", answers)])
    summary = campaigns.summary(world.manager, campaign_id=info.id)
    pdf = tmp_path / "summary.pdf"
    write_campaign_summary(pdf, summary=summary, station_name=STATION, lang="en")
    text = _text(pdf)
    assert "11 of 12 codes used" in " ".join(text.split())
    # The one severe result is hidden, and so is the ten it would be worked out from.
    assert _row(text, "Severe anxiety symptoms").endswith("15–21 ·")
    assert _row(text, "0–4").endswith("0–4 ·")
    assert clock.now() == datetime(2026, 11, 23, 2, tzinfo=UTC)
