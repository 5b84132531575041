"""Writes a realistic, deterministic demo data set (a city's station network) into an empty database."""

from __future__ import annotations

import base64
import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, insert, select, text

from carestation.assessments import load_instrument, score
from carestation.db.engine import Database
from carestation.db.models import Base, Client, Meta, Station, UserAccount
from carestation.domain.client_code import new_client_code
from carestation.domain.errors import Conflict
from carestation.domain.roles import Role
from carestation.domain.vocab import (
    AgeBand,
    AppointmentStatus,
    AppointmentType,
    AssessmentMode,
    CaseOutcome,
    CaseStatus,
    CounsellorKind,
    Gender,
    Industry,
    Modality,
    PodPhase,
    RegistrationStatus,
    RiskLevel,
    RoomKind,
    Topic,
    WaitlistStatus,
)
from carestation.i18n import _
from carestation.security.keys import check_value

__all__ = ["DemoAccount", "DemoSummary", "generate_demo"]

ZONE = "Asia/Shanghai"
BATCH_SIZE = 4000
FUTURE_DAYS = 28  # the window runs this far past `today`, so there are bookings to work with

PASSWORDS = {
    Role.ADMIN: "demo-admin-2026",
    Role.MANAGER: "demo-manager-2026",
    Role.STAFF: "demo-staff-2026",
    Role.COUNSELLOR: "demo-counsellor-2026",
}

# Times are minutes after local midnight. Sessions sit on an hourly grid, like a paper booking sheet.
SLOT_STARTS = (510, 570, 630, 810, 870, 930)  # 08:30 09:30 10:30 13:30 14:30 15:30
LECTURE_STARTS = (840, 540)  # 14:00, 09:00
NOON = 720
AFTERNOON = 810
COUNSELLING_MINUTES = 50
CRISIS_MINUTES = 60
LECTURE_MINUTES = 90
POD_MINUTES = 15
UNIT = 5  # occupancy is tracked in 5-minute units, as bits of an int per person/room and day

# Tables in foreign-key order: flushing in this order never references a row not yet written.
TABLE_ORDER = (
    "station",
    "station_hours",
    "room",
    "user_account",
    "user_role",
    "user_station",
    "counsellor_profile",
    "counsellor_hours",
    "client",
    "care_case",
    "case_topic",
    "appointment",
    "lecture_registration",
    "waitlist_entry",
    "campaign",
    "campaign_code",
    "assessment",
)
_TABLES_WITH_ID = (
    "campaign",
    "campaign_code",
    "session_note",
    "crisis_flag",
    "crisis_followup",
    "station",
    "station_hours",
    "room",
    "user_account",
    "counsellor_hours",
    "client",
    "care_case",
    "appointment",
    "assessment",
)

# --------------------------------------------------------------------------- vocabulary of names


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


TOWNS = _words(
    """
    暨阳街道 浣东街道 陶朱街道 暨南街道 大唐街道 店口镇 枫桥镇 山下湖镇 次坞镇
    牌头镇 安华镇 璜山镇 草塔镇 五泄镇 应店街镇 同山镇 王家井镇 赵家镇
    东白湖镇 岭北镇 马剑镇 陈宅镇 街亭镇 姚江镇 浬浦镇 直埠镇 东和乡
    """
)
SITES = ("职工服务中心", "工业园区", "党群服务中心", "职工之家", "小微企业园")
CITY_ROADS = ("浣纱南路", "艮塔西路", "望云路", "暨阳路", "东二路", "江东路", "西施大街", "大桥路")
ROAD_SUFFIXES = ("大道", "中路", "东路", "西路", "南路", "北路")
BUILDINGS = ("职工服务中心二楼", "党群服务中心三楼", "工会大楼一楼", "综合楼二楼", "职工之家一楼")

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
    "魏吕丁沈任姚卢钟姜金陆汪范方石俞钱楼宣斯骆寿郦边屠"
)
# Rough national frequencies, with the surnames common around Zhuji (陈, 何, 楼, 宣, 斯, 骆 ...) raised.
SURNAME_WEIGHTS = tuple(
    float(w)
    for w in _words(
        """
    7.1 7.0 6.8 5.4 7.5 3.1 2.2 2.6 2.0 2.4 1.8 1.5 1.3 1.2 1.4
    1.1 2.5 1.1 1.0 0.9 0.9 0.8 0.8 0.7 0.7 0.6 0.6 0.6 0.6 0.5
    0.5 0.5 0.5 0.5 0.5 0.4 0.4 0.6 0.4 0.4 0.4 0.6 0.4 0.4 0.3
    0.3 0.7 0.3 0.5 0.3 0.3 0.3 0.7 0.3 0.5 0.3 0.3 0.3 0.6 0.5
    1.2 0.8 0.6 0.9 0.5 0.3 0.4 0.3
    """
    )
)
MALE_CHARS = "伟强军杰涛明超勇磊洋斌鹏浩亮建峰飞辉刚健俊波宇平国华林晨凯文志海东永龙锋鑫毅振立成春祥荣兴良德江庆剑骏"
FEMALE_CHARS = (
    "芳娜敏静丽艳娟霞燕玲婷雪慧琳颖倩佳莉萍红梅琴蕾欣怡悦璐晶英秀兰凤洁丹萌瑶彤思雨月珍琪媛菲露"
)
SHARED_CHARS = "晓佳思子嘉明宇欣天心一文"

WORK_UNITS_CITY = (
    "诸暨市水务集团",
    "诸暨市人民医院",
    "诸暨市中医医院",
    "国网诸暨市供电公司",
    "诸暨市公交公司",
    "诸暨市环卫所",
    "诸暨市燃气公司",
    "诸暨市邮政分公司",
    "诸暨市城市管理局",
    "诸暨市第一中学",
    "诸暨市实验小学",
    "诸暨高铁站",
)
WORK_UNITS_LOCAL = (
    ("大唐街道", "袜业企业"),
    ("大唐街道", "袜机配件厂"),
    ("店口镇", "五金企业"),
    ("店口镇", "铜材加工企业"),
    ("山下湖镇", "珍珠市场"),
    ("山下湖镇", "珍珠加工企业"),
    ("枫桥镇", "香榧合作社"),
    ("次坞镇", "纺织企业"),
    ("牌头镇", "机械企业"),
)
WORK_UNIT_PATTERNS = (
    "中学",
    "小学",
    "快递站点",
    "卫生院",
    "农贸市场",
    "社区",
    "物流园",
    "建筑工地",
)

QUALIFICATIONS = {
    CounsellorKind.EXPERT: (
        "国家二级心理咨询师；精神科主治医师",
        "国家二级心理咨询师；高校心理学副教授",
        "注册心理师（中国心理学会）；国家二级心理咨询师",
        "国家二级心理咨询师；婚姻家庭咨询师",
    ),
    CounsellorKind.REGULATOR: (
        "国家三级心理咨询师；情绪调节员培训结业",
        "心理健康指导员；情绪调节员培训结业",
        "心理健康指导员；社会工作师",
    ),
    CounsellorKind.MENTOR: (
        "心灵导师（EAP）培训结业",
        "心灵导师（EAP）培训结业；社会工作师",
        "心理健康指导员；企业工会干部",
    ),
}

CASE_TOPICS = (
    Topic.WORK_STRESS,
    Topic.EMOTION_REGULATION,
    Topic.INTERPERSONAL,
    Topic.MARRIAGE_FAMILY,
    Topic.PARENT_CHILD,
    Topic.CAREER,
    Topic.PHYSICAL_HEALTH,
    Topic.OTHER,
)
CASE_TOPIC_WEIGHTS = (30, 20, 15, 12, 10, 6, 5, 2)
LECTURE_TITLES = {
    Topic.WORK_STRESS: ("职场压力与情绪调节", "告别职业倦怠：给自己充电", "高效工作与身心平衡"),
    Topic.EMOTION_REGULATION: ("认识情绪，管理情绪", "正念减压入门", "情绪急救：识别与应对"),
    Topic.INTERPERSONAL: ("人际沟通的艺术", "职场沟通与冲突化解"),
    Topic.PARENT_CHILD: ("亲子沟通工作坊", "陪伴孩子度过青春期"),
    Topic.MARRIAGE_FAMILY: ("婚姻家庭关系讲座", "家庭和谐从倾听开始"),
    Topic.CAREER: ("职业生涯规划与心理调适",),
}
LECTURE_TOPICS = (
    Topic.WORK_STRESS,
    Topic.EMOTION_REGULATION,
    Topic.INTERPERSONAL,
    Topic.PARENT_CHILD,
    Topic.MARRIAGE_FAMILY,
    Topic.CAREER,
)
# 1 to 8 weekly sessions; three is the common course (the Zhuji water-bureau example).
SESSION_COUNTS = (1, 2, 3, 4, 5, 6, 7, 8)
SESSION_COUNT_WEIGHTS = (12, 18, 30, 14, 9, 7, 5, 5)
MEAN_SESSIONS = 3.3  # after truncation at the window's end
COUNSELLING_UTILISATION = 0.55  # of the counsellors' bookable slots, at most
POD_UTILISATION = 0.3

ANONYMOUS_INSTRUMENTS = ("phq9", "gad7", "who5", "pss10", "k10")
ANONYMOUS_WEIGHTS = (30, 25, 15, 20, 10)
EXTRA_INSTRUMENTS = ("who5", "pss10", "k10")


# --------------------------------------------------------------------------- public values


@dataclass(frozen=True)
class DemoAccount:
    """A sign-in the demo creates, with its plain password so a tester can use it."""

    username: str
    password: str
    role: Role
    display_name: str
    counsellor_kind: CounsellorKind | None = None
    station_id: int | None = None


