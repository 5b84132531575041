"""Where the app's log lines go: a small rotating file in the data folder (GUI), or stderr
(commands). Log lines carry counts and ids, never names, note text or answers; SQLAlchemy's
engines hide bound parameters, so a failing statement cannot leak them either."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(log_file: Path | None) -> None:
    root = logging.getLogger()
    if any(getattr(h, "_carestation", False) for h in root.handlers):
        return
    handler: logging.Handler
    if log_file is None:
        handler = logging.StreamHandler(sys.stderr)
    else:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=1_000_000, backupCount=5, encoding="utf-8"
        )
    handler.setFormatter(logging.Formatter(FORMAT))
    handler._carestation = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    logging.getLogger("carestation").setLevel(logging.INFO)


def log_file_path() -> Path:
    from carestation.settings import data_dir

    return data_dir() / "logs" / "carestation.log"
