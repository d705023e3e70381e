"""Recognition: the praise rules as a matrix, then badges and praise against the demo organization.

Alex Wilber manages Adele Vance and Isaiah Langer; Lynne Robbins is Alex's manager; Patti Fernandez is in
Sales; Megan Bowen is HR.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from domain.access import Actor, Relation, Role, may_give_badge, may_view_praise
from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.performance import recognition
from domain.performance.recognition_views import PRAISE_MAX, ChannelTarget
from storage.models import Person, Praise

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
CHANNEL = ChannelTarget("19:general@thread.tacv2", "https://smba.example/")


def someone(*roles: Role) -> Actor:
    return Actor(100, "Someone", "t", "Engineering", frozenset({Role.EMPLOYEE, *roles}))


T, F = True, False
# viewer: (actor, relation to the receiver, is the giver, sees private praise) — written out by hand.
PRIVATE = {
    "giver": (someone(), Relation(False, False, "Sales"), T, T),
    "receiver": (someone(), Relation.to_self(someone()), F, T),
    "receiver's manager line": (someone(Role.MANAGER), Relation(False, True, "Sales"), F, T),
    "HR admin": (someone(Role.HR_ADMIN), Relation(False, False, "Sales"), F, T),
    "colleague": (someone(), Relation(False, False, "Sales"), F, F),
    "manager elsewhere": (someone(Role.MANAGER), Relation(False, False, "Sales"), F, F),
}


@pytest.mark.parametrize("viewer", PRIVATE)
def test_who_sees_private_and_public_praise(viewer: str) -> None:
    who, rel, is_giver, sees_private = PRIVATE[viewer]
    assert may_view_praise(who, rel, private=True, is_giver=is_giver) is sees_private
    assert may_view_praise(who, rel, private=False, is_giver=is_giver) is True, "public is public"


@pytest.mark.parametrize(
    ("roles", "official", "allowed"),
    [((), F, T), ((Role.MANAGER,), F, T), ((), T, F), ((Role.MANAGER,), T, F), ((Role.HR_ADMIN,), T, T)],
)
def test_only_hr_gives_official_badges(roles, official, allowed) -> None:
    assert may_give_badge(someone(*roles), official=official) is allowed


async def badges(session, cast):
    official = await recognition.define_badge(
        session, actor=cast.megan, name="Values Champion", emoji="🏆", official=True, now=NOW
    )
    everyday = await recognition.define_badge(
        session, actor=cast.megan, name="Team Player", emoji="🤝", description="Helps others", now=NOW
    )
    return official, everyday


async def praise_count(session) -> int:
    return await session.scalar(select(func.count(Praise.id)))


# --- badges ------------------------------------------------------------------------------------------


async def test_hr_defines_badges_and_everyone_sees_which_they_may_give(session, cast) -> None:
    _official, everyday = await badges(session, cast)

    with pytest.raises(Forbidden):
        await recognition.define_badge(session, actor=cast.alex, name="Mine", now=NOW)
    with pytest.raises(Conflict):
        await recognition.define_badge(session, actor=cast.megan, name="team player", now=NOW)
    alex_sees = await recognition.list_badges(session, actor=cast.alex)
    assert [(b.name, b.may_give) for b in alex_sees] == [("Team Player", True), ("Values Champion", False)]
    megan_sees = await recognition.list_badges(session, actor=cast.megan)
    assert [b.may_give for b in megan_sees] == [True, True]

    await recognition.set_badge_active(session, actor=cast.megan, badge_id=everyday.id, active=False)
    assert [b.name for b in await recognition.list_badges(session, actor=cast.alex)] == ["Values Champion"]
    with pytest.raises(Invalid, match="retired"):
        await recognition.give_praise(
            session,
            actor=cast.alex,
            receiver_id=cast.adele.person_id,
            text="x",
            badge_id=everyday.id,
            now=NOW,
        )


# --- praise ------------------------------------------------------------------------------------------


async def test_a_non_hr_person_cannot_give_an_official_badge(session, cast) -> None:
    official, everyday = await badges(session, cast)

    for who in (cast.alex, cast.adele, cast.lynne):
        with pytest.raises(Forbidden, match="only HR"):
            await recognition.give_praise(
                session,
                actor=who,
                receiver_id=cast.patti.person_id,
                text="Bravo",
                badge_id=official.id,
                now=NOW,
            )
    assert await praise_count(session) == 0

    by_hr = await recognition.give_praise(
        session,
        actor=cast.megan,
        receiver_id=cast.patti.person_id,
        text="Bravo",
        badge_id=official.id,
        now=NOW,
    )
    by_peer = await recognition.give_praise(
        session,
        actor=cast.adele,
        receiver_id=cast.patti.person_id,
        text="Thanks!",
        badge_id=everyday.id,
        now=NOW,
    )
    assert (by_hr.badge.name, by_peer.badge.name) == ("Values Champion", "Team Player")


async def test_public_praise_is_posted_to_its_channel_and_seen_by_everyone(session, cast) -> None:
    given = await recognition.give_praise(
        session,
        actor=cast.adele,
        receiver_id=cast.isaiah.person_id,
        text="<script>alert(1)</script> shipped it",
        channel=CHANNEL,
        now=NOW,
    )

    assert given.channel == CHANNEL and not given.posted
    assert given.text == "<script>alert(1)</script> shipped it", "kept as typed: cards and tabs escape"
    await recognition.record_posted(session, praise_id=given.id, activity_id="1:abc")
    for who in (cast.patti, cast.megan, cast.alex, cast.lynne):
        seen = await recognition.get_praise(session, actor=who, praise_id=given.id)
        assert seen.posted
        assert [p.id for p in await recognition.praise_feed(session, actor=who)] == [given.id]


async def test_private_praise_reaches_giver_receiver_line_and_hr_only(session, cast) -> None:
    given = await recognition.give_praise(
        session,
        actor=cast.patti,
        receiver_id=cast.adele.person_id,
        text="Quietly brilliant",
        private=True,
        now=NOW,
    )

    sees = {"patti": T, "adele": T, "alex": T, "lynne": T, "megan": T, "isaiah": F}
    for name, allowed in sees.items():
        who = getattr(cast, name)
        try:
            await recognition.get_praise(session, actor=who, praise_id=given.id)
            found = True
        except NotFound:
            found = False
        assert found is allowed, name
        feed = [p.id for p in await recognition.praise_feed(session, actor=who)]
        assert (feed == [given.id]) is allowed, name
        received = await recognition.praise_for(session, actor=who, person_id=cast.adele.person_id)
        assert ([p.id for p in received] == [given.id]) is allowed, name


async def test_a_double_submit_stores_one_praise(session, cast) -> None:
    first = await recognition.give_praise(
        session,
        actor=cast.adele,
        receiver_id=cast.isaiah.person_id,
        text="Thanks",
        now=NOW,
        client_request_id="p1",
    )
    second = await recognition.give_praise(
        session,
        actor=cast.adele,
        receiver_id=cast.isaiah.person_id,
        text="Thanks",
        now=NOW,
        client_request_id="p1",
    )

    assert second.id == first.id and second.already_submitted
    assert await praise_count(session) == 1


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        ({"receiver_id": "self"}, Invalid, "yourself"),
        ({"receiver_id": 999_999}, NotFound, "directory"),
        ({"receiver_id": "inactive"}, NotFound, "directory"),
        ({"text": " "}, Invalid, "empty"),
        ({"text": "x" * (PRAISE_MAX + 1)}, Invalid, f"at most {PRAISE_MAX} characters"),
        ({"private": True, "channel": CHANNEL}, Invalid, "Private praise"),
        ({"badge_id": 999_999}, NotFound, "badge"),
    ],
)
async def test_bad_praise_is_refused_and_nothing_written(session, cast, change, error, words) -> None:
    inactive = cast.isaiah.person_id
    await session.execute(update(Person).where(Person.id == inactive).values(active=False))
    args = {"receiver_id": cast.adele.person_id, "text": "Well done"} | change
    args["receiver_id"] = {"self": cast.patti.person_id, "inactive": inactive}.get(
        args["receiver_id"], args["receiver_id"]
    )

    with pytest.raises(error) as refused:
        await recognition.give_praise(session, actor=cast.patti, now=NOW, **args)

    assert words in refused.value.message
    assert await praise_count(session) == 0