@dataclass(frozen=True)
class DemoSummary:
    """What `generate_demo` wrote: rows per table, the date window, and the demo sign-ins."""

    today: date
    first_day: date
    last_day: date  # inclusive
    stations: int
    station_hours: int
    rooms: int
    users: int
    user_roles: int
    user_stations: int
    counsellor_profiles: int
    counsellor_hours: int
    clients: int
    cases: int
    case_topics: int
    appointments: int
    assessments: int
    lecture_registrations: int
    waitlist_entries: int
    accounts: tuple[DemoAccount, ...]
    consents: int = 0
    client_keys: int = 0
    notes: int = 0
    crisis_flags: int = 0
    crisis_followups: int = 0
    campaigns: int = 0
    campaign_codes: int = 0

    def table_counts(self) -> dict[str, int]:
        """Rows written per table, keyed by table name, in foreign-key order."""
        return {
            "station": self.stations,
            "station_hours": self.station_hours,
            "room": self.rooms,
            "user_account": self.users,
            "user_role": self.user_roles,
            "user_station": self.user_stations,
            "counsellor_profile": self.counsellor_profiles,
            "counsellor_hours": self.counsellor_hours,
            "client": self.clients,
            "care_case": self.cases,
            "case_topic": self.case_topics,
            "appointment": self.appointments,
            "lecture_registration": self.lecture_registrations,
            "waitlist_entry": self.waitlist_entries,
            "campaign": self.campaigns,
            "campaign_code": self.campaign_codes,
            "assessment": self.assessments,
            "consent": self.consents,
            "client_key": self.client_keys,
            "session_note": self.notes,
            "crisis_flag": self.crisis_flags,
            "crisis_followup": self.crisis_followups,
        }

    @property
    def total_rows(self) -> int:
        return sum(self.table_counts().values())


Progress = Callable[[str, float], None]


def generate_demo(
    engine: Engine,
    *,
    stations: int = 10,
    clients: int = 2000,
    months: int = 12,
    seed: int = 1,
    today: date | None = None,
    progress: Progress | None = None,
) -> DemoSummary:
    """Fill an empty, migrated database with demo data; the same seed and `today` give the same rows.

    Raises Conflict when the database already holds users, stations or clients: demo data must
    never be mixed into real records. Everything is written in one transaction.
    """
    if stations < 1:
        raise ValueError("stations must be at least 1")
    if clients < 0:
        raise ValueError("clients must not be negative")
    if months < 1:
        raise ValueError("months must be at least 1")
    if today is None:
        today = datetime.now(ZoneInfo(ZONE)).date()
    database = Database(engine)
    with database.write() as session:
        conn = session.connection()
        _refuse_non_empty(conn)
        generator = _Generator(
            conn,
            stations=stations,
            clients=clients,
            months=months,
            seed=seed,
            today=today,
            progress=progress,
        )
        summary = generator.run()
        consents, client_keys, notes, flags, followups = _records_set_up(conn, seed)
        summary = replace(
            summary,
            consents=consents,
            client_keys=client_keys,
            notes=notes,
            crisis_flags=flags,
            crisis_followups=followups,
        )
        if conn.dialect.name == "postgresql":
            _reset_sequences(conn)
    if progress is not None:
        progress("done", 1.0)
    return summary


DEMO_CONSENT_VERSION = "2026-11"


def _records_set_up(conn: Connection, seed: int) -> tuple[int, int, int, int, int]:
    """What confidential records need in a demo: the protection key (kept in the database in the
    clear, which only a demo may do: its people are invented), a supervisor per station (an
    expert who works there), and the consents of everyone who was counselled or assessed."""
    kek = hashlib.sha256(f"carestation demo key {seed}".encode()).digest()
    conn.execute(
        insert(Meta.__table__),
        [
            {"key": "kek_check", "value": check_value(kek)},
            {"key": "demo_kek", "value": base64.b64encode(kek).decode()},
        ],
    )
    conn.execute(
        text(
            "UPDATE station SET supervisor_id = (SELECT MIN(p.user_id) FROM counsellor_profile p "
            "JOIN counsellor_hours h ON h.counsellor_id = p.user_id "
            "WHERE p.kind = 'expert' AND h.station_id = station.id)"
        )
    )
    sources = {
        "counselling": "SELECT client_id, MIN(station_id) AS s, MIN(opened_at) AS g "
        "FROM care_case GROUP BY client_id",
        "assessment": "SELECT client_id, MIN(station_id) AS s, MIN(taken_at) AS g "
        "FROM assessment WHERE client_id IS NOT NULL GROUP BY client_id",
        # Most people who filled in questionnaires in a case also agreed to a printed report.
        "report_printing": "SELECT client_id, MIN(station_id) AS s, MIN(taken_at) AS g "
        "FROM assessment WHERE client_id IS NOT NULL AND case_id IS NOT NULL "
        "AND client_id % 5 <> 0 GROUP BY client_id",
    }
    consents = 0
    for purpose, source in sources.items():
        consents += conn.execute(
            text(
                "INSERT INTO consent (client_id, purpose, wording_version, language, station_id, "
                "given_at, taken_by) SELECT client_id, :purpose, :version, 'zh_CN', s, g, "
                "(SELECT MIN(us.user_id) FROM user_station us JOIN user_role r "
                "ON r.user_id = us.user_id AND r.role = 'staff' WHERE us.station_id = c.s) "
                f"FROM ({source}) c"
            ),
            {"purpose": purpose, "version": DEMO_CONSENT_VERSION},
        ).rowcount
    client_keys, notes, flags, followups = _demo_notes(conn, kek, random.Random(seed))
    return consents, client_keys, notes, flags, followups


DEMO_NOTE_LIMIT = 2000
_SUBJECTIVE = (
    "来访者诉近期工作任务重，经常加班，入睡困难。",
    "来访者表示与同事沟通不畅，感到委屈和孤立。",
    "来访者谈到孩子升学压力，家庭气氛紧张。",
    "来访者说最近情绪起伏大，容易烦躁。",
    "来访者反馈上周练习呼吸放松后睡眠有所改善。",
)
_OBJECTIVE = (
    "衣着整洁，表达清晰，情绪略显低落。",
    "谈及工作时语速加快，双手紧握。",
    "交谈中多次叹气，眼神接触尚可。",
    "情绪平稳，能主动反思。",
)
_ASSESSMENT = (
    "工作压力相关的焦虑情绪，社会支持尚可。",
    "人际冲突引发的适应性情绪困扰。",
    "情绪调节能力有提升，仍需巩固。",
)
_PLAN = (
    "布置每日呼吸放松练习，两周后复评GAD-7。",
    "下次会谈练习沟通表达技巧。",
    "建议预约情绪舱放松体验，继续每周一次咨询。",
    "维持目前计划，下次回顾睡眠日记。",
)


def _demo_notes(conn: Connection, kek: bytes, rng: random.Random) -> tuple[int, int, int, int]:
    """Signed SOAP notes for the most recent completed sessions, so a demo counsellor sees
    real, encrypted notes. Written like the note service writes them: a data key
    per client, wrapped by the key; each body bound to its row."""
    import json

    from carestation.security.crypto import encrypt, wrap

    rows = conn.execute(
        text(
            "SELECT a.id, a.case_id, a.client_id, a.counsellor_id, a.ends_at, p.kind, s.supervisor_id "
            "FROM appointment a JOIN counsellor_profile p ON p.user_id = a.counsellor_id "
            "JOIN station s ON s.id = a.station_id "
            "WHERE a.status = 'completed' AND a.case_id IS NOT NULL "
            "ORDER BY a.ends_at DESC, a.id LIMIT :limit"
        ),
        {"limit": DEMO_NOTE_LIMIT},
    ).all()
    keys: dict[int, bytes] = {}
    notes: list[dict[str, Any]] = []
    for note_id, (appt, case_id, client, counsellor, ends_at, kind, supervisor) in enumerate(
        rows, start=1
    ):
        if client not in keys:
            # From the seed, so the same seed gives the same rows; a real key is random.
            keys[client] = rng.randbytes(32)
        ends = ends_at if isinstance(ends_at, datetime) else datetime.fromisoformat(str(ends_at))
        ends = ends.replace(tzinfo=UTC) if ends.tzinfo is None else ends
        signed = ends + timedelta(minutes=rng.randint(10, 90))
        body = json.dumps(
            {
                "subjective": rng.choice(_SUBJECTIVE),
                "objective": rng.choice(_OBJECTIVE),
                "assessment": rng.choice(_ASSESSMENT),
                "plan": rng.choice(_PLAN),
            },
            ensure_ascii=False,
        )
        needs_cosign = kind != CounsellorKind.EXPERT and supervisor is not None
        notes.append(
            {
                "id": note_id,
                "appointment_id": appt,
                "case_id": case_id,
                "author_id": counsellor,
                "template": "soap",
                "body_ciphertext": encrypt(
                    keys[client],
                    body,
                    table="session_note",
                    column="body",
                    row_id=note_id,
                    key_version=1,
                ),
                "key_version": 1,
                "signed_at": signed,
                "created_at": ends,
                "updated_at": signed,
                "status": "final",
                "cosigner_id": supervisor if needs_cosign else None,
                "cosigned_at": signed + timedelta(hours=20) if needs_cosign else None,
                "version": 1,
            }
        )
    if not notes:
        return 0, 0, 0, 0
    now = max(n["updated_at"] for n in notes)
    conn.execute(
        insert(Base.metadata.tables["client_key"]),
        [
            {"client_id": c, "version": 1, "wrapped_key": wrap(kek, k), "created_at": now}
            for c, k in keys.items()
        ],
    )
    conn.execute(insert(Base.metadata.tables["session_note"]), notes)
    flags, followups = _demo_flags(conn, keys, rng, now)
    return len(keys), len(notes), flags, followups


_FLAG_REASONS = (
    "会谈中多次提到“活着没意思”，PHQ-9第9题得分2。",
    "近期家庭变故，情绪崩溃，表示不想回家。",
)


