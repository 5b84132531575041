"""The station's self-service ("kiosk") screen: questionnaires visitors take on their own."""

from carestation.ui.kiosk.protocols import (
    KioskAssessments,
    KioskAuth,
    KioskCampaigns,
    KioskServices,
    StationContact,
    StationHelp,
)
from carestation.ui.kiosk.window import KioskWindow

__all__ = [
    "KioskAssessments",
    "KioskAuth",
    "KioskCampaigns",
    "KioskServices",
    "KioskWindow",
    "StationContact",
    "StationHelp",
]
