"""Every vocabulary value has its own title, in both languages."""

from __future__ import annotations

import pytest

from carestation.domain import vocab
from carestation.i18n import set_language

ENUMS = [
    e
    for e in vars(vocab).values()
    if isinstance(e, type) and issubclass(e, vocab._Titled) and e is not vocab._Titled
]


@pytest.mark.parametrize("enum", ENUMS, ids=lambda e: e.__name__)
def test_every_member_has_a_title_of_its_own(enum: type[vocab._Titled]) -> None:
    titles = [member.title for member in enum]
    assert all(titles)
    assert len(set(titles)) == len(titles), f"{enum.__name__} has two members with the same title"


def test_same_values_in_different_vocabularies_keep_their_own_titles() -> None:
    set_language("en")
    assert vocab.AppointmentStatus.BOOKED.title == "Booked"
    assert vocab.WaitlistStatus.BOOKED.title == "Booked from the waitlist"
    assert vocab.AppointmentStatus.CANCELLED.title == "Cancelled"
    assert vocab.Gender.OTHER.title == "Other"
    set_language("zh_CN")
    assert vocab.AppointmentStatus.BOOKED.title == "已预约"
    assert vocab.WaitlistStatus.BOOKED.title == "已从候补名单预约"