def _demo_flags(
    conn: Connection, keys: dict[int, bytes], rng: random.Random, now: datetime
) -> tuple[int, int]:
    """Two open crisis flags at station 1 (on its riskiest open cases whose client already has
    a data key), with their follow-ups: the first recorded, the others due or overdue."""
    from carestation.security.crypto import encrypt

    cases = conn.execute(
        text(
            "SELECT id, client_id, counsellor_id FROM care_case WHERE station_id = 1 "
            "AND status = 'open' "
            "ORDER BY CASE risk_level WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, id"
        )
    ).all()
    flag_id = follow_id = 0
    for case_id, client, counsellor in cases:
        if client not in keys or flag_id == len(_FLAG_REASONS):
            continue
        flag_id += 1
        raised = now - timedelta(days=2 + 2 * flag_id, hours=rng.randint(0, 5))
        reason = encrypt(
            keys[client],
            _FLAG_REASONS[flag_id - 1],
            table="crisis_flag",
            column="reason",
            row_id=flag_id,
            key_version=1,
        )
        conn.execute(
            insert(Base.metadata.tables["crisis_flag"]),
            [
                {
                    "id": flag_id,
                    "client_id": client,
                    "case_id": case_id,
                    "station_id": 1,
                    "source": "counsellor",
                    "raised_at": raised,
                    "raised_by": counsellor,
                    "reason_ciphertext": reason,
                    "key_version": 1,
                    "actions": [],
                }
            ],
        )
        for hours in (24, 72, 168):
            follow_id += 1
            done = hours == 24
            conn.execute(
                insert(Base.metadata.tables["crisis_followup"]),
                [
                    {
                        "id": follow_id,
                        "flag_id": flag_id,
                        "due_at": raised + timedelta(hours=hours),
                        "done_at": raised + timedelta(hours=hours - 2) if done else None,
                        "note_ciphertext": encrypt(
                            keys[client],
                            "电话回访，情绪较前平稳，约定下次会谈。",
                            table="crisis_followup",
                            column="note",
                            row_id=follow_id,
                            key_version=1,
                        )
                        if done
                        else None,
                        "key_version": 1 if done else None,
                    }
                ],
            )
    return _demo_past_flags(conn, keys, rng, now, flag_id, follow_id)


_CLEARED_ACTIONS = (
    (["contacted_expert", "safety_plan"], "当天由专家咨询师评估，与服务对象共同制定安全计划。"),
    (["stayed_with_person", "informed_contact"], "全程陪伴，经同意通知家属接回，次日电话回访。"),
    (["called_hotline", "safety_plan"], "协助拨打12356心理援助热线，制定安全计划并约定复诊。"),
)


def _demo_past_flags(
    conn: Connection,
    keys: dict[int, bytes],
    rng: random.Random,
    now: datetime,
    flag_id: int,
    follow_id: int,
) -> tuple[int, int]:
    """Cleared crisis flags in the past: on about half the closed high-risk cases (client with a
    data key), raised early in the case and cleared a week later with every follow-up done, so
    that the summary report has flags raised and closed month by month."""
    from carestation.security.crypto import encrypt

    rng = _copy(rng)  # leaves the generator where it was: the rest of the demo stays the same
    case = Base.metadata.tables["care_case"].c
    cases = conn.execute(
        select(case.id, case.client_id, case.counsellor_id, case.station_id, case.opened_at)
        .where(case.status == "closed", case.risk_level == "high")
        .order_by(case.id)
    ).all()
    for case_id, client, counsellor, station_id, opened_at in cases:
        if client not in keys or rng.random() < 0.5:
            continue
        raised = opened_at + timedelta(days=rng.randint(0, 3), hours=rng.randint(1, 6))
        cleared = raised + timedelta(days=7, hours=rng.randint(1, 30))
        if cleared >= now:
            continue
        flag_id += 1
        actions, what = _CLEARED_ACTIONS[rng.randrange(len(_CLEARED_ACTIONS))]

        def sealed(
            value: str, table: str, column: str, row_id: int, key: bytes = keys[client]
        ) -> bytes:
            return encrypt(key, value, table=table, column=column, row_id=row_id, key_version=1)

        conn.execute(
            insert(Base.metadata.tables["crisis_flag"]),
            [
                {
                    "id": flag_id,
                    "client_id": client,
                    "case_id": case_id,
                    "station_id": station_id,
                    "source": "counsellor",
                    "raised_at": raised,
                    "raised_by": counsellor,
                    "reason_ciphertext": sealed(
                        _FLAG_REASONS[flag_id % len(_FLAG_REASONS)],
                        "crisis_flag",
                        "reason",
                        flag_id,
                    ),
                    "key_version": 1,
                    "cleared_at": cleared,
                    "cleared_by": counsellor,
                    "actions": actions,
                    "actions_ciphertext": sealed(what, "crisis_flag", "actions", flag_id),
                }
            ],
        )
        rows = []
        for hours in (24, 72, 168):
            follow_id += 1
            rows.append(
                {
                    "id": follow_id,
                    "flag_id": flag_id,
                    "due_at": raised + timedelta(hours=hours),
                    "done_at": raised + timedelta(hours=hours - 2),
                    "note_ciphertext": sealed(
                        "电话回访，情绪较前平稳。", "crisis_followup", "note", follow_id
                    ),
                    "key_version": 1,
                }
            )
        conn.execute(insert(Base.metadata.tables["crisis_followup"]), rows)
    return flag_id, follow_id


def _copy(rng: random.Random) -> random.Random:
    copy = random.Random()
    copy.setstate(rng.getstate())
    return copy


def _refuse_non_empty(conn: Connection) -> None:
    for table in (UserAccount.__table__, Station.__table__, Client.__table__):
        if conn.execute(select(table.c.id).limit(1)).first() is not None:
            raise Conflict(
                _(
                    "Demo data can only be written to an empty database, and this one already "
                    "has users, stations or clients. Nothing was changed; choose a new file."
                )
            )


def _reset_sequences(conn: Connection) -> None:
    # Explicit ids bypass the sequences; without this the next real insert would collide.
    for table in _TABLES_WITH_ID:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        )


# --------------------------------------------------------------------------- internals


class _Writer:
    """Buffers rows per table and writes them with executemany, parents before children."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        tables = Base.metadata.tables
        self.statements = {name: insert(tables[name]) for name in TABLE_ORDER}
        self.buffers: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLE_ORDER}
        self.counts = dict.fromkeys(TABLE_ORDER, 0)
        self.pending = 0

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.buffers[table].append(row)
        self.pending += 1
        if self.pending >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        for name in TABLE_ORDER:
            rows = self.buffers[name]
            if rows:
                self.conn.execute(self.statements[name], rows)
                self.counts[name] += len(rows)
                self.buffers[name] = []
        self.pending = 0


@dataclass
class _StationPlan:
    id: int
    town: str
    tz: ZoneInfo
    periods: dict[int, list[tuple[int, int]]]  # weekday -> opening periods in minutes
    pod_starts: dict[int, list[int]]
    counselling_rooms: list[int]
    relief_room: int
    pods: list[int]
    group_room: int
    staff_id: int = 0
    weight: float = 1.0


@dataclass
class _CounsellorPlan:
    id: int
    kind: CounsellorKind
    home: int  # station id
    # (station id, weekday) -> periods the counsellor works there
    hours: dict[tuple[int, int], list[tuple[int, int]]]


def _mask(start: int, end: int) -> int:
    return ((1 << ((end - start) // UNIT)) - 1) << (start // UNIT)


def _fits(periods: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    return any(opens <= start and end <= closes for opens, closes in periods)


def _clip(periods: Sequence[tuple[int, int]], part: str) -> list[tuple[int, int]]:
    """A counsellor's share of a day: the whole opening, or only the morning or afternoon."""
    if part == "am":
        clipped = [(s, min(e, NOON)) for s, e in periods if s < NOON]
    elif part == "pm":
        clipped = [(max(s, AFTERNOON), e) for s, e in periods if e > AFTERNOON]
    else:
        clipped = list(periods)
    return [(s, e) for s, e in clipped if e - s >= 60]


