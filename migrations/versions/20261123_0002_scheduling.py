"""scheduling

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The overlap invariant lives in the database itself, so two station PCs booking the same slot at
# the same moment cannot both succeed, whatever the application does. Cancelled appointments
# never block. Half-open ranges: back-to-back appointments are fine. A later revision that
# batch-alters `appointment` on SQLite recreates the table and must recreate these triggers
# (tests/integration/test_booking_integrity.py checks they exist at head).
RESOURCES = ("counsellor", "room", "client")


def _sqlite_guards() -> None:
    op.execute(
        "CREATE TRIGGER appointment_max_duration_insert BEFORE INSERT ON appointment "
        "WHEN julianday(NEW.ends_at) - julianday(NEW.starts_at) > 0.5 "
        "BEGIN SELECT RAISE(ABORT, 'appointment_too_long'); END"
    )
    op.execute(
        "CREATE TRIGGER appointment_max_duration_update BEFORE UPDATE OF starts_at, ends_at ON appointment "
        "WHEN julianday(NEW.ends_at) - julianday(NEW.starts_at) > 0.5 "
        "BEGIN SELECT RAISE(ABORT, 'appointment_too_long'); END"
    )
    for resource in RESOURCES:
        column = f"{resource}_id"
        # Appointments last at most 12 hours, so only those starting in the 12 hours before this
        # one can overlap it: that keeps the check on the (resource, starts_at) index.
        clash = (
            f"NEW.status <> 'cancelled' AND NEW.{column} IS NOT NULL AND EXISTS ("
            f"SELECT 1 FROM appointment a WHERE a.{column} = NEW.{column} "
            "AND a.status <> 'cancelled' AND a.starts_at < NEW.ends_at AND a.ends_at > NEW.starts_at "
            "AND a.starts_at > datetime(NEW.starts_at, '-12 hours')"
        )
        op.execute(
            f"CREATE TRIGGER appointment_{resource}_overlap_insert BEFORE INSERT ON appointment "
            f"WHEN {clash}) BEGIN SELECT RAISE(ABORT, 'appointment_overlap:{resource}'); END"
        )
        op.execute(
            f"CREATE TRIGGER appointment_{resource}_overlap_update "
            f"BEFORE UPDATE OF starts_at, ends_at, status, {column} ON appointment "
            f"WHEN {clash} AND a.id <> NEW.id) "
            f"BEGIN SELECT RAISE(ABORT, 'appointment_overlap:{resource}'); END"
        )


def _postgresql_guards() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute(
        "ALTER TABLE appointment ADD CONSTRAINT ck_appointment_max_duration "
        "CHECK (ends_at - starts_at <= interval '12 hours')"
    )
    for resource in RESOURCES:
        op.execute(
            f"ALTER TABLE appointment ADD CONSTRAINT ex_appointment_{resource}_overlap "
            f"EXCLUDE USING gist ({resource}_id WITH =, tstzrange(starts_at, ends_at) WITH &&) "
            "WHERE (status <> 'cancelled')"
        )


def _drop_guards() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for resource in RESOURCES:
            op.execute(f"ALTER TABLE appointment DROP CONSTRAINT ex_appointment_{resource}_overlap")
        op.execute("ALTER TABLE appointment DROP CONSTRAINT ck_appointment_max_duration")
        return
    for name in ("max_duration_insert", "max_duration_update"):
        op.execute(f"DROP TRIGGER appointment_{name}")
    for resource in RESOURCES:
        for event in ("insert", "update"):
            op.execute(f"DROP TRIGGER appointment_{resource}_overlap_{event}")


def upgrade() -> None:
    op.create_table(
        "appointment_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interval_weeks", sa.SmallInteger(), nullable=False),
        sa.Column("planned_count", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "interval_weeks BETWEEN 1 AND 4", name=op.f("ck_appointment_series_interval")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user_account.id"],
            name=op.f("fk_appointment_series_created_by_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_series")),
    )
    op.create_table(
        "booking_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("default_minutes", sa.Integer(), nullable=False),
        sa.Column("buffer_minutes", sa.Integer(), nullable=False),
        sa.Column("min_notice_minutes", sa.Integer(), nullable=False),
        sa.Column("late_cancel_hours", sa.Integer(), nullable=False),
        sa.Column("weekly_cap", sa.Integer(), nullable=True),
        sa.CheckConstraint("buffer_minutes BETWEEN 0 AND 240", name=op.f("ck_booking_rule_buffer")),
        sa.CheckConstraint(
            "default_minutes BETWEEN 5 AND 720", name=op.f("ck_booking_rule_duration")
        ),
        sa.CheckConstraint("late_cancel_hours >= 0", name=op.f("ck_booking_rule_late_cancel")),
        sa.CheckConstraint("min_notice_minutes >= 0", name=op.f("ck_booking_rule_notice")),
        sa.CheckConstraint(
            "weekly_cap IS NULL OR weekly_cap >= 1", name=op.f("ck_booking_rule_cap")
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["station.id"], name=op.f("fk_booking_rule_station_id_station")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_rule")),
        sa.UniqueConstraint("station_id", "type", name=op.f("uq_booking_rule_station_id_type")),
    )
    op.create_table(
        "counsellor_exception",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counsellor_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_counsellor_exception_order")),
        sa.ForeignKeyConstraint(
            ["counsellor_id"],
            ["user_account.id"],
            name=op.f("fk_counsellor_exception_counsellor_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user_account.id"],
            name=op.f("fk_counsellor_exception_created_by_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["station.id"], name=op.f("fk_counsellor_exception_station_id_station")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counsellor_exception")),
    )
    with op.batch_alter_table("counsellor_exception", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_counsellor_exception_counsellor_id"),
            ["counsellor_id", "starts_at"],
            unique=False,
        )

    op.create_table(
        "station_closure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"], ["station.id"], name=op.f("fk_station_closure_station_id_station")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station_closure")),
        sa.UniqueConstraint("station_id", "day", name=op.f("uq_station_closure_station_id_day")),
    )
    op.create_table(
        "appointment_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.Integer(), nullable=True),
        sa.Column("old_starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("old_ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("old_counsellor_id", sa.Integer(), nullable=True),
        sa.Column("old_room_id", sa.Integer(), nullable=True),
        sa.Column("old_status", sa.String(length=24), nullable=True),
        sa.Column("new_status", sa.String(length=24), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_appointment_change_appointment_id_appointment"),
        ),
        sa.ForeignKeyConstraint(
            ["changed_by"],
            ["user_account.id"],
            name=op.f("fk_appointment_change_changed_by_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["old_counsellor_id"],
            ["user_account.id"],
            name=op.f("fk_appointment_change_old_counsellor_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["old_room_id"], ["room.id"], name=op.f("fk_appointment_change_old_room_id_room")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_change")),
    )
    with op.batch_alter_table("appointment_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appointment_change_appointment_id"), ["appointment_id"], unique=False
        )

    op.create_table(
        "lecture_registration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("attended", sa.Boolean(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_lecture_registration_appointment_id_appointment"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_lecture_registration_client_id_client")
        ),
        sa.ForeignKeyConstraint(
            ["registered_by"],
            ["user_account.id"],
            name=op.f("fk_lecture_registration_registered_by_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lecture_registration")),
        sa.UniqueConstraint(
            "appointment_id",
            "client_id",
            name=op.f("uq_lecture_registration_appointment_id_client_id"),
        ),
    )
    with op.batch_alter_table("lecture_registration", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lecture_registration_appointment_id"), ["appointment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_lecture_registration_client_id"), ["client_id"], unique=False
        )

    op.create_table(
        "waitlist_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("counsellor_id", sa.Integer(), nullable=True),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("earliest", sa.Date(), nullable=False),
        sa.Column("latest", sa.Date(), nullable=False),
        sa.Column("time_from", sa.Time(), nullable=False),
        sa.Column("time_to", sa.Time(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_waitlist_entry_appointment_id_appointment"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_waitlist_entry_client_id_client")
        ),
        sa.ForeignKeyConstraint(
            ["counsellor_id"],
            ["user_account.id"],
            name=op.f("fk_waitlist_entry_counsellor_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user_account.id"],
            name=op.f("fk_waitlist_entry_created_by_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["station.id"], name=op.f("fk_waitlist_entry_station_id_station")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entry")),
    )
    with op.batch_alter_table("waitlist_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_waitlist_entry_client_id"), ["client_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_waitlist_entry_station_id"), ["station_id", "status"], unique=False
        )

    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("series_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("pod_programme", sa.String(length=24), nullable=True))
        batch_op.add_column(
            sa.Column("title", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("address", sa.String(length=500), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("capacity", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("walk_in", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "cap_override_reason", sa.String(length=500), server_default="", nullable=False
            )
        )
        batch_op.add_column(sa.Column("cancel_reason", sa.String(length=24), nullable=True))
        batch_op.add_column(
            sa.Column("cancel_note", sa.String(length=500), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("late_cancel", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))
        batch_op.create_index(batch_op.f("ix_appointment_series_id"), ["series_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_appointment_series_id_appointment_series"),
            "appointment_series",
            ["series_id"],
            ["id"],
        )

    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assessment_appointment_id"), ["appointment_id"], unique=False
        )

    if op.get_bind().dialect.name == "postgresql":
        _postgresql_guards()
    else:
        _sqlite_guards()


def downgrade() -> None:
    _drop_guards()
    with op.batch_alter_table("assessment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_appointment_id"))
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_appointment_series_id_appointment_series"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_appointment_series_id"))
        batch_op.drop_column("version")
        batch_op.drop_column("late_cancel")
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("cancel_note")
        batch_op.drop_column("cancel_reason")
        batch_op.drop_column("cap_override_reason")
        batch_op.drop_column("walk_in")
        batch_op.drop_column("capacity")
        batch_op.drop_column("address")
        batch_op.drop_column("title")
        batch_op.drop_column("pod_programme")
        batch_op.drop_column("series_id")

    with op.batch_alter_table("waitlist_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_waitlist_entry_station_id"))
        batch_op.drop_index(batch_op.f("ix_waitlist_entry_client_id"))

    op.drop_table("waitlist_entry")
    with op.batch_alter_table("lecture_registration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lecture_registration_client_id"))
        batch_op.drop_index(batch_op.f("ix_lecture_registration_appointment_id"))

    op.drop_table("lecture_registration")
    with op.batch_alter_table("appointment_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointment_change_appointment_id"))

    op.drop_table("appointment_change")
    op.drop_table("station_closure")
    with op.batch_alter_table("counsellor_exception", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_counsellor_exception_counsellor_id"))

    op.drop_table("counsellor_exception")
    op.drop_table("booking_rule")
    op.drop_table("appointment_series")
