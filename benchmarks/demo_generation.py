"""Times the demo generator on a fresh database and prints rows per table, rows/s and peak memory."""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from carestation.db.demo import generate_demo
from carestation.db.migrate import open_database


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--stations", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--today", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)"
    )
    parser.add_argument(
        "--db", default=None, help="database URL (default: a new SQLite file in a temp folder)"
    )
    args = parser.parse_args(argv)

    url = args.db
    if url is None:
        folder = Path(tempfile.mkdtemp(prefix="carestation-bench-"))
        url = f"sqlite:///{folder / 'demo.db'}"
    print(f"database: {url}")
    engine, _result = open_database(url)

    last_stage = ""

    def progress(stage: str, fraction: float) -> None:
        nonlocal last_stage
        if stage != last_stage:
            last_stage = stage
            print(f"  {fraction:6.1%}  {stage}", flush=True)

    started = time.perf_counter()
    try:
        summary = generate_demo(
            engine,
            stations=args.stations,
            clients=args.clients,
            months=args.months,
            seed=args.seed,
            today=args.today,
            progress=progress,
        )
    finally:
        engine.dispose()
    elapsed = time.perf_counter() - started

    print(
        f"\n{args.stations} stations, {args.clients} clients, {args.months} months, "
        f"seed {args.seed}; window {summary.first_day} .. {summary.last_day} (today {summary.today})"
    )
    for table, count in summary.table_counts().items():
        print(f"  {table:<20} {count:>10,}")
    total = summary.total_rows
    print(f"  {'total':<20} {total:>10,}")
    print(f"wall time   {elapsed:8.2f} s")
    print(f"rows/s      {total / elapsed:8,.0f}")
    print(f"peak RSS    {_peak_rss_mib():8.1f} MiB")
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if path.exists():
            print(f"file size   {path.stat().st_size / (1024 * 1024):8.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
