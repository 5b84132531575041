"""The table-level machinery for moving a station's SQLite database into another database: the
copy order along the foreign keys, new identifiers, foreign-key remapping and row counts. What
the rows mean (keys, ciphertexts, the audit chain, people) is decided in
`carestation/services/station_import.py`."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, LargeBinary, Table, func, insert, select, text

import carestation.db.models  # noqa: F401  (registers every table in Base.metadata)
from carestation.db.base import Base

# Per-database bookkeeping: the target keeps its own marker, key check and chain head.
NOT_COPIED = frozenset({"carestation_meta", "audit_chain"})
BATCH = 500


class BrokenReference(Exception):
    """A row refers to a row the copy does not know (a broken foreign key in the source)."""

    def __init__(self, table: str, column: str, value: object) -> None:
        super().__init__(f"{table}.{column} -> {value}")
        self.table, self.column, self.value = table, column, value


def copy_order() -> list[Table]:
    """Every table the import copies, parents before children."""
    return [t for t in Base.metadata.sorted_tables if t.name not in NOT_COPIED]


def has_id_key(table: Table) -> bool:
    """True for tables with a single integer `id` primary key (the ones that get new ids)."""
    keys = list(table.primary_key.columns)
    return len(keys) == 1 and keys[0].name == "id"


def foreign_keys(table: Table) -> list[tuple[str, str]]:
    """(column, referred table) for each single-column foreign key of `table`."""
    found = []
    for fk in table.foreign_keys:
        found.append((fk.parent.name, fk.column.table.name))
    return sorted(found)


def unique_keys(table: Table) -> list[tuple[str, ...]]:
    """The unique keys besides the primary key, as column-name tuples."""
    keys: set[tuple[str, ...]] = set()
    for constraint in table.constraints:
        if type(constraint).__name__ == "UniqueConstraint":
            keys.add(tuple(c.name for c in constraint.columns))  # type: ignore[attr-defined]
    for column in table.columns:
        if column.unique:
            keys.add((column.name,))
    for index in table.indexes:
        if index.unique:
            keys.add(tuple(c.name for c in index.columns))
    return sorted(keys)


def binary_columns() -> list[tuple[str, str]]:
    """Every (table, column) holding bytes: each must be a known ciphertext or wrapped key."""
    return sorted(
        (t.name, c.name) for t in copy_order() for c in t.columns if isinstance(c.type, LargeBinary)
    )


def read_rows(conn: Connection, table: Table) -> list[dict[str, Any]]:
    query = select(table).order_by(*table.primary_key.columns)
    return [dict(row._mapping) for row in conn.execute(query)]


def count_rows(conn: Connection, tables: Iterable[Table]) -> dict[str, int]:
    return {
        t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one()) for t in tables
    }


def allocate_ids(conn: Connection, table: Table, n: int) -> list[int]:
    """`n` fresh ids for `table` in the target, ascending. On PostgreSQL they come from the
    table's sequence, so station PCs inserting meanwhile never get the same ones; on SQLite the
    import holds the write lock, so the next ids after the largest are free."""
    if n == 0:
        return []
    current = conn.execute(select(func.max(table.c.id))).scalar() or 0
    if conn.dialect.name == "postgresql":
        seq = conn.execute(
            text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}
        ).scalar_one()
        ids = [
            int(v)
            for v in conn.execute(
                text("SELECT nextval(:s) FROM generate_series(1, :n)"), {"s": seq, "n": n}
            ).scalars()
        ]
        if min(ids) <= current:
            # The sequence lags behind rows written with explicit ids: move it past them.
            conn.execute(text("SELECT setval(:s, :v)"), {"s": seq, "v": current + n})
            ids = list(range(current + 1, current + n + 1))
        return sorted(ids)
    return list(range(current + 1, current + n + 1))


def remap(
    table: Table,
    row: Mapping[str, Any],
    maps: Mapping[str, Mapping[int, int]],
) -> dict[str, Any]:
    """The row with every foreign key translated to the target's ids."""
    out = dict(row)
    for column, referred in foreign_keys(table):
        value = out.get(column)
        if value is None:
            continue
        mapping = maps.get(referred)
        if mapping is None or value not in mapping:
            raise BrokenReference(table.name, column, value)
        out[column] = mapping[value]
    return out


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        conn.execute(insert(table), list(rows[start : start + BATCH]))


def broken_references(conn: Connection) -> int:
    """Rows whose foreign keys point nowhere (SQLite checks them here; PostgreSQL at insert)."""
    if conn.dialect.name != "sqlite":
        return 0
    return len(conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall())


def snapshot_sqlite(source: Path, target: Path) -> Path:
    """A consistent copy of `source` (its -wal included) made through SQLite's backup API from a
    read-only connection, so the source file is never written."""
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return target