def _minutes_to_time(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")


class _Generator:
    def __init__(
        self,
        conn: Connection,
        *,
        stations: int,
        clients: int,
        months: int,
        seed: int,
        today: date,
        progress: Progress | None,
    ) -> None:
        self.rng = random.Random(seed)
        self.writer = _Writer(conn)
        self.n_stations = stations
        self.n_clients = clients
        self.progress_cb = progress
        self.today = today
        self.window_end = today + timedelta(days=FUTURE_DAYS)  # exclusive
        self.window_start = _add_months(self.window_end, -months)
        self.n_days = (self.window_end - self.window_start).days
        self.today_idx = (today - self.window_start).days
        self.zone = ZoneInfo(ZONE)
        # "Now" for the demo is noon today: earlier sessions today have happened, later ones not.
        self.now = datetime.combine(today, time(12, 0), self.zone)
        self.start_weekday = self.window_start.weekday()

        self.stations: list[_StationPlan] = []
        self.counsellors: list[_CounsellorPlan] = []
        self.accounts: list[DemoAccount] = []
        # (station id, weekday) -> [(counsellor id, periods, 50-minute slot starts)]
        self.station_work: dict[tuple[int, int], list[tuple[int, list[tuple[int, int]], list[int]]]]
        self.station_work = {}
        self.kind_of: dict[int, CounsellorKind] = {}
        self._surname_cum = _cumulative(SURNAME_WEIGHTS)
        self._station_cum: list[float] = []
        self.client_created: list[datetime] = [self.now]  # index = client id; 0 unused

        self.busy_counsellor: dict[int, int] = {}
        self.busy_room: dict[int, int] = {}
        self.busy_client: dict[int, int] = {}
        self.next_id = dict.fromkeys(_TABLES_WITH_ID, 1)
        self.group_capacity: dict[int, int] = {}
        self.midnights: dict[tuple[int, int], datetime] = {}
        self.tz_keys: dict[ZoneInfo, int] = {}
        self.score_cache: dict[tuple[str, tuple[int, ...]], tuple[str, int, str]] = {}
        self.instruments = {
            code: load_instrument(code) for code in (*ANONYMOUS_INSTRUMENTS, "mood")
        }
        self.p_case = 0.6
        self.pod_factor = 1.0
        self._last_reported = -1.0
        self._last_stage = ""

    # ----------------------------------------------------------------- helpers

    def _id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def _progress(self, stage: str, fraction: float) -> None:
        """Reports a new stage at once, and within a stage every percent of the whole run."""
        if self.progress_cb is None:
            return
        if stage != self._last_stage or fraction - self._last_reported >= 0.01:
            self._last_stage = stage
            self._last_reported = fraction
            self.progress_cb(stage, min(fraction, 1.0))

    def _weekday(self, day: int) -> int:
        return (self.start_weekday + day) % 7

    def _at(self, tz: ZoneInfo, day: int, minute: int) -> datetime:
        """Local wall time `minute` after midnight on window day `day`, as an aware datetime."""
        key = self.tz_keys.setdefault(tz, len(self.tz_keys))
        midnight = self.midnights.get((key, day))
        if midnight is None:
            d = self.window_start + timedelta(days=day)
            midnight = datetime(d.year, d.month, d.day, tzinfo=tz)
            self.midnights[(key, day)] = midnight
        return midnight + timedelta(minutes=minute)

    def _name(self, gender: str) -> str:
        rng = self.rng
        surname = rng.choices(SURNAMES, cum_weights=self._surname_cum)[0]
        pool = FEMALE_CHARS if gender == Gender.FEMALE else MALE_CHARS
        if rng.random() < 0.25:
            return surname + rng.choice(pool)
        first = rng.choice(SHARED_CHARS) if rng.random() < 0.3 else rng.choice(pool)
        second = rng.choice(pool)
        while second == first:
            second = rng.choice(pool)
        return surname + first + second

    def _unique_name(self, gender: str, used: set[str]) -> str:
        name = self._name(gender)
        while name in used:
            name = self._name(gender)
        used.add(name)
        return name

    def _score(self, code: str, answers: list[int]) -> tuple[str, int, str]:
        key = (code, tuple(answers))
        cached = self.score_cache.get(key)
        if cached is None:
            result = score(code, answers)
            cached = (result.version, result.total, result.band)
            self.score_cache[key] = cached
        return cached

    def _answers(self, code: str, distress: float) -> list[int]:
        """Raw answer codes for someone at `distress` (0 calm .. 1 severe), with item noise."""
        instrument = self.instruments[code]
        low, high = instrument.min_code, instrument.max_code
        span = high - low
        level = 1.0 - distress if instrument.higher_is_better else distress
        spread = 1.1 if span <= 5 else 1.8
        random_ = self.rng.random
        answers = []
        for item in instrument.items:
            value = level * span + (random_() + random_() - 1.0) * spread
            if item.reverse:
                value = span - value
            answers.append(low + min(span, max(0, round(value))))
        return answers

    # ----------------------------------------------------------------- the run

    def run(self) -> DemoSummary:
        self._progress("stations", 0.0)
        self._make_stations()
        self._progress("users", 0.01)
        self._make_users()
        self._plan_capacity()
        self._progress("clients", 0.05)
        cases, pods = self._make_clients()
        self._make_lectures()
        self._make_cases(cases)
        self._make_pods(pods)
        self._make_anonymous_assessments()
        self._make_campaigns()
        self._make_waitlists()
        self.writer.flush()
        counts = self.writer.counts
        return DemoSummary(
            today=self.today,
            first_day=self.window_start,
            last_day=self.window_end - timedelta(days=1),
            stations=counts["station"],
            station_hours=counts["station_hours"],
            rooms=counts["room"],
            users=counts["user_account"],
            user_roles=counts["user_role"],
            user_stations=counts["user_station"],
            counsellor_profiles=counts["counsellor_profile"],
            counsellor_hours=counts["counsellor_hours"],
            clients=counts["client"],
            cases=counts["care_case"],
            case_topics=counts["case_topic"],
            appointments=counts["appointment"],
            assessments=counts["assessment"],
            lecture_registrations=counts["lecture_registration"],
            waitlist_entries=counts["waitlist_entry"],
            campaigns=counts["campaign"],
            campaign_codes=counts["campaign_code"],
            accounts=tuple(self.accounts),
        )

    # ----------------------------------------------------------------- stations and rooms

    def _station_names(self) -> list[tuple[str, str]]:
        names = [(f"诸暨市总工会职工情绪管理服务站（{town}）", town) for town in TOWNS]
        for site in SITES:
            names += [(f"{town}{site}职工情绪管理服务站", town) for town in TOWNS]
        base = len(names)
        for i in range(base, self.n_stations):
            town = TOWNS[i % len(TOWNS)]
            names.append((f"诸暨市总工会职工情绪管理服务站（{town}第{i - base + 2}站点）", town))
        return names[: self.n_stations]

    def _address(self, town: str) -> str:
        rng = self.rng
        if town.endswith("街道"):
            road = rng.choice(CITY_ROADS)
        else:
            road = town[:-1] + rng.choice(ROAD_SUFFIXES)
        return f"浙江省诸暨市{town}{road}{rng.randint(1, 399)}号{rng.choice(BUILDINGS)}"

    def _make_stations(self) -> None:
        rng = self.rng
        created = self._at(self.zone, -60, 9 * 60)
        add = self.writer.add
        for station_id, (name, town) in enumerate(self._station_names(), start=1):
            # Most keep office hours; some close over lunch, some open on Saturday morning too.
            split = station_id != 1 and rng.random() < 0.2
            saturday = station_id == 1 or rng.random() < 0.3
            weekday_periods = [(510, 690), (810, 1020)] if split else [(510, 1020)]
            periods = {wd: list(weekday_periods) for wd in range(5)}
            if saturday:
                periods[5] = [(510, 720)]
            add(
                "station",
                {
                    "id": station_id,
                    "name": name,
                    "address": self._address(town),
                    "phone": f"0575-8{rng.randint(0, 9999999):07d}",
                    "time_zone": ZONE,
                    "active": True,
                    "created_at": created,
                },
            )
            for wd, day_periods in periods.items():
                for opens, closes in day_periods:
                    add(
                        "station_hours",
                        {
                            "id": self._id("station_hours"),
                            "station_id": station_id,
                            "weekday": wd,
                            "opens": _minutes_to_time(opens),
                            "closes": _minutes_to_time(closes),
                        },
                    )
            rooms: dict[str, list[int]] = {}
            room_specs = [
                ("个人咨询室一", RoomKind.COUNSELLING_ROOM, 3),
                ("个人咨询室二", RoomKind.COUNSELLING_ROOM, 3),
                ("情绪疏导区", RoomKind.RELIEF_AREA, 6),
                ("情绪调节舱1", RoomKind.EMOTION_POD, 1),
            ]
            if rng.random() < 0.5:
                room_specs.append(("情绪调节舱2", RoomKind.EMOTION_POD, 1))
            room_specs.append(("团体活动室", RoomKind.GROUP_ROOM, rng.choice((20, 24, 30, 36, 40))))
            for room_name, kind, capacity in room_specs:
                room_id = self._id("room")
                rooms.setdefault(kind, []).append(room_id)
                if kind is RoomKind.GROUP_ROOM:
                    self.group_capacity[station_id] = capacity
                add(
                    "room",
                    {
                        "id": room_id,
                        "station_id": station_id,
                        "name": room_name,
                        "kind": kind.value,
                        "capacity": capacity,
                        "active": True,
                    },
                )
            pod_starts = {
                wd: [
                    start
                    for opens, closes in day_periods
                    for start in range(opens, closes - POD_MINUTES + 1, 15)
                ]
                for wd, day_periods in periods.items()
            }
            self.stations.append(
                _StationPlan(
                    id=station_id,
                    town=town,
                    tz=self.zone,
                    periods=periods,
                    pod_starts=pod_starts,
                    counselling_rooms=rooms[RoomKind.COUNSELLING_ROOM],
                    relief_room=rooms[RoomKind.RELIEF_AREA][0],
                    pods=rooms[RoomKind.EMOTION_POD],
                    group_room=rooms[RoomKind.GROUP_ROOM][0],
                )
            )
        self.next_id["station"] = self.n_stations + 1

    # ----------------------------------------------------------------- users

    def _make_users(self) -> None:
        rng = self.rng
        hashes = {role: _hash(password) for role, password in PASSWORDS.items()}
        created = self._at(self.zone, -45, 9 * 60 + 30)
        used_names: set[str] = set()
        add = self.writer.add

        def user(username: str, display: str, role: Role, station_ids: Sequence[int]) -> int:
            user_id = self._id("user_account")
            add(
                "user_account",
                {
                    "id": user_id,
                    "username": username,
                    "display_name": display,
                    "password_hash": hashes[role],
                    "active": True,
                    "failed_attempts": 0,
                    "locked_until": None,
                    "last_sign_in_at": None,
                    "created_at": created,
                },
            )
            add("user_role", {"user_id": user_id, "role": role.value})
            for station_id in station_ids:
                add("user_station", {"user_id": user_id, "station_id": station_id})
            return user_id

        def gender() -> str:
            return Gender.FEMALE if rng.random() < 0.6 else Gender.MALE

        user("admin", "系统管理员", Role.ADMIN, ())
        self.accounts.append(DemoAccount("admin", PASSWORDS[Role.ADMIN], Role.ADMIN, "系统管理员"))
        manager_name = self._unique_name(gender(), used_names)
        user("manager", manager_name, Role.MANAGER, ())
        self.accounts.append(
            DemoAccount("manager", PASSWORDS[Role.MANAGER], Role.MANAGER, manager_name)
        )
        for station in self.stations:
            name = self._unique_name(gender(), used_names)
            username = f"staff{station.id:02d}"
            station.staff_id = user(username, name, Role.STAFF, (station.id,))
            if station.id == 1:
                self.accounts.append(
                    DemoAccount(
                        username, PASSWORDS[Role.STAFF], Role.STAFF, name, station_id=station.id
                    )
                )

        self._plan_counsellors()
        kinds_shown: set[CounsellorKind] = set()
        for number, plan in enumerate(self.counsellors, start=1):
            name = self._unique_name(gender(), used_names)
            username = f"c{number:03d}"
            station_ids = sorted({station_id for station_id, _wd in plan.hours})
            plan.id = user(username, name, Role.COUNSELLOR, station_ids)
            self.kind_of[plan.id] = plan.kind
            add(
                "counsellor_profile",
                {
                    "user_id": plan.id,
                    "kind": plan.kind.value,
                    "qualifications": rng.choice(QUALIFICATIONS[plan.kind]),
                    "languages": "普通话、诸暨话" if rng.random() < 0.7 else "普通话",
                },
            )
            for (station_id, wd), periods in sorted(plan.hours.items()):
                for starts, ends in periods:
                    add(
                        "counsellor_hours",
                        {
                            "id": self._id("counsellor_hours"),
                            "counsellor_id": plan.id,
                            "station_id": station_id,
                            "weekday": wd,
                            "starts": _minutes_to_time(starts),
                            "ends": _minutes_to_time(ends),
                        },
                    )
            # One demo sign-in per kind, preferring station 1 (c001 is its expert).
            if plan.kind not in kinds_shown and (plan.home == 1 or self.n_stations == 1):
                kinds_shown.add(plan.kind)
                self.accounts.append(
                    DemoAccount(
                        username,
                        PASSWORDS[Role.COUNSELLOR],
                        Role.COUNSELLOR,
                        name,
                        counsellor_kind=plan.kind,
                        station_id=plan.home,
                    )
                )

        for plan in self.counsellors:
            for (station_id, wd), periods in sorted(plan.hours.items()):
                slots = [t for t in SLOT_STARTS if _fits(periods, t, t + COUNSELLING_MINUTES)]
                self.station_work.setdefault((station_id, wd), []).append((plan.id, periods, slots))

    def _plan_counsellors(self) -> None:
        rng = self.rng
        kinds = (CounsellorKind.EXPERT, CounsellorKind.REGULATOR, CounsellorKind.MENTOR)
        kind_cum = _cumulative((30, 45, 25))
        weekdays = [0, 1, 2, 3, 4]
        by_station: dict[int, list[_CounsellorPlan]] = {}
        for station in self.stations:
            count = rng.choice((3, 3, 4, 4, 4))
            if station.id == 1:
                # Station 1 always has one of each kind, so every demo sign-in exists there.
                station_kinds = [CounsellorKind.EXPERT, CounsellorKind.REGULATOR]
                station_kinds.append(CounsellorKind.MENTOR)
            else:
                station_kinds = []
            while len(station_kinds) < count:
                station_kinds.append(rng.choices(kinds, cum_weights=kind_cum)[0])
            if CounsellorKind.REGULATOR not in station_kinds:
                station_kinds[-1] = CounsellorKind.REGULATOR
            for kind in station_kinds:
                plan = _CounsellorPlan(id=0, kind=kind, home=station.id, hours={})
                self._assign_days(plan, station, weekdays)
                self.counsellors.append(plan)
                by_station.setdefault(station.id, []).append(plan)

        # Every opening day needs someone on duty: give uncovered days to a free counsellor.
        for station in self.stations:
            for wd in sorted(station.periods):
                if any((station.id, wd) in plan.hours for plan in self.counsellors):
                    continue
                free = [
                    plan
                    for plan in by_station[station.id]
                    if not any(day == wd for _s, day in plan.hours)
                ]
                free.sort(key=lambda p: (p.kind != CounsellorKind.REGULATOR, len(p.hours)))
                if free:
                    free[0].hours[(station.id, wd)] = _clip(station.periods[wd], "full")

    def _assign_days(
        self, plan: _CounsellorPlan, station: _StationPlan, weekdays: list[int]
    ) -> None:
        rng = self.rng
        if plan.kind == CounsellorKind.REGULATOR:
            for wd in rng.sample(weekdays, 3):
                part = "full" if rng.random() < 0.75 else rng.choice(("am", "pm"))
                plan.hours[(station.id, wd)] = _clip(station.periods[wd], part)
        elif plan.kind == CounsellorKind.EXPERT:
            shared = self.n_stations > 1 and (plan.home == 1 or rng.random() < 0.35)
            if shared:
                # An expert who does Tuesday here and Thursday at the next station along.
                first, second = rng.sample(weekdays, 2)
                neighbour = self.stations[station.id % self.n_stations]
                plan.hours[(station.id, first)] = _clip(station.periods[first], "full")
                plan.hours[(neighbour.id, second)] = _clip(neighbour.periods[second], "full")
            else:
                for wd in rng.sample(weekdays, rng.choice((1, 2))):
                    part = rng.choice(("full", "full", "am", "pm"))
                    plan.hours[(station.id, wd)] = _clip(station.periods[wd], part)
        else:
            if 5 in station.periods and rng.random() < 0.5:
                plan.hours[(station.id, 5)] = _clip(station.periods[5], "am")
            else:
                wd = rng.choice(weekdays)
                part = rng.choice(("am", "pm", "full"))
                plan.hours[(station.id, wd)] = _clip(station.periods[wd], part)

    # ----------------------------------------------------------------- capacity

    def _weekday_counts(self) -> list[int]:
        counts = [0] * 7
        for day in range(self.n_days):
            counts[self._weekday(day)] += 1
        return counts

    def _plan_capacity(self) -> None:
        """Scale demand to what the counsellors and pods can take, so nothing is overbooked."""
        occurrences = self._weekday_counts()
        session_capacity = 0
        pod_capacity = 0
        for station in self.stations:
            station_sessions = 0
            for wd in range(7):
                work = self.station_work.get((station.id, wd), [])
                per_day = 0
                for start in SLOT_STARTS:
                    available = sum(1 for _c, _p, slots in work if start in slots)
                    # Two rooms, plus one counsellor who can take an online session.
                    per_day += min(available, len(station.counselling_rooms) + 1)
                station_sessions += per_day * occurrences[wd]
                pod_capacity += (
                    len(station.pod_starts.get(wd, ())) * len(station.pods) * (occurrences[wd])
                )
            session_capacity += station_sessions
            # Busier stations draw more clients, so demand follows capacity.
            station.weight = max(station_sessions, 1) * self.rng.uniform(0.8, 1.2)
            if station.id == 1:
                station.weight *= 1.4
        self._station_cum = _cumulative([s.weight for s in self.stations])
        wanted_cases = self.n_clients * 0.66
        max_cases = COUNSELLING_UTILISATION * session_capacity / MEAN_SESSIONS
        if wanted_cases > max_cases:
            self.p_case = 0.6 * max_cases / wanted_cases
        wanted_pods = self.n_clients * 2.0
        max_pods = POD_UTILISATION * pod_capacity
        if wanted_pods > max_pods:
            self.pod_factor = max_pods / wanted_pods

    def _pick_station(self, home: int) -> int:
        if self.n_stations > 1 and self.rng.random() < 0.12:
            return self.rng.choices(self.stations, cum_weights=self._station_cum)[0].id
        return home

    # ----------------------------------------------------------------- clients

    def _work_units(self) -> list[str]:
        towns = [s.town for s in self.stations] or list(TOWNS)
        units = list(WORK_UNITS_CITY)
        units += [town + kind for town, kind in WORK_UNITS_LOCAL]
        for town in dict.fromkeys(towns):
            units += [town + pattern for pattern in WORK_UNIT_PATTERNS]
        return units

    def _make_clients(
        self,
    ) -> tuple[list[tuple[int, int, int, str]], list[tuple[int, int, int]]]:
        """Writes the clients and returns what each will ask for: cases and pod visits by day."""
        rng = self.rng
        random_ = rng.random
        randint = rng.randint
        units = self._work_units()
        codes: set[str] = set()
        cases: list[tuple[int, int, int, str]] = []
        pods: list[tuple[int, int, int]] = []
        last_registration = max(1, self.today_idx)
        case_cap = min(self.n_days - 1, self.today_idx + 10)
        pod_cap = min(self.n_days - 1, self.today_idx + 5)
        station_cum = self._station_cum
        stations = self.stations
        add = self.writer.add
        for client_id in range(1, self.n_clients + 1):
            home = rng.choices(stations, cum_weights=station_cum)[0]
            roll = random_()
            gender = (
                Gender.FEMALE
                if roll < 0.53
                else Gender.MALE
                if roll < 0.985
                else Gender.UNSPECIFIED
            )
            code = new_client_code(rng)
            while code in codes:
                code = new_client_code(rng)
            codes.add(code)
            registered = randint(0, last_registration - 1)
            minute = randint(510, 990)
            created_at = self._at(home.tz, registered, minute)
            self.client_created.append(created_at)
            add(
                "client",
                {
                    "id": client_id,
                    "client_code": code,
                    "name": self._name(gender if gender != Gender.UNSPECIFIED else Gender.MALE),
                    "phone": f"1{rng.choice('3456789')}{randint(0, 999_999_999):09d}",
                    "work_unit": rng.choice(units),
                    "gender": gender.value,
                    "birth_year": round(rng.triangular(1962, 2004, 1985)),
                    "home_station_id": home.id,
                    "created_at": created_at,
                    "created_by": home.staff_id,
                },
            )
            has_case = False
            if random_() < self.p_case:
                desired = registered + randint(1, 14)
                if desired <= case_cap:
                    has_case = True
                    cases.append((desired, client_id, self._pick_station(home.id), _case_kind(rng)))
                    if random_() < 0.12:
                        again = desired + randint(60, 360)
                        if again <= case_cap:
                            cases.append(
                                (again, client_id, self._pick_station(home.id), _case_kind(rng))
                            )
            if random_() < (0.45 if has_case else 0.85) * self.pod_factor:
                day = registered + randint(1, 10)
                visits = 1
                while day <= pod_cap and visits <= 8:
                    pods.append((day, client_id, self._pick_station(home.id)))
                    if random_() < 0.45:
                        break
                    visits += 1
                    day += randint(3, 45)
            if client_id % 2000 == 0:
                self._progress("clients", 0.05 + 0.15 * client_id / self.n_clients)
        cases.sort()
        pods.sort()
        return cases, pods

    # ----------------------------------------------------------------- appointments

    def _status(self, kind: str, day: int, start: int) -> str:
        if day > self.today_idx or (day == self.today_idx and start >= NOON):
            return AppointmentStatus.BOOKED
        roll = self.rng.random()
        if day == self.today_idx:
            return AppointmentStatus.COMPLETED if roll < 0.5 else AppointmentStatus.CHECKED_IN
        if kind == AppointmentType.CRISIS:
            return AppointmentStatus.COMPLETED
        if kind == AppointmentType.LECTURE:
            return AppointmentStatus.COMPLETED if roll < 0.95 else AppointmentStatus.CANCELLED
        if roll < 0.79:
            return AppointmentStatus.COMPLETED
        if roll < 0.92:
            return AppointmentStatus.CANCELLED
        return AppointmentStatus.NO_SHOW

    def _appointment(
        self,
        *,
        station: _StationPlan,
        day: int,
        start: int,
        minutes: int,
        kind: str,
        client: int | None,
        counsellor: int | None,
        room: int | None,
        case_id: int | None = None,
        modality: str = Modality.IN_PERSON,
        topic: str | None = None,
        created_at: datetime,
    ) -> dict[str, Any]:
        """Builds one appointment row and, unless it is cancelled, marks everyone busy."""
        rng = self.rng
        end = start + minutes
        status = self._status(kind, day, start)
        if status != AppointmentStatus.CANCELLED:
            mask = _mask(start, end)
            if counsellor is not None:
                key = counsellor << 16 | day
                self.busy_counsellor[key] = self.busy_counsellor.get(key, 0) | mask
            if room is not None:
                key = room << 16 | day
                self.busy_room[key] = self.busy_room.get(key, 0) | mask
            if client is not None:
                key = client << 16 | day
                self.busy_client[key] = self.busy_client.get(key, 0) | mask
        starts_at = self._at(station.tz, day, start)
        ends_at = self._at(station.tz, day, end)
        if client is not None:
            created_at = max(created_at, self.client_created[client] + timedelta(minutes=5))
        if created_at >= self.now:
            created_at = self.now - timedelta(minutes=rng.randint(1, 120))
        updated_at: datetime | None = None
        updated_by: int | None = None
        if status == AppointmentStatus.COMPLETED:
            updated_at = min(ends_at + timedelta(minutes=rng.randint(1, 30)), self.now)
            updated_by = counsellor if counsellor is not None else station.staff_id
        elif status == AppointmentStatus.NO_SHOW:
            updated_at = starts_at + timedelta(minutes=15)
            updated_by = station.staff_id
        elif status == AppointmentStatus.CANCELLED:
            updated_at = created_at + (starts_at - created_at) * rng.random() ** 2  # mostly early
            updated_by = station.staff_id
        elif status == AppointmentStatus.CHECKED_IN:
            updated_at = max(starts_at - timedelta(minutes=rng.randint(0, 10)), created_at)
            updated_by = station.staff_id
        return {
            "id": self._id("appointment"),
            "station_id": station.id,
            "client_id": client,
            "counsellor_id": counsellor,
            "room_id": room,
            "case_id": case_id,
            "type": kind,
            "modality": modality,
            "status": status,
            "topic": topic,
            "starts_at": starts_at,
            "ends_at": ends_at,
            # Cancelled within a day of the start counts as late (the default rule).
            "late_cancel": status == AppointmentStatus.CANCELLED
            and updated_at is not None
            and starts_at - updated_at < timedelta(hours=24),
            "created_at": created_at,
            "created_by": station.staff_id,
            "updated_at": updated_at,
            "updated_by": updated_by,
            # executemany needs the same keys in every row; lectures fill these in.
            "title": "",
            "capacity": None,
        }

    def _booked_ahead(self, station: _StationPlan, day: int, low: int, high: int) -> datetime:
        """When a booking was made: `low`..`high` days before, during office hours."""
        lead = self.rng.randint(low, high)
        return self._at(station.tz, day - lead, self.rng.randint(510, 1000))

    def _free(self, busy: dict[int, int], who: int, day: int, mask: int) -> bool:
        return not busy.get(who << 16 | day, 0) & mask

    # ----------------------------------------------------------------- lectures

    def _make_lectures(self) -> None:
        rng = self.rng
        add = self.writer.add
        month_starts = []
        first = self.window_start.replace(day=1)
        while first < self.window_end:
            month_starts.append(first)
            first = _add_months(first, 1)
        for station in self.stations:
            for month in month_starts:
                lo = max(0, (month - self.window_start).days)
                hi = min(self.n_days, (_add_months(month, 1) - self.window_start).days)
                if hi <= lo:
                    continue
                wanted = rng.choice((1, 2, 2, 2, 3))
                for _attempt in range(wanted * 6):
                    if wanted == 0:
                        break
                    day = rng.randrange(lo, hi)
                    work = self.station_work.get((station.id, self._weekday(day)), [])
                    if not work:
                        continue
                    start = rng.choice(LECTURE_STARTS)
                    end = start + LECTURE_MINUTES
                    mask = _mask(start, end)
                    if not self._free(self.busy_room, station.group_room, day, mask):
                        continue
                    speakers = [c for c, periods, _slots in work if _fits(periods, start, end)]
                    speakers = [
                        c for c in speakers if self._free(self.busy_counsellor, c, day, mask)
                    ]
                    if not speakers:
                        continue
                    experts = [c for c in speakers if self.kind_of[c] == CounsellorKind.EXPERT]
                    speaker = rng.choice(experts or speakers)
                    topic = rng.choice(LECTURE_TOPICS)
                    row = self._appointment(
                        station=station,
                        day=day,
                        start=start,
                        minutes=LECTURE_MINUTES,
                        kind=AppointmentType.LECTURE,
                        client=None,
                        counsellor=speaker,
                        room=station.group_room,
                        topic=topic,
                        created_at=self._booked_ahead(station, day, 7, 30),
                    )
                    row["title"] = rng.choice(LECTURE_TITLES[topic])
                    row["capacity"] = min(self.group_capacity[station.id], rng.choice((20, 24, 30)))
                    add("appointment", row)
                    self._register_for(row)
                    wanted -= 1
        self._progress("lectures", 0.22)

    def _register_for(self, lecture: dict[str, Any]) -> None:
        """Registrations (and, for a full future lecture, a waitlist) with attendance afterwards."""
        if lecture["status"] == AppointmentStatus.CANCELLED:
            return
        rng = self.rng
        capacity = lecture["capacity"]
        past = lecture["status"] == AppointmentStatus.COMPLETED
        wanted = rng.randint(capacity // 2, capacity + (3 if not past else 0))
        chosen = rng.sample(range(1, self.n_clients + 1), min(wanted, self.n_clients))
        opened = lecture["created_at"]
        for place, client in enumerate(sorted(chosen)):
            # Somewhere between the lecture being announced (or the client registering with the
            # station) and the earlier of its start and now.
            earliest = max(opened, self.client_created[client])
            latest = min(lecture["starts_at"], self.now)
            if latest <= earliest:
                continue
            registered_at = earliest + (latest - earliest) * rng.random()
            waiting = place >= capacity
            self.writer.add(
                "lecture_registration",
                {
                    "appointment_id": lecture["id"],
                    "client_id": client,
                    "status": RegistrationStatus.WAITLISTED
                    if waiting
                    else RegistrationStatus.REGISTERED,
                    "attended": past and not waiting and rng.random() < 0.82,
                    "registered_at": registered_at,
                    "registered_by": lecture["created_by"],
                },
            )

    def _make_waitlists(self) -> None:
        """A few clients per station waiting for a counselling slot in the coming two weeks."""
        rng = self.rng
        for station in self.stations:
            for _entry in range(rng.randint(2, 4)):
                client = rng.randint(1, self.n_clients)
                created = max(
                    self.now - timedelta(days=rng.randint(1, 6)),
                    self.client_created[client] + timedelta(minutes=5),
                )
                if created >= self.now:
                    continue
                evening = rng.random() < 0.3
                self.writer.add(
                    "waitlist_entry",
                    {
                        "client_id": client,
                        "station_id": station.id,
                        "counsellor_id": None,
                        "type": AppointmentType.COUNSELLING,
                        "earliest": self.today,
                        "latest": self.today + timedelta(days=14),
                        "time_from": time(14, 0) if evening else time(8, 30),
                        "time_to": time(17, 0),
                        "note": rng.choice(("下班后方便", "希望尽快安排", "倾向女性咨询师", "")),
                        "status": WaitlistStatus.WAITING,
                        "created_at": created,
                        "created_by": station.staff_id,
                    },
                )

    # ----------------------------------------------------------------- cases

    def _find_first(
        self, station: _StationPlan, client: int, desired: int, kind: str
    ) -> tuple[int, int, int, int | None] | None:
        """The first free (day, start, counsellor, room) from `desired` on, within four weeks."""
        rng = self.rng
        minutes = CRISIS_MINUTES if kind == AppointmentType.CRISIS else COUNSELLING_MINUTES
        if kind == AppointmentType.CRISIS:
            rooms = [station.relief_room, *station.counselling_rooms]
        elif kind == AppointmentType.ONLINE:
            rooms = []
        else:
            rooms = station.counselling_rooms
        busy_c, busy_r, busy_cl = self.busy_counsellor, self.busy_room, self.busy_client
        for day in range(desired, min(desired + 28, self.n_days)):
            work = self.station_work.get((station.id, self._weekday(day)))
            if not work:
                continue
            order = list(range(len(work)))
            rng.shuffle(order)
            client_busy = busy_cl.get(client << 16 | day, 0)
            for index in order:
                counsellor, periods, slots = work[index]
                if not slots:
                    continue
                counsellor_busy = busy_c.get(counsellor << 16 | day, 0)
                offset = rng.randrange(len(slots))
                for i in range(len(slots)):
                    start = slots[(i + offset) % len(slots)]
                    if minutes != COUNSELLING_MINUTES and not _fits(
                        periods, start, start + minutes
                    ):
                        continue
                    mask = _mask(start, start + minutes)
                    if counsellor_busy & mask or client_busy & mask:
                        continue
                    if not rooms:
                        return day, start, counsellor, None
                    for room in rooms:
                        if not busy_r.get(room << 16 | day, 0) & mask:
                            return day, start, counsellor, room
        return None

    def _find_next(
        self,
        station: _StationPlan,
        client: int,
        counsellor: int,
        target: int,
        prefer: int,
        online: bool,
    ) -> tuple[int, int, int | None] | None:
        """A follow-up with the same counsellor about a week on: same time if free, else nearby."""
        busy_c, busy_r, busy_cl = self.busy_counsellor, self.busy_room, self.busy_client
        for day in range(target, min(target + 10, self.n_days)):
            work = self.station_work.get((station.id, self._weekday(day)))
            if not work:
                continue
            slots = next((s for c, _p, s in work if c == counsellor), None)
            if not slots:
                continue
            counsellor_busy = busy_c.get(counsellor << 16 | day, 0)
            client_busy = busy_cl.get(client << 16 | day, 0)
            ordered = sorted(slots, key=lambda s: abs(s - prefer))
            for start in ordered:
                mask = _mask(start, start + COUNSELLING_MINUTES)
                if counsellor_busy & mask or client_busy & mask:
                    continue
                if online:
                    return day, start, None
                for room in station.counselling_rooms:
                    if not busy_r.get(room << 16 | day, 0) & mask:
                        return day, start, room
        return None

    def _make_cases(self, requests: list[tuple[int, int, int, str]]) -> None:
        self._progress("cases", 0.22)
        total = max(1, len(requests))
        for done, (desired, client, station_id, kind) in enumerate(requests, start=1):
            self._make_case(self.stations[station_id - 1], client, desired, kind)
            if done % 500 == 0:
                self._progress("cases", 0.22 + 0.5 * done / total)

    def _make_case(self, station: _StationPlan, client: int, desired: int, kind: str) -> None:
        rng = self.rng
        first = self._find_first(station, client, desired, kind)
        if first is None:
            return  # the counsellors are fully booked; this client is not seen
        day, start, counsellor, room = first
        case_id = self._id("care_case")
        crisis = kind == AppointmentType.CRISIS
        online = kind == AppointmentType.ONLINE
        if crisis:
            topics = [Topic.CRISIS]
            if rng.random() < 0.6:
                topics.append(rng.choices(CASE_TOPICS, weights=CASE_TOPIC_WEIGHTS)[0])
            planned = 1 + rng.choice((0, 1, 2, 3, 4))
            risk = RiskLevel.HIGH
        else:
            topics = []
            for _pick in range(rng.choice((1, 1, 2, 2, 3))):
                topic = rng.choices(CASE_TOPICS, weights=CASE_TOPIC_WEIGHTS)[0]
                if topic not in topics:
                    topics.append(topic)
            planned = rng.choices(SESSION_COUNTS, weights=SESSION_COUNT_WEIGHTS)[0]
            roll = rng.random()
            risk = (
                RiskLevel.LOW
                if roll < 0.83
                else RiskLevel.MEDIUM
                if roll < 0.97
                else RiskLevel.HIGH
            )
        modality = rng.choice((Modality.PHONE, Modality.VIDEO, Modality.VIDEO)) if online else None

        sessions: list[dict[str, Any]] = []
        if crisis:
            created = self._at(station.tz, day, start - rng.randint(5, 30))
        else:
            created = self._booked_ahead(station, day, 1, 10)
        pod_before: dict[str, Any] | None = None
        for number in range(planned):
            if number > 0:
                found = self._find_next(station, client, counsellor, day + 7, start, online=online)
                if found is None:
                    break  # no room in the diary: the course ends early
                previous_end = sessions[-1]["ends_at"]
                day, start, room = found
                # The next session is booked at the end of the previous one, when that has happened.
                candidate = previous_end + timedelta(minutes=rng.randint(2, 15))
                created = candidate if candidate < self.now else sessions[-1]["created_at"]
            if crisis and number == 0:
                appt_kind, minutes, topic = AppointmentType.CRISIS, CRISIS_MINUTES, Topic.CRISIS
            else:
                appt_kind = AppointmentType.ONLINE if online else AppointmentType.COUNSELLING
                minutes = COUNSELLING_MINUTES
                topic = topics[0] if number == 0 else rng.choice(topics)
            sessions.append(
                self._appointment(
                    station=station,
                    day=day,
                    start=start,
                    minutes=minutes,
                    kind=appt_kind,
                    client=client,
                    counsellor=counsellor,
                    room=room,
                    case_id=case_id,
                    modality=modality or Modality.IN_PERSON,
                    topic=topic,
                    created_at=created,
                )
            )
            if number == 0 and not online and not crisis and rng.random() < 0.25:
                # Like the water-bureau example: the pod first, then the talk.
                pod_before = self._pod_before(station, client, day, start)

        last = sessions[-1]
        finished = day < self.today_idx - 3  # `day` is the last session's day
        statuses = [s["status"] for s in sessions]
        status, outcome, closed_at = CaseStatus.OPEN, None, None
        if finished:
            closed_at = last["ends_at"] + timedelta(
                days=rng.randint(0, 10), minutes=rng.randint(5, 90)
            )
            if closed_at < self.now:
                status = CaseStatus.CLOSED
                outcome = self._outcome(statuses, crisis)
            else:
                closed_at = None
        add = self.writer.add
        add(
            "care_case",
            {
                "id": case_id,
                "client_id": client,
                "station_id": station.id,
                "counsellor_id": counsellor,
                "status": status,
                "risk_level": risk,
                "outcome": outcome,
                "opened_at": sessions[0]["created_at"],
                "closed_at": closed_at,
            },
        )
        for topic in topics:
            add("case_topic", {"case_id": case_id, "topic": topic})
        for session in sessions:
            add("appointment", session)
        if pod_before is not None:
            add("appointment", pod_before)
            self._pod_moods(station, pod_before)
        self._case_assessments(station, case_id, client, counsellor, sessions, outcome, risk)

    def _outcome(self, statuses: list[str], crisis: bool) -> str:
        rng = self.rng
        # A course that ends in a missed session is mostly one the client gave up on.
        if (
            statuses[-1] in (AppointmentStatus.NO_SHOW, AppointmentStatus.CANCELLED)
            and rng.random() < 0.7
        ):
            return CaseOutcome.DROPPED_OUT
        if crisis and rng.random() < 0.4:
            return CaseOutcome.REFERRED
        return rng.choices(
            (
                CaseOutcome.IMPROVED,
                CaseOutcome.UNCHANGED,
                CaseOutcome.REFERRED,
                CaseOutcome.DROPPED_OUT,
            ),
            weights=(66, 22, 8, 4),
        )[0]

    def _case_assessments(
        self,
        station: _StationPlan,
        case_id: int,
        client: int,
        counsellor: int,
        sessions: list[dict[str, Any]],
        outcome: str | None,
        risk: str,
    ) -> None:
        rng = self.rng
        done = [s for s in sessions if s["status"] == AppointmentStatus.COMPLETED]
        if not done or rng.random() >= 0.88:
            return
        severity = min(0.95, max(0.05, rng.gauss(0.38, 0.15)))
        severity += {RiskLevel.MEDIUM: 0.12, RiskLevel.HIGH: 0.25}.get(RiskLevel(risk), 0.0)
        severity = min(severity, 0.95)
        extra = rng.choice(EXTRA_INSTRUMENTS) if rng.random() < 0.3 else None
        points = [(done[0], severity)]
        if outcome is not None and outcome != CaseOutcome.DROPPED_OUT and len(done) >= 2:
            factor = {
                CaseOutcome.IMPROVED: rng.uniform(0.3, 0.7),
                CaseOutcome.UNCHANGED: rng.uniform(0.85, 1.1),
                CaseOutcome.REFERRED: rng.uniform(0.9, 1.2),
            }[CaseOutcome(outcome)]
            points.append((done[-1], min(0.95, severity * factor)))
        counsellor_led = rng.random() < 0.75
        for session, distress in points:
            codes = ["phq9", "gad7"] + ([extra] if extra else [])
            for code in codes:
                self._assessment(
                    code,
                    distress,
                    station=station,
                    client=client,
                    case_id=case_id,
                    appointment_id=session["id"],
                    taken_at=session["starts_at"],
                    mode=AssessmentMode.COUNSELLOR if counsellor_led else AssessmentMode.KIOSK,
                    administered_by=counsellor if counsellor_led else None,
                )

    def _assessment(
        self,
        code: str,
        distress: float,
        *,
        station: _StationPlan,
        client: int | None,
        case_id: int | None,
        appointment_id: int | None,
        taken_at: datetime,
        mode: str,
        administered_by: int | None,
        phase: str | None = None,
        profile: tuple[str | None, str | None, str | None] = (None, None, None),
        campaign_id: int | None = None,
    ) -> None:
        answers = self._answers(code, distress)
        version, total, band = self._score(code, answers)
        extra = None
        if code in ("phq9", "gad7"):
            # The unscored "difficulty" question: more difficulty with more distress.
            level = min(3, max(0, round(distress * 3 + self.rng.uniform(-0.6, 0.6))))
            extra = {"10" if code == "phq9" else "8": level}
        age_band, gender, industry = profile
        self.writer.add(
            "assessment",
            {
                "id": self._id("assessment"),
                "client_id": client,
                "case_id": case_id,
                "appointment_id": appointment_id,
                "station_id": station.id,
                "instrument": code,
                "instrument_version": version,
                "answers": answers,
                "total": total,
                "band": band,
                "mode": mode,
                "taken_at": taken_at,
                "administered_by": administered_by,
                "extra_answers": extra,
                "language": "en" if self.rng.random() < 0.02 else "zh_CN",
                "phase": phase,
                "campaign_id": campaign_id,
                "age_band": age_band,
                "respondent_gender": gender,
                "industry": industry,
            },
        )

    # ----------------------------------------------------------------- pods

    def _pod_before(
        self, station: _StationPlan, client: int, day: int, session_start: int
    ) -> dict[str, Any] | None:
        start = session_start - 30
        wd = self._weekday(day)
        if start not in station.pod_starts.get(wd, ()):
            return None
        mask = _mask(start, start + POD_MINUTES)
        if not self._free(self.busy_client, client, day, mask):
            return None
        for pod in station.pods:
            if self._free(self.busy_room, pod, day, mask):
                return self._appointment(
                    station=station,
                    day=day,
                    start=start,
                    minutes=POD_MINUTES,
                    kind=AppointmentType.POD,
                    client=client,
                    counsellor=None,
                    room=pod,
                    created_at=self._booked_ahead(station, day, 1, 10),
                )
        return None

    def _make_pods(self, requests: list[tuple[int, int, int]]) -> None:
        self._progress("pods", 0.72)
        rng = self.rng
        busy_r, busy_cl = self.busy_room, self.busy_client
        total = max(1, len(requests))
        add = self.writer.add
        for done, (desired, client, station_id) in enumerate(requests, start=1):
            station = self.stations[station_id - 1]
            booking: tuple[int, int, int] | None = None
            for day in range(desired, min(desired + 7, self.n_days)):
                starts = station.pod_starts.get(self._weekday(day))
                if not starts:
                    continue
                client_busy = busy_cl.get(client << 16 | day, 0)
                for _attempt in range(6):
                    start = rng.choice(starts)
                    mask = _mask(start, start + POD_MINUTES)
                    if client_busy & mask:
                        continue
                    pod = next(
                        (p for p in station.pods if not busy_r.get(p << 16 | day, 0) & mask), None
                    )
                    if pod is not None:
                        booking = (day, start, pod)
                        break
                if booking is not None:
                    break
            if booking is None:
                continue
            day, start, pod = booking
            if rng.random() < 0.7:
                walk_in = self._at(station.tz, day, start - rng.randint(2, 40))
            else:
                walk_in = self._booked_ahead(station, day, 1, 5)
            row = self._appointment(
                station=station,
                day=day,
                start=start,
                minutes=POD_MINUTES,
                kind=AppointmentType.POD,
                client=client,
                counsellor=None,
                room=pod,
                created_at=walk_in,
            )
            add("appointment", row)
            self._pod_moods(station, row)
            if done % 2000 == 0:
                self._progress("pods", 0.72 + 0.23 * done / total)

    def _pod_moods(self, station: _StationPlan, row: dict[str, Any]) -> None:
        """Distress 0-10 on the station's screen before and after most completed pod sessions."""
        rng = self.rng
        if row["status"] != AppointmentStatus.COMPLETED or rng.random() >= 0.7:
            return
        before = rng.uniform(0.35, 0.8)
        after = before * rng.uniform(0.45, 0.9)
        for distress, taken_at, phase in (
            (before, row["starts_at"], PodPhase.BEFORE),
            (after, row["ends_at"], PodPhase.AFTER),
        ):
            self._assessment(
                "mood",
                distress,
                station=station,
                client=row["client_id"],
                case_id=None,
                appointment_id=row["id"],
                taken_at=taken_at,
                mode=AssessmentMode.KIOSK,
                administered_by=None,
                phase=phase,
            )

    # ----------------------------------------------------------------- anonymous walk-ins

    def _make_anonymous_assessments(self) -> None:
        self._progress("anonymous assessments", 0.95)
        rng = self.rng
        count = round(self.n_clients * 0.06)
        if self.today_idx < 1:
            return
        cum = _cumulative(ANONYMOUS_WEIGHTS)
        for _number in range(count):
            station = rng.choices(self.stations, cum_weights=self._station_cum)[0]
            for _attempt in range(10):
                day = rng.randrange(0, self.today_idx)
                periods = station.periods.get(self._weekday(day))
                if periods:
                    break
            else:
                continue
            self._assessment(
                rng.choices(ANONYMOUS_INSTRUMENTS, cum_weights=cum)[0],
                rng.uniform(0.1, 0.8),
                station=station,
                client=None,
                case_id=None,
                appointment_id=None,
                # The day only, as the app stores anonymous forms.
                taken_at=self._at(station.tz, day, 0),
                mode=AssessmentMode.ANONYMOUS,
                administered_by=None,
                profile=self._anonymous_profile(),
            )
        self._progress("writing", 0.98)

    # ----------------------------------------------------------------- screening campaigns

    def _make_campaigns(self) -> None:
        """About one screening campaign per station and year for a local employer, most codes
        used; the busiest station also has one running now, with codes still to hand out."""
        from carestation.domain import campaign_codes

        rng = self.rng
        units = self._work_units()
        now = datetime.combine(self.today, datetime.min.time(), tzinfo=UTC)
        for station in self.stations:
            first = rng.randrange(20, 200)
            starts = list(range(first, self.today_idx - 14, 365))
            if station.id == 1:
                starts.append(self.today_idx - 6)
            for start in starts:
                end = min(start + rng.randrange(14, 29), self.n_days - 1)
                current = end >= self.today_idx
                pair = rng.choice((("phq9", "gad7"), ("who5", "pss10"), ("phq9", "gad7", "k10")))
                campaign_id = self._id("campaign")
                opened = self._at(station.tz, max(0, start - 7), 10 * 60)
                self.writer.add(
                    "campaign",
                    {
                        "id": campaign_id,
                        "station_id": station.id,
                        "name": f"{self._year_of(start)}年度职工心理健康普测",
                        "work_unit": rng.choice(units),
                        "instruments": list(pair),
                        "starts_on": self.window_start + timedelta(days=start),
                        "ends_on": self.window_start + timedelta(days=end),
                        "created_at": opened,
                        "created_by": station.staff_id,
                        "closed_at": None
                        if current
                        else min(now, self._at(station.tz, end + 1, 9 * 60)),
                        "version": 1,
                    },
                )
                issued = rng.randrange(80, 301, 10)
                share = rng.uniform(0.15, 0.4) if current else rng.uniform(0.55, 0.85)
                last_day = min(end, self.today_idx - 1)
                for _n in range(issued):
                    payload = "".join(rng.choice(campaign_codes.ALPHABET) for _i in range(9))
                    used_day = (
                        rng.randint(start, last_day)
                        if last_day >= start and rng.random() < share
                        else None
                    )
                    self.writer.add(
                        "campaign_code",
                        {
                            "id": self._id("campaign_code"),
                            "campaign_id": campaign_id,
                            "code": payload + campaign_codes.check_character(payload),
                            "issued_at": opened,
                            "used_on": None
                            if used_day is None
                            else self.window_start + timedelta(days=used_day),
                            "follow_up_at": None,
                            "follow_up_by": None,
                        },
                    )
                    if used_day is None:
                        continue
                    distress = min(0.95, max(0.02, rng.gauss(0.3, 0.16)))
                    for code in pair:
                        self._assessment(
                            code,
                            distress,
                            station=station,
                            client=None,
                            case_id=None,
                            appointment_id=None,
                            taken_at=self._at(station.tz, used_day, 0),
                            mode=AssessmentMode.ANONYMOUS,
                            administered_by=None,
                            campaign_id=campaign_id,
                        )

    def _year_of(self, day: int) -> int:
        return (self.window_start + timedelta(days=day)).year

    def _anonymous_profile(self) -> tuple[str | None, str | None, str | None]:
        """What a walk-in chose to tell: often nothing, sometimes some of it."""
        rng = self.rng
        age = rng.choice(list(AgeBand)) if rng.random() < 0.7 else None
        gender = rng.choice((Gender.FEMALE, Gender.MALE)) if rng.random() < 0.7 else None
        industry = rng.choice(list(Industry)) if rng.random() < 0.6 else None
        return age, gender, industry


def _case_kind(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.015:
        return AppointmentType.CRISIS
    if roll < 0.135:
        return AppointmentType.ONLINE
    return AppointmentType.COUNSELLING


def _cumulative(weights: Sequence[float]) -> list[float]:
    total = 0.0
    result = []
    for weight in weights:
        total += weight
        result.append(total)
    return result


def _hash(password: str) -> str:
    # Imported here so importing the module stays cheap; argon2 is slow on purpose.
    from carestation.security.passwords import hash_password

    return hash_password(password)
