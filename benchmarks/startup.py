"""Start-up time: launch -> sign-in window, and sign-in -> first screen, on demo data (issue 8).

Each measurement runs the real start (carestation.app.run_gui, as `carestation --db URL` does)
in a fresh Python process (cold imports, warm disk cache), timed from the moment the parent
starts it, with hooks that only record: when the sign-in window is on screen taking input, when
the database has opened behind it, and how long the first screen after Sign in takes to draw
its data (background loads included). A bare PySide6 QMainWindow with one label, measured the
same way and alternately with the app, is the yardstick. Under Xvfb, run with
QT_QPA_PLATFORM=xcb to measure real windows. Usage:

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

from carestation.settings import Settings

CHILD = r"""
import sys, time
t0 = float(sys.argv[1]); mode = sys.argv[2]
def mark(label, at=None):
    print(f"{label} {(at or time.time()) - t0:.4f}", flush=True)
if mode == "bare":
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
    app = QApplication([])
    w = QMainWindow(); w.setCentralWidget(QLabel("CareStation")); w.show()
    while not w.windowHandle() or not w.windowHandle().isExposed():
        app.processEvents()
    app.processEvents(); mark("shown"); sys.exit(0)
# The real start: `carestation --db URL`, as a station PC runs it, with three hooks that only
# look: when the sign-in window is on screen and taking input, when the database is open behind
# it, and when the first screen after sign-in has drawn its data.
url, username, password = sys.argv[3:6]
from carestation import app as app_module
from carestation.ui.sign_in_dialog import SignInDialog
from PySide6.QtCore import QThreadPool, QTimer
from PySide6.QtWidgets import QApplication

real_show, real_ready, real_signed_in = SignInDialog.show, SignInDialog.set_ready, app_module.AppController._signed_in
def show(self):
    real_show(self)
    if getattr(show, "done", False):
        return
    show.done = True
    app = QApplication.instance()
    def exposed():
        if self.windowHandle() is not None and self.windowHandle().isExposed():
            mark("sign_in_window")
        else:
            QTimer.singleShot(1, exposed)
    QTimer.singleShot(0, exposed)
def set_ready(self, *args, **kwargs):
    real_ready(self, *args, **kwargs)
    mark("database_open")
    def press():
        global pressed
        self.username.setText(username); self.password.setText(password)
        pressed = time.time()
        self.sign_in_button.click()
    QTimer.singleShot(0, press)
def signed_in(self):
    real_signed_in(self)
    app = QApplication.instance()
    window = self.window
    while not window.windowHandle() or not window.windowHandle().isExposed():
        app.processEvents()
    app.processEvents()
    QThreadPool.globalInstance().waitForDone()  # screens that load in the background
    app.processEvents()
    window.repaint()
    print(f"first_view_after_sign_in {time.time() - pressed:.4f}", flush=True)
    print(f"first_view_title {window.current_view().title()}", flush=True)
    QTimer.singleShot(0, lambda: app.exit(0))
SignInDialog.show, SignInDialog.set_ready, app_module.AppController._signed_in = show, set_ready, signed_in
app_module.run_gui(db_url=url, lang="zh_CN", demo=False)
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
    marks: dict[str, float] = {}
    for line in out.splitlines():
        key, _sep, value = line.partition(" ")
        if key == "first_view_title":
            TITLES.add(value)
        elif key:
            marks[key] = float(value)
    return marks


TITLES: set[str] = set()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--role", choices=sorted(ACCOUNTS), action="append")
    args = parser.parse_args()
    roles = args.role or ["staff", "counsellor", "manager", "admin"]
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            # A PC that has run the app before: its settings say which station it is at.
            "CARESTATION_CONFIG_DIR": str(Path(tmp, "config")),
            "CARESTATION_DATA_DIR": str(Path(tmp, "data")),
        }
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        settings = Settings(Path(tmp, "config", "settings.json"))
        settings.set("station_id", 1)
        settings.save()
        url = args.db
        if url is None:
            url = f"sqlite:///{Path(tmp, 'demo.db').as_posix()}"
            subprocess.run(
                [sys.executable, "-m", "carestation", "demo", "--db", url],
                check=True,
                capture_output=True,
                env=env,
            )
        where = url.split("///")[-1] if args.db else "demo (default size)"
        print(f"platform: {env['QT_QPA_PLATFORM']}, runs: {args.runs} each, database: {where}")
        print(f"load average before: {os.getloadavg()[0]:.1f}")
        # Side by side: each run of the app follows a run of the bare window, so both see the
        # same machine.
        bare: list[float] = []
        results: dict[str, list[dict[str, float]]] = {role: [] for role in roles}
        for _ in range(args.runs):
            for role in roles:
                bare.append(run_child(["bare"], env)["shown"])
                username, password = ACCOUNTS[role]
                results[role].append(run_child(["app", url, username, password], env))
        yardstick = statistics.median(bare)
        print(f"bare QMainWindow with a label shown: median {yardstick * 1000:5.0f} ms")
        for role in roles:
            runs = results[role]
            sign_in = statistics.median(r["sign_in_window"] for r in runs)
            opened = statistics.median(r["database_open"] for r in runs)
            first = statistics.median(r["first_view_after_sign_in"] for r in runs)
            worst = max(r["first_view_after_sign_in"] for r in runs)
            print(
                f"{role:<11} launch -> sign-in window taking input: {sign_in * 1000:5.0f} ms "
                f"= {sign_in / yardstick:.2f}x bare (target <= 1.5x); database open behind it at "
                f"{opened * 1000:5.0f} ms; sign-in -> first screen drawn: {first * 1000:4.0f} ms "
                f"(max {worst * 1000:4.0f}; target < 1000)"
            )
        print(f"first screens: {', '.join(sorted(TITLES))}")
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
