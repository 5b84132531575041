"""Start-up time: launch -> sign-in window, and sign-in -> first screen, on demo data.

Each measurement runs in a fresh Python process (cold imports, warm disk cache), timed from the
moment the parent starts it. A bare PySide6 QMainWindow with one label is measured the same way
as the yardstick. Usage:

    python benchmarks/startup.py [--db URL] [--runs 5] [--role staff|counsellor|manager|admin]

Without --db it generates a default-size demo database (10 stations, 2,000 clients, 12 months)
in a temporary folder first.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import sys, time
t0 = float(sys.argv[1]); mode = sys.argv[2]
def mark(label):
    print(f"{label} {time.time() - t0:.4f}", flush=True)
if mode == "bare":
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
    app = QApplication([])
    w = QMainWindow(); w.setCentralWidget(QLabel("CareStation")); w.show()
    while not w.windowHandle() or not w.windowHandle().isExposed():
        app.processEvents()
    app.processEvents(); mark("shown"); sys.exit(0)
url, username, password = sys.argv[3:6]
from carestation.i18n import set_language
set_language("zh_CN")
from carestation.app import _install_qt_translations, _make_app
from carestation.ui.fonts import apply_app_font
app = _make_app(); _install_qt_translations(app); apply_app_font(app)
from carestation.db.engine import Database
from carestation.db.migrate import open_database
from carestation.services.container import build_services
from carestation.ui.sign_in_dialog import SignInDialog
engine, _ = open_database(url)
services = build_services(Database(engine))
stations = services.setup.public_stations()
dialog = SignInDialog(services.auth, station_id=stations[0].id, station_name=stations[0].name)
dialog.show()
while not dialog.windowHandle() or not dialog.windowHandle().isExposed():
    app.processEvents()
app.processEvents(); mark("sign_in_window")
t1 = time.time()
dialog.username.setText(username); dialog.password.setText(password); dialog.on_sign_in()
from pathlib import Path
from carestation.settings import Settings
from carestation.ui.main_window import MainWindow
from carestation.ui.prompts import QtPrompter
window = MainWindow(services, dialog.actor, Settings(Path(sys.argv[6])), QtPrompter(), station_name=stations[0].name)
window.show()
while not window.windowHandle() or not window.windowHandle().isExposed():
    app.processEvents()
app.processEvents()
print(f"main_window_after_sign_in {time.time() - t1:.4f}", flush=True)
engine.dispose()
"""

ACCOUNTS = {
    "staff": ("staff01", "demo-staff-2026"),
    "counsellor": ("c001", "demo-counsellor-2026"),
    "manager": ("manager", "demo-manager-2026"),
    "admin": ("admin", "demo-admin-2026"),
}


def run_child(args: list[str], env: dict[str, str]) -> dict[str, float]:
    t0 = time.time()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, repr(t0), *args],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    return {k: float(v) for k, v in (line.split() for line in out.splitlines() if line.strip())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--role", choices=sorted(ACCOUNTS), action="append")
    args = parser.parse_args()
    roles = args.role or ["staff", "counsellor", "manager", "admin"]
    env = {**os.environ}
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db
        if url is None:
            url = f"sqlite:///{Path(tmp, 'demo.db').as_posix()}"
            subprocess.run(
                [sys.executable, "-m", "carestation", "demo", "--db", url],
                check=True,
                capture_output=True,
            )
        settings = str(Path(tmp, "settings.json"))
        bare = [run_child(["bare"], env)["shown"] for _ in range(args.runs)]
        print(
            f"platform: {env['QT_QPA_PLATFORM']}, runs: {args.runs}, database: {url.split('///')[-1] if args.db else 'demo (default size)'}"
        )
        print(f"bare QMainWindow shown:            median {statistics.median(bare) * 1000:7.0f} ms")
        for role in roles:
            username, password = ACCOUNTS[role]
            runs = [
                run_child(["app", url, username, password, settings], env) for _ in range(args.runs)
            ]
            sign_in = statistics.median(r["sign_in_window"] for r in runs)
            main_win = statistics.median(r["main_window_after_sign_in"] for r in runs)
            print(
                f"{role:<11} launch -> sign-in window: median {sign_in * 1000:7.0f} ms "
                f"({sign_in / statistics.median(bare):.2f}x bare);  sign-in -> main window: {main_win * 1000:5.0f} ms"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
