"""Values of the personal wellbeing report (个人心理健康评估报告): what the report service hands the
PDF writer. Plain frozen dataclasses, no Qt, no SQL.

They carry only what is printed: scores on the band basis, band slugs, dates and the station's
contact details. Never note text, crisis text, another person's data or raw item answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class ReportPoint:
    """One completed form on the chart."""

    taken_on: date
    value: int  # on the band basis (WHO-5: percent)


@dataclass(frozen=True)
class InstrumentSection:
    """One questionnaire on the report: the latest result and its history."""

    instrument: str  # canonical code
    latest_total: int
    latest_value: int  # on the band basis
    latest_band: str  # band slug
    latest_on: date
    points: tuple[ReportPoint, ...]  # oldest first, every form of that instrument
    change: str | None  # "improved" | "deteriorated" | "no_reliable_change" | None
    follow_up_advised: bool  # the band (or a flag such as PHQ-9 item 9) calls for a follow-up


@dataclass(frozen=True)
class PersonalReportData:
    """Everything one printed personal report shows."""

    report_number: str  # "R-000123": neutral, used as PDF title and print job name
    lang: str
    station_name: str
    station_address: str
    station_phone: str
    client_code: str
    client_name: str | None  # only when the counsellor ticked "print the name"
    counsellor_name: str  # the signed-in counsellor's display name
    issued_on: date  # station-local today
    sections: tuple[InstrumentSection, ...]  # instrument_codes() order, mood excluded


__all__ = ["InstrumentSection", "PersonalReportData", "ReportPoint"]
