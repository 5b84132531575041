"""Alembic environment: runs on the app's own connection, or on CARESTATION_DB_URL from the CLI."""

from __future__ import annotations

import os
from typing import Any

from alembic import context

from carestation.db.base import Base
from carestation.db.engine import make_engine
from carestation.db.migrate import render_item

config = context.config
target_metadata = Base.metadata


def _configure(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("CARESTATION_DB_URL")
    if not url:
        raise SystemExit("Set CARESTATION_DB_URL (or -x) to the database to migrate.")
    engine = make_engine(url)
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run against a database.")
run_migrations_online()
