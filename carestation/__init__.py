"""CareStation: booking, assessments and confidential notes for employee emotion-management stations."""

__version__ = "0.1.0"
