"""The demo generator on real SQLite files: deterministic, never double-booked, inside opening hours."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text

from carestation.assessments import score
from carestation.db.base import Base
from carestation.db.demo import DemoSummary, generate_demo
from carestation.db.migrate import open_database
from carestation.domain.errors import Conflict
from carestation.domain.roles import Role
from carestation.domain.vocab import CounsellorKind
from carestation.security.passwords import verify_password

TODAY = date(2026, 11, 23)
SHANGHAI = ZoneInfo("Asia/Shanghai")
SMALL_CLIENTS = 150


def _open(path: Path) -> Engine:
    engine, _result = open_database(f"sqlite:///{path}")
    return engine


def _generate(
    path: Path, *, seed: int = 1, stations: int = 3, clients: int = SMALL_CLIENTS, months: int = 3
) -> tuple[Engine, DemoSummary]:
    engine = _open(path)
    summary = generate_demo(
        engine, stations=stations, clients=clients, months=months, seed=seed, today=TODAY
    )
    return engine, summary


def _dump(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in a stable order, without the (salted) password hashes and
    note ciphertexts (a fresh random nonce per encryption, as it must be)."""
    result = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name == "carestation_meta":
                continue
            columns = [
                c
                for c in table.columns
                if c.name != "password_hash" and not c.name.endswith("_ciphertext")
            ]
            order = ", ".join(c.name for c in table.primary_key.columns)
            names = ", ".join(c.name for c in columns)
            rows = conn.execute(text(f"SELECT {names} FROM {table.name} ORDER BY {order}"))
            result[table.name] = [tuple(r) for r in rows]
    return result


def _utc(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, DemoSummary]]:
    engine, summary = _generate(tmp_path_factory.mktemp("small") / "demo.db")
    yield engine, summary
    engine.dispose()


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, DemoSummary]]:
    """One station and far more clients than its counsellors can see: every slot is contested."""
    path = tmp_path_factory.mktemp("crowded") / "demo.db"
    engine, summary = _generate(path, stations=1, clients=1500, months=2)
    yield engine, summary
    engine.dispose()


def test_same_seed_and_today_give_identical_rows(
    tmp_path: Path, small: tuple[Engine, DemoSummary]
) -> None:
    engine, summary = small
    again, again_summary = _generate(tmp_path / "again.db")
    other, _ = _generate(tmp_path / "other.db", seed=2)
    try:
        first = _dump(engine)
        assert _dump(again) == first
        assert again_summary == summary
        differing = [name for name, rows in _dump(other).items() if rows != first[name]]
        assert {"client", "appointment", "assessment", "user_account"} <= set(differing)
    finally:
        again.dispose()
        other.dispose()


def test_summary_counts_are_the_rows_written(small: tuple[Engine, DemoSummary]) -> None:
    engine, summary = small
    with engine.connect() as conn:
        actual = {
            t.name: conn.execute(text(f"SELECT COUNT(*) FROM {t.name}")).scalar()
            for t in Base.metadata.sorted_tables
            # The meta rows and the audit chain's head row come with the schema.
            if t.name not in ("carestation_meta", "audit_chain")
        }
    written = summary.table_counts()
    # Everything else stays empty: no notes (they need the encryption key), no audit trail, and
    # none of the scheduling extras (series, history, waitlist, registrations, rules, closures).
    assert {name: n for name, n in actual.items() if name not in written} == dict.fromkeys(
        sorted(set(actual) - set(written)), 0
    )
    assert written == {name: actual[name] for name in written}
    assert summary.stations == 3
    assert summary.clients == SMALL_CLIENTS
    assert summary.appointments > 300
    assert summary.first_day == date(2026, 9, 21)  # three months before today + 4 weeks
    assert summary.last_day == date(2026, 12, 20)


@pytest.mark.parametrize("column", ["counsellor_id", "room_id", "client_id"])
@pytest.mark.parametrize("fixture", ["small", "crowded"])
def test_nobody_and_no_room_is_double_booked(
    column: str, fixture: str, request: pytest.FixtureRequest
) -> None:
    engine, _summary = request.getfixturevalue(fixture)
    with engine.connect() as conn:
        clashes = conn.execute(
            text(
                f"""
                SELECT a.id, b.id FROM appointment a JOIN appointment b
                  ON a.{column} = b.{column} AND a.id < b.id
                 AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
                WHERE a.status != 'cancelled' AND b.status != 'cancelled'
                """
            )
        ).all()
        backwards = conn.execute(
            text("SELECT COUNT(*) FROM appointment WHERE ends_at <= starts_at")
        ).scalar()
    assert clashes == []
    assert backwards == 0


