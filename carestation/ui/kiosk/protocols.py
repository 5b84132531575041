"""What the self-service screen needs from the services, as Protocols (tests hand it fakes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from carestation.domain.assessment_values import (
    AnonymousProfile,
    CampaignCodeCheck,
    FormAnswers,
    RecordedSession,
)
from carestation.domain.values import Actor


class KioskAssessments(Protocol):
    def check_kiosk_client(self, actor: Actor, /, *, client_id: int) -> None: ...

    def record_kiosk_for_client(
        self, actor: Actor, /, *, client_id: int, forms: Sequence[FormAnswers]
    ) -> RecordedSession: ...

    def record_anonymous(
        self, actor: Actor, /, *, forms: Sequence[FormAnswers], profile: AnonymousProfile
    ) -> RecordedSession: ...


class KioskCampaigns(Protocol):
    def check_code(self, actor: Actor, /, *, code: str) -> CampaignCodeCheck: ...

    def record(
        self, actor: Actor, /, *, code: str, forms: Sequence[FormAnswers]
    ) -> RecordedSession: ...


class KioskAuth(Protocol):
    def verify_station_staff(self, *, username: str, password: str, station_id: int) -> Actor: ...


class KioskServices(Protocol):
    """The container's `Services` fits once it has `assessments` and `campaigns`."""

    @property
    def assessments(self) -> KioskAssessments: ...

    @property
    def campaigns(self) -> KioskCampaigns: ...

    @property
    def auth(self) -> KioskAuth: ...


class StationContact(Protocol):
    """Where the visitor can call this station; the domain's `Station` value fits."""

    @property
    def name(self) -> str: ...

    @property
    def phone(self) -> str: ...


@dataclass(frozen=True)
class StationHelp:
    name: str
    phone: str
