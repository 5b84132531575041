"""The database a benchmark runs on: the one given with --db, filled with demo data when it is
empty, or a fresh SQLite file in a temporary folder."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, func, select

from carestation.db import models as m
from carestation.db.demo import generate_demo
from carestation.db.migrate import open_database


def demo_engine(
    url: str | None,
    *,
    clients: int,
    months: int,
    seed: int,
    stations: int = 10,
    prefix: str = "carestation-bench-",
) -> Engine:
    if url is None:
        folder = Path(tempfile.mkdtemp(prefix=prefix))
        url = f"sqlite:///{(folder / 'demo.db').as_posix()}"
    engine, _result = open_database(url)
    with engine.connect() as conn:
        filled = conn.execute(select(func.count()).select_from(m.Station)).scalar_one() > 0
    if filled:
        print(f"database: {url} (existing)")
    else:
        print(f"database: {url} (generating {clients} clients, {months} months)")
        started = time.perf_counter()
        generate_demo(engine, stations=stations, clients=clients, months=months, seed=seed)
        print(f"  generated in {time.perf_counter() - started:.1f} s")
    return engine