def test_crowded_station_is_full_but_not_overbooked(crowded: tuple[Engine, DemoSummary]) -> None:
    engine, _summary = crowded
    with engine.connect() as conn:
        busiest = conn.execute(
            text(
                """
                SELECT MAX(n) FROM (
                  SELECT COUNT(*) AS n FROM appointment
                   WHERE status != 'cancelled' AND type IN ('counselling', 'online')
                   GROUP BY counsellor_id, substr(starts_at, 1, 10))
                """
            )
        ).scalar()
        clients_with_case = conn.execute(
            text("SELECT COUNT(DISTINCT client_id) FROM care_case")
        ).scalar()
    # Full days (six sessions) show the data is dense enough for the clash checks to matter;
    # and when demand exceeds the diary, fewer clients are seen rather than anyone overbooked.
    assert busiest == 6
    assert clients_with_case is not None
    assert clients_with_case < 1500 / 2


def test_every_appointment_is_inside_opening_and_counsellor_hours(
    small: tuple[Engine, DemoSummary],
) -> None:
    engine, _summary = small
    with engine.connect() as conn:
        opening = defaultdict(list)
        for station_id, weekday, opens, closes in conn.execute(
            text("SELECT station_id, weekday, opens, closes FROM station_hours")
        ):
            opening[(station_id, weekday)].append(
                (time.fromisoformat(opens), time.fromisoformat(closes))
            )
        duty = defaultdict(list)
        for counsellor_id, station_id, weekday, starts, ends in conn.execute(
            text("SELECT counsellor_id, station_id, weekday, starts, ends FROM counsellor_hours")
        ):
            duty[(counsellor_id, station_id, weekday)].append(
                (time.fromisoformat(starts), time.fromisoformat(ends))
            )
        appointments = conn.execute(
            text("SELECT id, station_id, counsellor_id, starts_at, ends_at FROM appointment")
        ).all()
    outside_opening, outside_duty = [], []
    for appointment_id, station_id, counsellor_id, starts_at, ends_at in appointments:
        start = _utc(starts_at).astimezone(SHANGHAI)
        end = _utc(ends_at).astimezone(SHANGHAI)
        assert start.date() == end.date()
        key = (station_id, start.weekday())
        if not any(o <= start.time() and end.time() <= c for o, c in opening[key]):
            outside_opening.append(appointment_id)
        if counsellor_id is not None and not any(
            s <= start.time() and end.time() <= e for s, e in duty[(counsellor_id, *key)]
        ):
            outside_duty.append(appointment_id)
    assert len(appointments) > 300
    assert outside_opening == []
    assert outside_duty == []


def test_statuses_follow_today(small: tuple[Engine, DemoSummary]) -> None:
    engine, _summary = small
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT starts_at, status FROM appointment")).all()
    by_when: dict[str, Counter[str]] = defaultdict(Counter)
    for starts_at, status in rows:
        day = _utc(starts_at).astimezone(SHANGHAI).date()
        when = "past" if day < TODAY else "today" if day == TODAY else "future"
        by_when[when][status] += 1
    past, future = by_when["past"], by_when["future"]
    assert set(past) == {"completed", "cancelled", "no_show"}
    assert past["completed"] / past.total() > 0.7
    assert past["completed"] > past["cancelled"] > past["no_show"]
    assert set(future) == {"booked"}
    assert future.total() > 20
    assert set(by_when["today"]) <= {"completed", "checked_in", "booked"}


def test_records_are_created_in_a_possible_order(small: tuple[Engine, DemoSummary]) -> None:
    engine, _summary = small
    with engine.connect() as conn:
        late_bookings = conn.execute(
            text("SELECT COUNT(*) FROM appointment WHERE created_at >= starts_at")
        ).scalar()
        unregistered = conn.execute(
            text(
                "SELECT COUNT(*) FROM appointment a JOIN client c ON c.id = a.client_id"
                " WHERE c.created_at > a.created_at"
            )
        ).scalar()
        bad_closures = conn.execute(
            text(
                "SELECT COUNT(*) FROM care_case WHERE (status = 'closed') !="
                " (closed_at IS NOT NULL AND outcome IS NOT NULL)"
            )
        ).scalar()
        seen = conn.execute(text("SELECT COUNT(DISTINCT client_id) FROM appointment")).scalar()
    assert late_bookings == 0
    assert unregistered == 0
    assert bad_closures == 0
    assert seen is not None
    assert seen >= 0.7 * SMALL_CLIENTS


