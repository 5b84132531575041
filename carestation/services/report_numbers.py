"""Report numbers (R-000123): one counter in `carestation_meta` for every printed or exported
report, taken under lock in the caller's write transaction, so a number is never given twice and
is committed together with the audit entry that names it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from carestation.db import models as m

COUNTER_KEY = "report_counter"


def report_number(counter: int) -> str:
    return f"R-{counter:06d}"


def next_report_counter(session: Session, *, is_sqlite: bool) -> int:
    """The next counter value: the row is created if missing, then read and raised under a row
    lock (PostgreSQL) or inside SQLite's write transaction (which already holds the database)."""
    insert = sqlite_insert if is_sqlite else pg_insert
    session.execute(
        insert(m.Meta)
        .values(key=COUNTER_KEY, value="0")
        .on_conflict_do_nothing(index_elements=[m.Meta.key])
    )
    # populate_existing: a batch takes several numbers in one session; always read the row.
    query = select(m.Meta).where(m.Meta.key == COUNTER_KEY)
    if not is_sqlite:
        query = query.with_for_update()
    row = session.scalars(query.execution_options(populate_existing=True)).one()
    try:
        current = int(row.value)
    except ValueError:
        current = 0
    row.value = str(current + 1)
    session.flush()
    return current + 1
