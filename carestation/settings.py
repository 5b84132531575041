"""This PC's settings, declared once (key, type, default, title) and kept as JSON primitives."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from carestation.i18n import N_

APP_NAME = "CareStation"
SETTINGS_VERSION = 1


@dataclass(frozen=True)
class SettingSpec:
    key: str
    type: type
    default: Any
    title: str  # marked with N_; translate when shown
    minimum: int | None = None
    maximum: int | None = None
    # Extra check of a value; returns the value to keep (normalised) or None to refuse it.
    check: Any = None


SPECS: tuple[SettingSpec, ...] = (
    SettingSpec("language", str, "", N_("Language (empty: follow the system)")),
    SettingSpec(
        "idle_lock_minutes", int, 5, N_("Lock the screen after this many idle minutes"), 1, 120
    ),
    SettingSpec("station_id", int, 0, N_("The station this PC belongs to"), 0, None),
    # Empty: the embedded database in the data folder. Never holds a password (that is kept in
    # the OS keyring): a URL with one is refused by set() and loses it on load().
    SettingSpec(
        "database_url",
        str,
        "",
        N_("Database (empty: the embedded database on this PC)"),
        check=lambda value: _database_url(value),
    ),
    # Empty: a "backups" folder beside the embedded database file.
    SettingSpec("backup_folder", str, "", N_("Folder for backups of the embedded database")),
    # 1: black, white and yellow (View → High contrast); also on whenever the system asks for it.
    SettingSpec("high_contrast", int, 0, N_("High contrast"), 0, 1),
)
_BY_KEY = {s.key: s for s in SPECS}


def config_dir() -> Path:
    override = os.environ.get("CARESTATION_CONFIG_DIR")
    return (
        Path(override)
        if override
        else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
    )


def data_dir() -> Path:
    override = os.environ.get("CARESTATION_DATA_DIR")
    return (
        Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    )


def default_database_url() -> str:
    return f"sqlite:///{(data_dir() / 'carestation.db').as_posix()}"


# Upgrade steps: version N -> N+1, each taking and returning the raw dict.
_UPGRADES: dict[int, Any] = {}


class Settings:
    """Values checked against their spec on load and on set; unknown or bad values fall back."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or (config_dir() / "settings.json")
        self._values: dict[str, Any] = {}
        self.load()

    def load(self) -> None:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):  # RecursionError: absurdly nested JSON
            raw = {}
        if not isinstance(raw, dict):
            raw = {}
        version = raw.get("version", SETTINGS_VERSION)
        while isinstance(version, int) and version < SETTINGS_VERSION and version in _UPGRADES:
            raw = _UPGRADES[version](raw)
            version += 1
        values = raw.get("values", {})
        self._values = {}
        for key, value in (values if isinstance(values, dict) else {}).items():
            if key in _BY_KEY and _valid(_BY_KEY[key], value):
                self._values[key] = value
            elif key == "database_url" and isinstance(value, str):
                # A hand-edited file with a password in the URL: keep the address, drop the
                # password (it is never written back).
                stripped = _database_url(value, strip=True)
                if stripped is not None:
                    self._values[key] = stripped

    def get(self, key: str) -> Any:
        return self._values.get(key, _BY_KEY[key].default)

    def set(self, key: str, value: Any) -> None:
        spec = _BY_KEY[key]
        if not _valid(spec, value):
            # The value is not echoed: a refused database URL may hold a password.
            raise ValueError(f"bad value for setting {key}")
        self._values[key] = value

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps({"version": SETTINGS_VERSION, "values": self._values}, indent=2),
            encoding="utf-8",
        )
        os.replace(tmp, self.path)  # atomic: a crash never leaves half a settings file


def _valid(spec: SettingSpec, value: Any) -> bool:
    if spec.type is int and (isinstance(value, bool) or not isinstance(value, int)):
        return False
    if not isinstance(value, spec.type):
        return False
    if spec.minimum is not None and value < spec.minimum:
        return False
    if spec.check is not None and spec.check(value) != value:
        return False
    return spec.maximum is None or value <= spec.maximum


def _database_url(value: str, *, strip: bool = False) -> str | None:
    """The URL as stored (without a password); None when it is not a database URL, or when it
    holds a password and `strip` is false."""
    if value == "":
        return value
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        return None
    if url.password is not None:
        if not strip:
            return None
        return url._replace(password=None).render_as_string(hide_password=False)
    return value