def test_appointments_are_shaped_by_their_type(small: tuple[Engine, DemoSummary]) -> None:
    engine, _summary = small
    with engine.connect() as conn:
        shapes = set(
            conn.execute(
                text(
                    """
                    SELECT a.type, a.modality, r.kind, a.client_id IS NOT NULL,
                           a.counsellor_id IS NOT NULL, a.case_id IS NOT NULL,
                           CAST(ROUND((julianday(a.ends_at) - julianday(a.starts_at)) * 1440)
                                AS INTEGER)
                      FROM appointment a LEFT JOIN room r ON r.id = a.room_id
                    """
                )
            ).all()
        )
        foreign_topics = conn.execute(
            text(
                "SELECT COUNT(*) FROM appointment a WHERE a.case_id IS NOT NULL AND NOT EXISTS"
                " (SELECT 1 FROM case_topic t WHERE t.case_id = a.case_id AND t.topic = a.topic)"
            )
        ).scalar()
    assert {"counselling", "pod", "online", "lecture"} <= {shape[0] for shape in shapes}
    allowed = {
        ("counselling", "in_person", "counselling_room", 1, 1, 1, 50),
        ("pod", "in_person", "emotion_pod", 1, 0, 0, 15),
        ("online", "phone", None, 1, 1, 1, 50),
        ("online", "video", None, 1, 1, 1, 50),
        ("lecture", "in_person", "group_room", 0, 1, 0, 90),
        ("crisis", "in_person", "relief_area", 1, 1, 1, 60),
        ("crisis", "in_person", "counselling_room", 1, 1, 1, 60),
    }
    assert shapes <= allowed
    assert foreign_topics == 0


def test_stored_scores_are_what_the_scorer_says(small: tuple[Engine, DemoSummary]) -> None:
    engine, _summary = small
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT instrument, instrument_version, answers, total, band, mode, client_id,"
                " appointment_id FROM assessment"
            )
        ).all()
    instruments: Counter[str] = Counter()
    modes: Counter[str] = Counter()
    for instrument, version, answers, total, band, mode, client_id, appointment_id in rows:
        result = score(instrument, json.loads(answers))
        assert (version, total, band) == (result.version, result.total, result.band)
        instruments[instrument] += 1
        modes[mode] += 1
        if mode == "anonymous":
            assert client_id is None
            assert appointment_id is None
        else:
            assert client_id is not None
    assert {"phq9", "gad7", "mood"} <= set(instruments)
    assert set(modes) == {"counsellor", "kiosk", "anonymous"}


def test_improved_cases_score_better_at_the_end(tmp_path: Path) -> None:
    engine, _summary = _generate(tmp_path / "outcomes.db", stations=3, clients=600, months=6)
    try:
        with engine.connect() as conn:
            pairs = conn.execute(
                text(
                    """
                    SELECT c.outcome, f.total, l.total FROM care_case c
                      JOIN assessment f ON f.case_id = c.id AND f.instrument = 'phq9'
                      JOIN assessment l ON l.case_id = c.id AND l.instrument = 'phq9'
                     WHERE f.taken_at < l.taken_at
                    """
                )
            ).all()
    finally:
        engine.dispose()
    improved = [first - last for outcome, first, last in pairs if outcome == "improved"]
    assert len(improved) >= 10
    assert sum(improved) / len(improved) >= 3


def test_demo_accounts_sign_in_with_their_roles(small: tuple[Engine, DemoSummary]) -> None:
    engine, summary = small
    by_name = {a.username: a for a in summary.accounts}
    assert {"admin", "manager", "staff01", "c001"} <= set(by_name)
    kinds = {a.counsellor_kind for a in summary.accounts if a.role is Role.COUNSELLOR}
    assert kinds == {CounsellorKind.EXPERT, CounsellorKind.REGULATOR, CounsellorKind.MENTOR}
    assert by_name["c001"].counsellor_kind is CounsellorKind.EXPERT
    with engine.connect() as conn:
        for account in summary.accounts:
            user_id, password_hash = conn.execute(
                text("SELECT id, password_hash FROM user_account WHERE username = :u"),
                {"u": account.username},
            ).one()
            roles = (
                conn.execute(
                    text("SELECT role FROM user_role WHERE user_id = :id"), {"id": user_id}
                )
                .scalars()
                .all()
            )
            assert roles == [account.role.value]
            assert verify_password(password_hash, account.password)
            assert len(account.password) >= 10
        c001_stations = (
            conn.execute(
                text(
                    "SELECT s.station_id FROM user_station s JOIN user_account u ON u.id = s.user_id"
                    " WHERE u.username = 'c001'"
                )
            )
            .scalars()
            .all()
        )
        c001_kind = conn.execute(
            text(
                "SELECT p.kind FROM counsellor_profile p JOIN user_account u ON u.id = p.user_id"
                " WHERE u.username = 'c001'"
            )
        ).scalar()
        staff01_stations = (
            conn.execute(
                text(
                    "SELECT s.station_id FROM user_station s JOIN user_account u ON u.id = s.user_id"
                    " WHERE u.username = 'staff01'"
                )
            )
            .scalars()
            .all()
        )
    assert 1 in c001_stations
    assert c001_kind == "expert"
    assert staff01_stations == [1]


def test_refuses_a_database_that_already_has_data(small: tuple[Engine, DemoSummary]) -> None:
    engine, _summary = small
    before = _dump(engine)
    with pytest.raises(Conflict, match="empty database"):
        generate_demo(engine, stations=3, clients=SMALL_CLIENTS, months=3, seed=5, today=TODAY)
    assert _dump(engine) == before
