"""The personal report's wording files: complete for every questionnaire and band in both
languages, the same keys and placeholders, Chinese written in Chinese, and every mistake refused
with the file and the key named."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from carestation.assessments import load_instrument
from carestation.reports.report_texts import (
    GENERAL_KEYS,
    REPORT_INSTRUMENTS,
    ReportTextError,
    check_report_texts,
    follow_up_bands,
    load_report_texts,
)
from carestation.resources import resource_path

CJK = re.compile(r"[\u4e00-\u9fff]")
EXPECTED_FOLLOW_UP = {
    "phq9": {"moderate", "moderately_severe", "severe"},
    "gad7": {"moderate", "severe"},
    "who5": {"likely_depression", "poor_wellbeing"},
    "pss10": {"high"},
    "k10": {"high", "very_high"},
}


@pytest.fixture
def text_dir(tmp_path: Path) -> Path:
    """A copy of the bundled files to break."""
    for lang in ("zh_CN", "en"):
        name = f"report_{lang}.json"
        shutil.copy(resource_path("text", name), tmp_path / name)
    return tmp_path


def _edit(directory: Path, lang: str, change: Any) -> Path:
    path = directory / f"report_{lang}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _leaves(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return []


# --------------------------------------------------------------------------- the bundled files


def test_every_questionnaire_and_band_is_worded_in_both_languages() -> None:
    assert REPORT_INSTRUMENTS == ("phq9", "gad7", "who5", "pss10", "k10")
    found = check_report_texts()
    for lang in ("zh_CN", "en"):
        texts = found[lang]
        assert set(texts.general) == GENERAL_KEYS
        for code in REPORT_INSTRUMENTS:
            words = texts.instruments[code]
            assert list(words.bands) == [b.slug for b in load_instrument(code).bands]
            for band in words.bands.values():
                assert 2 <= len(band.suggestions) <= 4
                assert band.interpretation
            assert words.follow_up  # every questionnaire has bands that call for a follow-up


def test_follow_up_bands_are_the_agreed_ones_and_the_same_as_the_service_uses() -> None:
    from carestation.services.reports import FOLLOW_UP_BANDS

    assert {k: set(v) for k, v in follow_up_bands().items()} == EXPECTED_FOLLOW_UP
    assert {k: set(v) for k, v in FOLLOW_UP_BANDS.items()} == EXPECTED_FOLLOW_UP


def test_help_lines_and_placeholders_where_the_report_fills_them() -> None:
    for lang in ("zh_CN", "en"):
        texts = load_report_texts(lang)
        assert [h.number for h in texts.help_lines] == ["12356", "12351", "120", "110"]
        station = texts.text("help_station", station_name="暨阳站")
        assert "暨阳站" in station
        assert "R-000123" in texts.text("footer", report_number="R-000123")
        for change in ("improved", "deteriorated", "no_reliable_change"):
            assert "2026-01-05" in texts.text(f"change_{change}", first_date="2026-01-05")
    zh, en = load_report_texts("zh_CN"), load_report_texts("en")
    assert zh.general["title"] == "个人心理健康评估报告"
    assert en.general["title"] == "Personal wellbeing report"
    assert "12356" in zh.help_lines[0].number
    assert "心理援助" in zh.help_lines[0].text
    assert "no cut-off" in en.general["pss10_note"]
    assert "划分" in zh.general["pss10_note"]
    assert "higher is better" in en.instruments["who5"].chart_note
    assert "越高越好" in zh.instruments["who5"].chart_note


def test_chinese_is_written_in_chinese_and_english_in_english() -> None:
    for lang, must_have_cjk in (("zh_CN", True), ("en", False)):
        raw = json.loads(resource_path("text", f"report_{lang}.json").read_text("utf-8"))
        for leaf in _leaves({k: v for k, v in raw.items() if k != "language"}):
            if leaf.isdigit():  # the help line numbers
                continue
            assert bool(CJK.search(leaf)) is must_have_cjk, leaf


def test_load_refuses_an_unknown_language_and_accepts_its_spellings() -> None:
    assert load_report_texts("zh-CN").lang == "zh_CN"
    with pytest.raises(ValueError, match="unsupported language"):
        load_report_texts("fr")


# --------------------------------------------------------------------------- mistakes refused


def _refused(directory: Path, *pieces: str) -> None:
    with pytest.raises(ReportTextError) as caught:
        check_report_texts(directory)
    message = str(caught.value)
    for piece in pieces:
        assert piece in message, message


def test_a_missing_band_names_the_file_and_the_key(text_dir: Path) -> None:
    def drop(data: dict[str, Any]) -> None:
        del data["instruments"]["k10"]["bands"]["very_high"]

    path = _edit(text_dir, "en", drop)
    _refused(text_dir, str(path), "instruments.k10.bands", "very_high")


def test_a_missing_instrument_and_a_missing_general_key(text_dir: Path) -> None:
    path = _edit(text_dir, "zh_CN", lambda d: d["instruments"].pop("who5"))
    _refused(text_dir, str(path), "instruments", "who5")
    shutil.copy(resource_path("text", "report_zh_CN.json"), path)
    _edit(text_dir, "zh_CN", lambda d: d["general"].pop("screening"))
    _refused(text_dir, str(path), "general", "screening")


def test_placeholders_must_match_across_languages(text_dir: Path) -> None:
    def drop_name(data: dict[str, Any]) -> None:
        data["general"]["intro"] = "感谢您填写问卷。"

    path = _edit(text_dir, "zh_CN", drop_name)
    _refused(text_dir, "general.intro", "placeholders", "station_name")
    assert "report_" in str(path)


def test_an_unknown_placeholder_or_stray_brace_is_a_typo(text_dir: Path) -> None:
    def typo(data: dict[str, Any]) -> None:
        data["general"]["help_station"] = "{station_nmae}: to book a session"

    path = _edit(text_dir, "en", typo)
    _refused(text_dir, str(path), "general.help_station", "station_nmae")
    shutil.copy(resource_path("text", "report_en.json"), path)
    _edit(text_dir, "en", lambda d: d["general"].update(closing="We wish you well {"))
    _refused(text_dir, str(path), "general.closing", "braces")


def test_follow_up_flags_and_suggestion_counts_must_agree(text_dir: Path) -> None:
    def flip(data: dict[str, Any]) -> None:
        data["instruments"]["pss10"]["bands"]["moderate"]["follow_up"] = True

    path = _edit(text_dir, "en", flip)
    _refused(text_dir, str(path), "instruments.pss10.bands.moderate.follow_up")
    shutil.copy(resource_path("text", "report_en.json"), path)

    def one_less(data: dict[str, Any]) -> None:
        data["instruments"]["gad7"]["bands"]["mild"]["suggestions"].pop()

    _edit(text_dir, "en", one_less)
    _refused(text_dir, "instruments.gad7.bands.mild.suggestions[3]", "missing")


def test_too_few_suggestions_and_a_follow_up_band_without_a_sentence(text_dir: Path) -> None:
    def one_only(data: dict[str, Any]) -> None:
        data["instruments"]["phq9"]["bands"]["mild"]["suggestions"] = ["Sleep well."]

    path = _edit(text_dir, "en", one_only)
    _refused(text_dir, str(path), "instruments.phq9.bands.mild.suggestions", "2 to 4")
    shutil.copy(resource_path("text", "report_en.json"), path)
    _edit(text_dir, "en", lambda d: d["instruments"]["k10"].pop("follow_up"))
    _refused(text_dir, str(path), "instruments.k10.follow_up", "non-empty string")


def test_help_numbers_unknown_keys_language_and_bad_json(text_dir: Path) -> None:
    path = _edit(text_dir, "en", lambda d: d["help_lines"].pop(1))
    _refused(text_dir, str(path), "help_lines", "12356, 12351, 120, 110")
    shutil.copy(resource_path("text", "report_en.json"), path)
    _edit(text_dir, "en", lambda d: d["general"].update(titel="Report"))
    _refused(text_dir, str(path), "general", "titel")
    shutil.copy(resource_path("text", "report_en.json"), path)
    _edit(text_dir, "en", lambda d: d.update(language="zh_CN"))
    _refused(text_dir, str(path), "language")
    path.write_text('{"language": "en",', encoding="utf-8")
    _refused(text_dir, str(path), "cannot be read as JSON")
