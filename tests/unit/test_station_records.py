"""A station's rules for confidential records: supervisor, retention, crisis plan."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from carestation.db import models as m
from carestation.domain.errors import PermissionDenied, ValidationError
from carestation.domain.vocab import CounsellorKind
from carestation.services.container import Services
from carestation.ui.prompts import RecordingPrompter
from carestation.ui.views.admin_stations import StationsView
from tests.factories import add_counsellor, build_world


def test_the_admin_names_an_expert_of_the_station_as_supervisor(services: Services) -> None:
    world = build_world(services)
    records = services.station_records
    regulator = add_counsellor(services, world, "r001", "刘敏", CounsellorKind.REGULATOR)
    choices = records.supervisor_choices(actor=world.admin, station_id=world.station_id)
    assert [e.user_id for e in choices] == [world.counsellor.user_id]  # experts only
    with pytest.raises(ValidationError) as exc:
        records.set_policy(
            actor=world.admin,
            station_id=world.station_id,
            supervisor_id=regulator.user_id,
            retention_months=120,
            crisis_plan=(),
        )
    assert "supervisor_id" in exc.value.errors
    policy = records.set_policy(
        actor=world.admin,
        station_id=world.station_id,
        supervisor_id=world.counsellor.user_id,
        retention_months=60,
        crisis_plan=("  陪伴当事人  ", "", "联系值班专家"),
    )
    assert policy.crisis_plan == ("陪伴当事人", "联系值班专家")
    with services.db.read() as session:
        row = session.get(m.Station, world.station_id)
        assert row is not None
        assert (row.supervisor_id, row.retention_months) == (world.counsellor.user_id, 60)
        assert row.crisis_plan == "陪伴当事人\n联系值班专家"
    # The crisis checklist follows the plan.
    steps = services.crisis.checklist(world.station_id)
    assert [s.title for s in steps] == ["陪伴当事人", "联系值班专家"]


@pytest.mark.parametrize("months", [0, 11, 601])
def test_retention_outside_the_allowed_range_is_refused(services: Services, months: int) -> None:
    world = build_world(services)
    with pytest.raises(ValidationError) as exc:
        services.station_records.set_policy(
            actor=world.admin,
            station_id=world.station_id,
            supervisor_id=None,
            retention_months=months,
            crisis_plan=(),
        )
    assert "retention_months" in exc.value.errors


@pytest.mark.parametrize("role", ["staff", "counsellor", "manager"])
def test_only_administrators_change_the_rules(services: Services, role: str) -> None:
    world = build_world(services)
    actor = getattr(world, role)
    with pytest.raises(PermissionDenied):
        services.station_records.set_policy(
            actor=actor,
            station_id=world.station_id,
            supervisor_id=None,
            retention_months=120,
            crisis_plan=(),
        )
    with pytest.raises(PermissionDenied):
        services.station_records.policy(actor=actor, station_id=world.station_id)
    with services.db.read() as session:
        last = session.scalars(select(m.AuditEvent).order_by(m.AuditEvent.id.desc()).limit(1)).one()
    assert last.result == "denied"


def test_the_stations_screen_edits_the_rules(qtbot: QtBot, sqlite_services: Services) -> None:
    services = sqlite_services
    world = build_world(services)
    view = StationsView(
        services.admin, world.admin, RecordingPrompter(), records=services.station_records
    )
    qtbot.addWidget(view)
    view.refresh()
    dialog = view.edit_records_policy()
    assert isinstance(dialog, QDialog)
    dialog.supervisor_combo.setCurrentIndex(
        dialog.supervisor_combo.findData(world.counsellor.user_id)
    )
    dialog.retention_spin.setValue(36)
    dialog.on_ok()
    assert dialog.result() == QDialog.DialogCode.Accepted
    policy = services.station_records.policy(actor=world.admin, station_id=world.station_id)
    assert (policy.supervisor_id, policy.retention_months) == (world.counsellor.user_id, 36)
