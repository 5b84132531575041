"""The instrument definition files: they load, are complete in both languages, and are validated."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import carestation.assessments as assessments
from carestation.assessments import (
    Instrument,
    InstrumentDefinitionError,
    LocalizedText,
    instrument_codes,
    load_instrument,
    read_definition,
    score,
)
from carestation.resources import resource_path

CODES = ("phq9", "gad7", "who5", "pss10", "k10", "mood")

# Copied from the reference notes (Pfizer Simplified Chinese, as reproduced there).
PHQ9_STEM_ZH = "在过去两个星期，有多少时候您受到以下任何问题所困扰？"
PHQ9_ITEMS_ZH = [
    "做事时提不起劲或没有兴趣",
    "感到心情低落、沮丧或绝望",
    "入睡困难、睡不安稳或睡眠过多",
    "感觉疲倦或没有活力",
    "食欲不振或吃太多",
    "觉得自己很糟——或觉得自己很失败，或让自己或家人失望",
    "对事物专注有困难，例如阅读报纸或看电视时",
    "动作或说话速度缓慢到别人已经察觉？或正好相反——烦躁或坐立不安、动来动去的情况更胜于平常",
    "有不如死掉或用某种方式伤害自己的念头",
]
PHQ9_OPTIONS_ZH = ["完全不会", "好几天", "一半以上的天数", "几乎每天"]
DIFFICULTY_ZH = (
    "如果您被以上任何问题所困扰，这些问题在您工作、处理家庭事务，或与他人相处上造成了多大的困难？"
)
DIFFICULTY_OPTIONS_ZH = ["毫无困难", "有点困难", "非常困难", "极度困难"]
GAD7_ITEMS_ZH = [
    "感觉紧张，焦虑或急切",
    "不能够停止或控制担忧",
    "对各种各样的事情担忧过多",
    "很难放松下来",
    "由于不安而无法静坐",
    "变得容易烦恼或急躁",
    "感到似乎将有可怕的事情发生而害怕",
]
GAD7_OPTIONS_ZH = ["完全不会", "好几天", "一半以上的日子", "几乎每天"]

CJK = re.compile(r"[\u4e00-\u9fff]")


def raw_definition(code: str) -> dict[str, Any]:
    return json.loads(resource_path("instruments", f"{code}.json").read_text(encoding="utf-8"))


def localized_texts(value: Any, where: str = "") -> Iterator[tuple[str, LocalizedText]]:
    """Every LocalizedText reachable from a definition, with where it sits."""
    if isinstance(value, LocalizedText):
        yield where, value
    elif isinstance(value, tuple):
        for i, element in enumerate(value):
            yield from localized_texts(element, f"{where}[{i}]")
    elif hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            yield from localized_texts(getattr(value, name), f"{where}.{name}")


def test_instrument_codes() -> None:
    assert instrument_codes() == CODES


@pytest.mark.parametrize("code", CODES)
def test_definition_loads_and_is_cached(code: str) -> None:
    definition = load_instrument(code)
    assert isinstance(definition, Instrument)
    assert definition.code == code
    assert definition.version.strip()
    assert load_instrument(code.upper()) is definition


@pytest.mark.parametrize(
    ("code", "items", "codes", "totals"),
    [
        ("phq9", 9, (0, 3), (0, 27)),
        ("gad7", 7, (0, 3), (0, 21)),
        ("who5", 5, (0, 5), (0, 25)),
        ("pss10", 10, (0, 4), (0, 40)),
        ("k10", 10, (1, 5), (10, 50)),
        ("mood", 1, (0, 10), (0, 10)),
    ],
)
def test_shape(code: str, items: int, codes: tuple[int, int], totals: tuple[int, int]) -> None:
    definition = load_instrument(code)
    assert len(definition.items) == items
    assert [item.id for item in definition.items] == [str(i) for i in range(1, items + 1)]
    assert (definition.min_code, definition.max_code) == codes
    assert (definition.min_total, definition.max_total) == totals
    assert sorted(o.code for o in definition.options) == list(range(codes[0], codes[1] + 1))


@pytest.mark.parametrize("code", CODES)
def test_every_text_is_present_in_both_languages(code: str) -> None:
    definition = load_instrument(code)
    texts = list(localized_texts(definition))
    assert len(texts) > 10
    for where, text in texts:
        assert text.text("zh_CN").strip(), where
        assert text.text("en").strip(), where
        assert text.text("zh_CN") == text("zh_CN")
        # English must not contain Chinese, and anything longer than a number or an acronym title
        # must really be Chinese in zh_CN.
        assert not CJK.search(text.en), where
        if not (re.fullmatch(r"\d+", text.en) or (where == ".short_title" and code != "mood")):
            assert CJK.search(text.zh_cn), where


@pytest.mark.parametrize("code", CODES)
def test_raw_json_has_both_languages_wherever_one_appears(code: str) -> None:
    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            if "zh_CN" in value or "en" in value:
                assert set(value) == {"zh_CN", "en"}, where
                assert all(isinstance(v, str) and v.strip() for v in value.values()), where
            for key, child in value.items():
                walk(child, f"{where}.{key}")
        elif isinstance(value, list):
            for i, child in enumerate(value):
                walk(child, f"{where}[{i}]")

    walk(raw_definition(code), code)


def test_phq9_chinese_wording_is_the_reference_text() -> None:
    phq9 = load_instrument("phq9")
    assert phq9.instructions("zh_CN") == PHQ9_STEM_ZH
    assert [item.text("zh_CN") for item in phq9.items] == PHQ9_ITEMS_ZH
    assert [(o.code, o.label("zh_CN")) for o in phq9.options] == list(enumerate(PHQ9_OPTIONS_ZH))
    (difficulty,) = phq9.extra_items
    assert (difficulty.id, difficulty.slug) == ("10", "difficulty")
    assert difficulty.text("zh_CN") == DIFFICULTY_ZH
    assert [(o.code, o.label("zh_CN")) for o in difficulty.options] == list(
        enumerate(DIFFICULTY_OPTIONS_ZH)
    )


def test_gad7_chinese_wording_is_the_reference_text() -> None:
    gad7 = load_instrument("gad7")
    assert [item.text("zh_CN") for item in gad7.items] == GAD7_ITEMS_ZH
    assert [(o.code, o.label("zh_CN")) for o in gad7.options] == list(enumerate(GAD7_OPTIONS_ZH))
    (difficulty,) = gad7.extra_items
    assert (difficulty.id, difficulty.slug) == ("8", "difficulty")
    assert difficulty.text("zh_CN") == DIFFICULTY_ZH
    assert [o.label("zh_CN") for o in difficulty.options] == DIFFICULTY_OPTIONS_ZH


def test_english_item_wording_spot_checks() -> None:
    assert load_instrument("phq9").items[8].text("en") == (
        "Thoughts that you would be better off dead or of hurting yourself in some way"
    )
    assert load_instrument("gad7").items[0].text("en") == "Feeling nervous, anxious, or on edge"
    assert load_instrument("who5").items[0].text("en") == "I have felt cheerful and in good spirits"
    assert (
        load_instrument("pss10")
        .items[3]
        .text("en")
        .endswith("felt confident about your ability to handle your personal problems?")
    )
    assert load_instrument("k10").items[9].text("en").endswith("feel worthless?")
    assert load_instrument("mood").items[0].text("en") == (
        "How distressed or upset do you feel right now?"
    )


def test_options_are_in_paper_form_order() -> None:
    assert [o.code for o in load_instrument("who5").options] == [5, 4, 3, 2, 1, 0]
    assert load_instrument("who5").options[0].label("en") == "All of the time"
    for code in ("phq9", "gad7", "pss10", "k10", "mood"):
        codes = [o.code for o in load_instrument(code).options]
        assert codes == sorted(codes), code
    assert load_instrument("k10").options[0].label("en") == "None of the time"


def test_only_pss10_items_4_5_7_8_are_reversed() -> None:
    for code in CODES:
        reversed_ids = {item.id for item in load_instrument(code).items if item.reverse}
        assert reversed_ids == ({"4", "5", "7", "8"} if code == "pss10" else set()), code


def test_thresholds_live_in_the_definitions() -> None:
    table = {
        code: (
            d.reliable_change,
            d.higher_is_better,
            d.caseness,
            d.prorate_one_missing,
            d.band_basis,
            d.percent_multiplier,
        )
        for code in CODES
        for d in [load_instrument(code)]
    }
    assert table == {
        "phq9": (6, False, 10, False, "total", None),
        "gad7": (4, False, 8, False, "total", None),
        "who5": (10, True, None, False, "percent", 4),
        "pss10": (None, False, None, False, "total", None),
        "k10": (None, False, None, True, "total", None),
        "mood": (None, False, None, False, "total", None),
    }


def test_flag_rules() -> None:
    assert [
        (r.slug, r.applies_to, r.item, r.op, r.value) for r in load_instrument("phq9").flags
    ] == [("suicidal_ideation", "item", "9", ">", 0)]
    assert [(r.slug, r.applies_to, r.op, r.value) for r in load_instrument("who5").flags] == [
        ("poor_wellbeing", "percent", "<=", 50),
        ("likely_depression", "percent", "<=", 28),
        ("item_score_le_1", "any_item", "<=", 1),
    ]
    for code in ("gad7", "pss10", "k10", "mood"):
        assert load_instrument(code).flags == (), code


def test_who5_bands_are_on_the_percent() -> None:
    who5 = load_instrument("who5")
    assert [(b.slug, b.min, b.max) for b in who5.bands] == [
        ("likely_depression", 0, 28),
        ("poor_wellbeing", 32, 48),
        ("adequate", 52, 100),
    ]
    assert list(who5.band_values()) == list(range(0, 101, 4))


def test_notes_sources_and_licences() -> None:
    pss_notes = " ".join(n.en for n in load_instrument("pss10").notes)
    assert "publishes no cut-offs" in pss_notes
    assert "reference ranges only" in pss_notes
    assert any("未公布划界分" in n.zh_cn for n in load_instrument("pss10").notes)
    for code in ("phq9", "gad7"):
        assert "Pfizer" in load_instrument(code).translation_source.en
        assert "Pfizer" in load_instrument(code).attribution.en
    for code in ("who5", "pss10", "k10"):
        source = load_instrument(code).translation_source
        assert "own" in source.en
        assert "not verified" in source.en
        assert "自译" in source.zh_cn
    assert "World Health Organization 2003" in load_instrument("k10").attribution.en
    assert "Kessler" in load_instrument("k10").attribution.en
    assert "CC BY-NC-SA 3.0 IGO" in load_instrument("who5").licence.en
    assert "non-commercial" in load_instrument("pss10").licence.en


def test_localized_text_refuses_unknown_language() -> None:
    text = load_instrument("phq9").title
    assert text.text("en") == "Patient Health Questionnaire (PHQ-9)"
    with pytest.raises(ValueError, match="unknown language"):
        text.text("zh_TW")


def test_band_and_flag_lookup() -> None:
    phq9 = load_instrument("phq9")
    assert phq9.band("mild").min == 5
    assert phq9.band_for(15).slug == "moderately_severe"
    assert phq9.flag("suicidal_ideation").item == "9"
    with pytest.raises(ValueError, match="no band"):
        phq9.band("extreme")
    with pytest.raises(ValueError, match="no flag"):
        phq9.flag("nothing")


# ---------------------------------------------------------------- broken definitions


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        *parents, last = re.findall(r"[^.\[\]]+", path)
        target: Any = data
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        if value is _DELETE:
            if isinstance(target, list):
                del target[int(last)]
            else:
                del target[last]
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return mutate


_DELETE = object()


def _insert_band(data: dict[str, Any]) -> None:
    label = {"zh_CN": "无", "en": "None"}
    data["bands"].insert(1, {"slug": "odd", "min": 29, "max": 31, "label": label})


BROKEN: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("phq9", _set("bands[1].max", 8), r"total 9 falls in 0 bands"),
    ("phq9", _set("bands[1].max", 10), r"mild \(5-10\) and moderate \(10-14\) overlap"),
    ("phq9", _set("bands[4].max", 26), r"must run from 0 to 27"),
    ("phq9", _set("bands[4].max", 28), r"must run from 0 to 27"),
    ("phq9", _set("bands[0].min", 1), r"must run from 0 to 27"),
    ("phq9", _set("bands[2].min", 15), r"min 15 is above max 14"),
    ("phq9", _set("bands[2].slug", "mild"), r"duplicate slugs"),
    ("who5", _set("bands[2].min", 56), r"percent 52 falls in 0 bands"),
    ("who5", _insert_band, r"odd contains no possible percent"),
    ("who5", _set("percent_multiplier", None), r"needs percent_multiplier"),
    ("phq9", _set("options[3]", _DELETE), r"options: codes \[0, 1, 2\] must be exactly 0..3"),
    ("phq9", _set("options[3].code", 2), r"duplicate option codes"),
    ("phq9", _set("max_code", 4), r"must be exactly 0..4"),
    ("phq9", _set("min_code", False), r"min_code: expected an integer"),
    ("phq9", _set("min_code", 0.0), r"min_code: expected an integer"),
    ("phq9", _set("items[2].text.en", _DELETE), r"items\[2\].text: missing en"),
    ("phq9", _set("items[2].text.zh_CN", " "), r"items\[2\].text.zh_CN: expected a non-empty"),
    ("phq9", _set("bands[0].label.en", ""), r"bands\[0\].label.en"),
    ("k10", _set("notes[0].zh_CN", _DELETE), r"notes\[0\]: missing zh_CN"),
    ("phq9", _set("items[0].reverse", "no"), r"items\[0\].reverse: expected true or false"),
    ("phq9", _set("items[1].id", "3"), r"items\[1\].id: expected '2'"),
    ("phq9", _set("items", []), r"at least one item"),
    ("phq9", _set("revers", True), r"unknown key\(s\) revers"),
    ("phq9", _set("items[0].revers", True), r"items\[0\]: unknown key\(s\) revers"),
    ("phq9", _set("bands", _DELETE), r"definition: missing bands"),
    ("phq9", _set("code", "gad7"), r"does not match the file name"),
    ("phq9", _set("flags[0].item", "10"), r"flags\[0\].item: '10' is not an item"),
    ("phq9", _set("flags[0].op", "=>"), r"flags\[0\].op"),
    ("phq9", _set("flags[0].applies_to", "percent"), r"only allowed when applies_to is 'item'"),
    ("phq9", _set("extra_items[0].id", "9"), r"already a scored item"),
    ("phq9", _set("caseness", 28), r"caseness: 28 is not a possible total"),
    ("phq9", _set("reliable_change", 0), r"reliable_change: must be a positive integer"),
    ("phq9", _set("band_basis", "raw"), r"band_basis: expected 'total' or 'percent'"),
]


@pytest.mark.parametrize(("code", "mutate", "message"), BROKEN)
def test_broken_definition_is_refused_naming_the_file(
    tmp_path: Path, code: str, mutate: Callable[[dict[str, Any]], None], message: str
) -> None:
    data = copy.deepcopy(raw_definition(code))
    mutate(data)
    path = tmp_path / f"{code}.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InstrumentDefinitionError, match=message) as caught:
        read_definition(path)
    assert str(path) in str(caught.value)


def test_unreadable_json_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "phq9.json"
    path.write_text('{"code": "phq9",', encoding="utf-8")
    with pytest.raises(InstrumentDefinitionError, match="cannot be read as JSON") as caught:
        read_definition(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("code", CODES)
def test_shipped_files_pass_validation(code: str) -> None:
    assert read_definition(resource_path("instruments", f"{code}.json")) == load_instrument(code)


@pytest.fixture
def definitions_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the loader at a scratch copy of the definitions, and forget it afterwards."""
    for code in CODES:
        (tmp_path / f"{code}.json").write_text(
            json.dumps(raw_definition(code), ensure_ascii=False), encoding="utf-8"
        )
    monkeypatch.setattr(assessments, "_definitions_dir", lambda: tmp_path)
    assessments._load.cache_clear()
    yield tmp_path
    assessments._load.cache_clear()


def test_scoring_rules_come_from_the_definition_file(definitions_dir: Path) -> None:
    path = definitions_dir / "phq9.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["bands"][1]["max"] = 7
    data["bands"][2]["min"] = 8
    data["flags"][0]["item"] = "1"
    data["items"][0]["reverse"] = True
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    result = score("phq9", [3, 1, 1, 1, 1, 1, 1, 1, 0])  # item 1 reversed: 0 + 7 = 7
    assert (result.total, result.band, result.flags) == (7, "mild", ("suicidal_ideation",))
    result = score("phq9", [2, 1, 1, 1, 1, 1, 1, 1, 3])  # 1 + 7 + 3 = 11
    assert (result.total, result.band, result.flags) == (11, "moderate", ("suicidal_ideation",))
    result = score("phq9", [3, 1, 1, 1, 1, 1, 1, 1, 1])
    assert (result.total, result.band) == (8, "moderate")


def test_broken_shipped_file_surfaces_from_score(definitions_dir: Path) -> None:
    path = definitions_dir / "gad7.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["bands"][3]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InstrumentDefinitionError, match=r"gad7\.json"):
        score("gad7", [0] * 7)
