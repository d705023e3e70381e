"""Succession planning against the demo organization, on SQLite and PostgreSQL: critical positions, slates,
the emergency successor, the succession board (scope, what the viewer never sees about themselves, the
heat map, the bench figures, audit, a constant number of queries) and talent pools.

The demo's critical positions are the CEO (Alejandro Campbell, a whole-organization talent reviewer) and
the seven VPs: Lynne Robbins (VP of Engineering), Megan Bowen (VP of People, HR admin), Mohammed Sato (VP
of Sales) ... Alex Wilber holds a non-critical Engineering Manager position. Here Patti Fernandez (Sales)
is also made a talent reviewer for Sales.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import event, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain import metrics
from domain.access import Actor, load_actor
from domain.errors import Forbidden, Invalid, NotFound
from domain.talent import pools, succession
from domain.talent.succession_views import FieldInvalid
from storage.models import (
    AuditEntry,
    Person,
    Position,
    RoleGrant,
    Successor,
    TalentPool,
    TalentPoolMember,
    TalentReview,
    TalentReviewEntry,
)

NOW = datetime(2026, 5, 4, 9, tzinfo=UTC)


@dataclass
class World:
    session: AsyncSession
    megan: Actor  # HR admin (and VP of People)
    ceo: Actor  # a whole-organization talent reviewer
    patti: Actor  # a talent reviewer for Sales
    alex: Actor  # a manager, nothing more
    positions: dict[str, int]
    people: dict[str, int]

    async def nominate(self, position: str, person: str, readiness: str = "ready_now", **kw: Any) -> None:
        await succession.nominate(
            self.session,
            actor=kw.pop("actor", self.megan),
            position_id=self.positions[position],
            person_id=self.people[person],
            readiness=readiness,
            now=NOW,
            **kw,
        )

    async def slate(self, position: str) -> list[tuple[str, str, int | None, bool]]:
        """(name, readiness, months, emergency) straight from the store, by name."""
        rows = await self.session.execute(
            select(Person.display_name, Successor.readiness, Successor.months_to_ready, Successor.emergency)
            .join(Person, Person.id == Successor.person_id)
            .where(Successor.position_id == self.positions[position])
            .order_by(Person.display_name)
        )
        return [tuple(row) for row in rows.all()]

    async def audits(self, action: str | None = None) -> list[AuditEntry]:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action is not None:
            query = query.where(AuditEntry.action == action)
        return list((await self.session.scalars(query)).all())


@pytest_asyncio.fixture
async def world(session, cast) -> World:
    async def holder(title: str) -> tuple[int, int]:
        row = (
            await session.execute(
                select(Position.id, Position.incumbent_id)
                .where(Position.title == title)
                .order_by(Position.id)
            )
        ).first()
        return row[0], row[1]

    vp_eng, lynne = await holder("VP of Engineering")
    vp_sales, mohammed = await holder("VP of Sales")
    vp_people, megan = await holder("VP of People")
    ceo_position, ceo = await holder("Chief Executive Officer")
    em_alex = await session.scalar(select(Position.id).where(Position.incumbent_id == cast.alex.person_id))
    assert megan == cast.megan.person_id and lynne == cast.lynne.person_id
    session.add(RoleGrant(person_id=cast.patti.person_id, role="talent_reviewer", scope_department="Sales"))
    await session.flush()
    return World(
        session=session,
        megan=cast.megan,
        ceo=await load_actor(session, ceo),
        patti=await load_actor(session, cast.patti.person_id),
        alex=cast.alex,
        positions={
            "vp_eng": vp_eng,
            "vp_sales": vp_sales,
            "vp_people": vp_people,
            "ceo": ceo_position,
            "em_alex": em_alex,
        },
        people={
            "alex": cast.alex.person_id,
            "adele": cast.adele.person_id,
            "isaiah": cast.isaiah.person_id,
            "lynne": lynne,
            "patti": cast.patti.person_id,
            "megan": megan,
            "mohammed": mohammed,
            "ceo": ceo,
        },
    )


async def rate(session: AsyncSession, kit, ratings: dict[int, tuple[int | None, int | None]]) -> None:
    """A talent review (over a draft performance cycle) with these people's risk and impact of loss."""
    cycle = await kit.cycle()
    review = TalentReview(
        name="2026 talent review",
        performance_cycle_id=cycle.id,
        status="calibration",
        medium_from=2.5,
        high_from=4,
    )
    session.add(review)
    await session.flush()
    for person_id, (risk, impact) in ratings.items():
        session.add(
            TalentReviewEntry(
                talent_review_id=review.id, person_id=person_id, risk_of_loss=risk, impact_of_loss=impact
            )
        )
    await session.flush()


async def counts(session: AsyncSession) -> tuple[int, ...]:
    """Rows in every table these services write."""
    return tuple(
        [
            await session.scalar(select(func.count()).select_from(model))
            for model in (Successor, AuditEntry, TalentPool, TalentPoolMember)
        ]
        + [await session.scalar(select(func.count()).where(Position.critical.is_(True)))]
        + [
            await session.scalar(
                select(func.count()).select_from(Successor).where(Successor.emergency.is_(True))
            )
        ]
    )


def card(board, position_id: int):
    [found] = [c for c in board.cards if c.position_id == position_id]
    return found


def names(card_view) -> list[str]:
    return [s.person.name for s in card_view.successors]


# --- slates --------------------------------------------------------------------------------------------


async def test_nominating_puts_people_on_the_slate_nearest_readiness_first_then_by_name(world: World) -> None:
    await world.nominate("vp_eng", "isaiah", "3_5_years", months_to_ready=40)
    await world.nominate(
        "vp_eng", "adele", "1_2_years", months_to_ready=18, notes="  Lead the search rewrite  "
    )
    await world.nominate("vp_eng", "patti", "1_2_years")
    await world.nominate("vp_eng", "alex", "ready_now", months_to_ready=0, emergency=True)

    assert await world.slate("vp_eng") == [
        ("Adele Vance", "1_2_years", 18, False),
        ("Alex Wilber", "ready_now", 0, True),
        ("Isaiah Langer", "3_5_years", 40, False),
        ("Patti Fernandez", "1_2_years", None, False),
    ]
    view = await succession.position_slate(
        world.session, actor=world.megan, position_id=world.positions["vp_eng"]
    )
    assert names(view.card) == ["Alex Wilber", "Adele Vance", "Patti Fernandez", "Isaiah Langer"]
    adele = view.card.successors[1]
    assert (adele.readiness_label, adele.months_to_ready, adele.notes) == (
        "Ready in 1\u20132 years",
        18,
        "Lead the search rewrite",
    )
    assert adele.person.title == "Senior Software Engineer"
    assert view.card.emergency.person.name == "Alex Wilber"
    assert view.card.incumbent.name == "Lynne Robbins"
    writes = await world.audits("talent.succession.nominate")
    assert [(a.actor_id, a.subject_id, a.detail["person_id"]) for a in writes][-1] == (
        world.megan.person_id,
        world.positions["vp_eng"],
        world.people["alex"],
    )
    [viewed] = await world.audits("talent.succession.view_position")
    assert viewed.subject_id == world.positions["vp_eng"] and viewed.detail == {"successors": 4}


@pytest.mark.parametrize(
    ("args", "error", "field", "message"),
    [
        ({"readiness": "soon"}, FieldInvalid, "readiness", "Choose a readiness"),
        ({"readiness": ""}, FieldInvalid, "readiness", "Choose a readiness"),
        ({"months_to_ready": -1, "readiness": "1_2_years"}, FieldInvalid, "months_to_ready", "negative"),
        ({"months_to_ready": 3}, FieldInvalid, "months_to_ready", "Ready now means 0 months to ready, not 3"),
        (
            {"readiness": "1_2_years", "months_to_ready": 0},
            FieldInvalid,
            "months_to_ready",
            "Ready in 1\u20132 years means 1 to 35 months to ready, not 0",
        ),
        ({"readiness": "1_2_years", "months_to_ready": 36}, FieldInvalid, "months_to_ready", "1 to 35"),
        ({"readiness": "3_5_years", "months_to_ready": 24}, FieldInvalid, "months_to_ready", "36 to 60"),
        ({"readiness": "3_5_years", "months_to_ready": 61}, FieldInvalid, "months_to_ready", "36 to 60"),
        ({"notes": "x" * 2001}, FieldInvalid, "notes", "at most 2000 characters"),
        ({"person": "lynne"}, FieldInvalid, "person_id", "Lynne Robbins holds VP of Engineering now"),
        (
            {"person": "adele"},
            FieldInvalid,
            "person_id",
            "Adele Vance is already on the slate for VP of Engineering.",
        ),
        ({"person": "leaver"}, FieldInvalid, "person_id", "has left the organization"),
        ({"position_id": 999_999}, NotFound, None, "That position does not exist."),
        ({"person_id": 999_999}, NotFound, None, "That person is not in the directory."),
        ({"position": "em_alex", "person": "isaiah"}, Invalid, None, "Engineering Manager is not a critical"),
        ({"person": "megan"}, Forbidden, None, "Nobody edits their own succession data"),
        ({"actor": "patti"}, Forbidden, None, "You don't have access to this position's succession plan."),
        ({"actor": "alex"}, Forbidden, None, "You don't have access"),
    ],
)
async def test_bad_nominations_are_refused_with_a_sentence_and_nothing_written(
    world: World, args: dict[str, Any], error: type[Exception], field: str | None, message: str
) -> None:
    args = dict(args)  # the parameters are shared by both backends' runs
    await world.nominate("vp_eng", "adele", "1_2_years", emergency=True)
    leaver = world.people["isaiah"] if args.get("person") == "leaver" else None
    if leaver is not None:
        await world.session.execute(update(Person).where(Person.id == leaver).values(active=False))
    before = await counts(world.session)
    person = args.pop("person", "isaiah")
    position = args.pop("position", "vp_eng")
    actor = getattr(world, args.pop("actor", "megan"))
    call = {
        "actor": actor,
        "position_id": world.positions[position],
        "person_id": leaver or world.people[person],
        "readiness": "ready_now",
        "emergency": True,
        "now": NOW,
    } | args
    with pytest.raises(error) as refused:
        await succession.nominate(world.session, **call)
    assert message in refused.value.message
    assert getattr(refused.value, "field", None) == field
    assert await counts(world.session) == before
    assert (await world.slate("vp_eng"))[0] == ("Adele Vance", "1_2_years", None, True), (
        "still the emergency one"
    )


async def test_a_talent_reviewer_plans_the_positions_of_their_scope(world: World) -> None:
    await world.nominate("vp_sales", "adele", "3_5_years", actor=world.patti)
    assert await world.slate("vp_sales") == [("Adele Vance", "3_5_years", None, False)]
    await world.nominate("vp_eng", "patti", actor=world.ceo)
    with pytest.raises(Forbidden):
        await succession.remove_successor(
            world.session,
            actor=world.patti,
            position_id=world.positions["vp_eng"],
            person_id=world.people["isaiah"],
            now=NOW,
        )


async def test_one_emergency_successor_at_a_time_and_the_flag_moves_in_one_step(world: World) -> None:
    await world.nominate("vp_eng", "alex", emergency=True)
    await world.nominate("vp_eng", "adele", "1_2_years", emergency=True)
    assert [e for *_, e in await world.slate("vp_eng")] == [True, False]  # Adele, Alex

    await world.nominate("vp_eng", "isaiah", "3_5_years")
    view = await succession.set_emergency(
        world.session,
        actor=world.megan,
        position_id=world.positions["vp_eng"],
        person_id=world.people["isaiah"],
        now=NOW,
    )
    assert view.emergency and view.person.name == "Isaiah Langer"
    assert [e for *_, e in await world.slate("vp_eng")] == [False, False, True]

    # Again: nothing changes, nothing is written.
    before = await counts(world.session)
    await succession.set_emergency(
        world.session,
        actor=world.megan,
        position_id=world.positions["vp_eng"],
        person_id=world.people["isaiah"],
        now=NOW,
    )
    assert await counts(world.session) == before

    # Through an update, then cleared by one.
    await succession.update_successor(
        world.session,
        actor=world.megan,
        position_id=world.positions["vp_eng"],
        person_id=world.people["alex"],
        readiness="ready_now",
        emergency=True,
        now=NOW,
    )
    assert [e for *_, e in await world.slate("vp_eng")] == [False, True, False]
    await succession.update_successor(
        world.session,
        actor=world.megan,
        position_id=world.positions["vp_eng"],
        person_id=world.people["alex"],
        readiness="ready_now",
        emergency=False,
        now=NOW,
    )
    assert [e for *_, e in await world.slate("vp_eng")] == [False, False, False]
    # Another position's emergency successor is untouched by all of it.
    await world.nominate("vp_sales", "adele", emergency=True)
    await world.nominate("vp_eng", "patti", emergency=True)
    assert (await world.slate("vp_sales"))[0][3] is True


async def test_updating_a_successor_checks_the_same_rules(world: World) -> None:
    await world.nominate("vp_eng", "adele", "1_2_years", months_to_ready=18, notes="Mentor: Lynne")
    vp_eng = world.positions["vp_eng"]

    def call(**kw: Any) -> Any:
        args = {
            "actor": world.megan,
            "position_id": vp_eng,
            "person_id": world.people["adele"],
            "readiness": "ready_now",
            "now": NOW,
        } | kw
        return succession.update_successor(world.session, **args)

    view = await call(notes=" Ready after the Q2 launch ")
    assert (view.readiness, view.months_to_ready, view.notes) == (
        "ready_now",
        None,
        "Ready after the Q2 launch",
    )
    assert await world.slate("vp_eng") == [("Adele Vance", "ready_now", None, False)]

    before = await counts(world.session)
    for kw, error in [
        ({"readiness": "someday"}, FieldInvalid),
        ({"readiness": "3_5_years", "months_to_ready": 12}, FieldInvalid),
        ({"months_to_ready": 1}, FieldInvalid),
        ({"person_id": world.people["isaiah"]}, NotFound),  # not on the slate
        ({"person_id": 999_999}, NotFound),
        ({"position_id": 999_999}, NotFound),
        ({"person_id": world.megan.person_id}, Forbidden),  # her own row, if she had one
        ({"actor": world.patti}, Forbidden),
        ({"actor": world.alex}, Forbidden),
    ]:
        with pytest.raises(error):
            await call(**kw)
    assert await counts(world.session) == before
    assert await world.slate("vp_eng") == [("Adele Vance", "ready_now", None, False)]


async def test_removing_a_successor(world: World) -> None:
    await world.nominate("vp_eng", "adele", "1_2_years", emergency=True)
    await world.nominate("vp_eng", "alex")
    vp_eng = world.positions["vp_eng"]
    with pytest.raises(NotFound, match="Isaiah Langer is not on the slate for VP of Engineering"):
        await succession.remove_successor(
            world.session, actor=world.megan, position_id=vp_eng, person_id=world.people["isaiah"], now=NOW
        )
    await succession.remove_successor(
        world.session, actor=world.megan, position_id=vp_eng, person_id=world.people["adele"], now=NOW
    )
    assert await world.slate("vp_eng") == [("Alex Wilber", "ready_now", None, False)]
    [removed] = await world.audits("talent.succession.remove")
    assert removed.detail == {"person_id": world.people["adele"]}


async def test_marking_a_position_critical_and_back_keeps_its_slate(world: World) -> None:
    em = world.positions["em_alex"]
    summary = await succession.set_critical(
        world.session, actor=world.megan, position_id=em, critical=True, now=NOW
    )
    assert summary.critical and summary.incumbent.name == "Alex Wilber"
    await world.nominate("em_alex", "adele", "1_2_years", months_to_ready=12)
    board = await succession.succession_board(world.session, actor=world.megan)
    assert names(card(board, em)) == ["Adele Vance"]

    await succession.set_critical(world.session, actor=world.megan, position_id=em, critical=False, now=NOW)
    board = await succession.succession_board(world.session, actor=world.megan)
    assert em not in [c.position_id for c in board.cards]
    assert await world.slate("em_alex") == [("Adele Vance", "1_2_years", 12, False)], "the plan is kept"
    with pytest.raises(Invalid, match="mark it critical"):
        await world.nominate("em_alex", "isaiah")
    # Unchanged: no second audit entry.
    await succession.set_critical(world.session, actor=world.megan, position_id=em, critical=False, now=NOW)
    assert [a.detail["critical"] for a in await world.audits("talent.succession.set_critical")] == [
        True,
        False,
    ]
    for actor, position_id, error in [
        (world.patti, em, Forbidden),
        (world.alex, em, Forbidden),
        (world.megan, 999_999, NotFound),
    ]:
        with pytest.raises(error):
            await succession.set_critical(
                world.session, actor=actor, position_id=position_id, critical=True, now=NOW
            )


async def test_resolving_a_typed_person(world: World) -> None:
    resolve = succession.resolve_person
    s, megan = world.session, world.megan
    assert await resolve(s, actor=megan, text="  ADELEV@example.com ") == world.people["adele"]
    assert await resolve(s, actor=megan, text="Isaiah  Langer") == world.people["isaiah"]
    for text, message in [
        ("", "Type the person's email address or full name."),
        ("nobody@example.com", "No one in the directory has the email address"),
        ("Zebediah Nobody", "No one in the directory matches"),
    ]:
        with pytest.raises(FieldInvalid, match=message) as refused:
            await resolve(s, actor=megan, text=text)
        assert refused.value.field == "person_id"
    with pytest.raises(Forbidden):
        await resolve(s, actor=world.alex, text="Adele Vance")


# --- the board -----------------------------------------------------------------------------------------


async def test_the_board_shows_each_critical_position_with_its_slate_flags_and_figures(
    world: World, kit
) -> None:
    await world.nominate("vp_eng", "alex", "ready_now", emergency=True)
    await world.nominate("vp_eng", "adele", "1_2_years", months_to_ready=20)
    await world.nominate("vp_sales", "patti", "3_5_years")
    await world.nominate("ceo", "lynne", "1_2_years")
    await world.nominate("vp_sales", "lynne", "ready_now")
    await rate(
        world.session,
        kit,
        {world.people["lynne"]: (3, 3), world.people["mohammed"]: (1, 2), world.people["ceo"]: (None, 3)},
    )
    board = await succession.succession_board(world.session, actor=world.megan)

    assert len(board.cards) == 8, "the CEO and seven VPs"
    assert [c.title for c in board.cards][:2] == ["VP of Customer Success", "VP of Engineering"]
    eng = card(board, world.positions["vp_eng"])
    assert (eng.title, eng.department, eng.incumbent.name, eng.incumbent.title) == (
        "VP of Engineering",
        "Engineering",
        "Lynne Robbins",
        "VP of Engineering",
    )
    assert (eng.risk_impact.risk_label, eng.risk_impact.impact_label) == ("High", "High")
    assert names(eng) == ["Alex Wilber", "Adele Vance"]
    assert [(s.readiness_label, s.months_to_ready, s.emergency) for s in eng.successors] == [
        ("Ready now", None, True),
        ("Ready in 1\u20132 years", 20, False),
    ]
    assert not eng.no_successor and not eng.no_ready_now
    sales = card(board, world.positions["vp_sales"])
    assert names(sales) == ["Lynne Robbins", "Patti Fernandez"] and not sales.no_ready_now
    ceo = card(board, world.positions["ceo"])
    assert ceo.no_ready_now and not ceo.no_successor and ceo.risk_impact is None, "impact without risk"
    finance = next(c for c in board.cards if c.title == "VP of Finance")
    assert finance.no_successor and finance.no_ready_now and finance.successors == ()

    assert board.heat_map.count(risk=3, impact=3) == 1 and board.heat_map.count(risk=1, impact=2) == 1
    assert board.heat_map.rated == 2
    assert board.heat_map.unrated == 5, "six other incumbents, Megan (the viewer) not counted at all"
    assert board.departments == (
        "Customer Success",
        "Engineering",
        "Executive",
        "Finance",
        "Marketing",
        "People",
        "Product",
        "Sales",
    )
    # Hand-computed: 8 critical positions; ready now on VP Eng and VP Sales; any on those and the CEO.
    # Lynne is on two slates (½ each): depth = (1 + 1 + ½ + ½ + 1) / 8 = 0.5.
    bench = board.bench
    assert (bench.critical_positions, bench.ready_now_covered, bench.any_covered) == (8, 2, 3)
    assert (bench.ready_now_coverage, bench.any_coverage, bench.depth) == (
        Decimal("25.0"),
        Decimal("37.5"),
        Decimal("0.50"),
    )
    assert await world.audits("talent.metrics.view") == [], "the board's own row records its figures"
    assert bench == await metrics.bench_strength(world.session, actor=world.megan)

    [audit] = await world.audits("talent.succession.view")
    assert (audit.actor_id, audit.subject_type, audit.detail) == (
        world.megan.person_id,
        "succession_board",
        {"department": None, "positions": 8},
    )


async def test_the_board_never_shows_the_viewer_anything_about_themselves(world: World, kit) -> None:
    await world.nominate(
        "vp_eng", "megan", "ready_now", actor=world.ceo, emergency=True, notes="Megan's secret"
    )
    await world.nominate("vp_eng", "adele", "1_2_years")
    await world.nominate("vp_sales", "megan", "3_5_years", actor=world.ceo)
    await rate(world.session, kit, {world.megan.person_id: (3, 2), world.people["lynne"]: (2, 2)})

    mine = await succession.succession_board(world.session, actor=world.megan)
    eng = card(mine, world.positions["vp_eng"])
    assert names(eng) == ["Adele Vance"] and eng.emergency is None and eng.no_ready_now
    sales = card(mine, world.positions["vp_sales"])
    assert sales.no_successor, "her row left out, and the flag follows what is shown"
    people = card(mine, world.positions["vp_people"])
    assert people.incumbent.name == "Megan Bowen" and people.risk_impact is None
    assert mine.heat_map.rated == 1 and mine.heat_map.count(risk=2, impact=2) == 1
    assert "Megan's secret" not in repr(mine)
    assert mine.bench.any_covered == 1, "the figures leave her out too"
    slate = await succession.position_slate(
        world.session, actor=world.megan, position_id=world.positions["vp_eng"]
    )
    assert names(slate.card) == ["Adele Vance"] and "Megan's secret" not in repr(slate)
    own = await succession.position_slate(
        world.session, actor=world.megan, position_id=world.positions["vp_people"]
    )
    assert own.card.risk_impact is None

    # Anyone else sees all of it.
    theirs = await succession.succession_board(world.session, actor=world.ceo)
    eng = card(theirs, world.positions["vp_eng"])
    assert names(eng) == ["Megan Bowen", "Adele Vance"] and eng.emergency.notes == "Megan's secret"
    assert card(theirs, world.positions["vp_people"]).risk_impact.risk == 3
    assert theirs.heat_map.rated == 2


async def test_a_talent_reviewer_sees_their_scope_and_others_are_refused(world: World, kit) -> None:
    await world.nominate("vp_sales", "adele", "1_2_years")
    await world.nominate("vp_eng", "isaiah", "1_2_years")
    await rate(world.session, kit, {world.people["mohammed"]: (2, 3), world.people["lynne"]: (3, 3)})
    board = await succession.succession_board(world.session, actor=world.patti)
    assert [c.title for c in board.cards] == ["VP of Sales"]
    assert board.departments == ("Sales",)
    assert names(board.cards[0]) == ["Adele Vance"]
    assert board.heat_map.rated == 1 and board.heat_map.count(risk=2, impact=3) == 1
    assert (board.bench.critical_positions, board.bench.any_covered) == (1, 1)

    with pytest.raises(Forbidden, match="Engineering"):
        await succession.succession_board(world.session, actor=world.patti, department="Engineering")
    with pytest.raises(Forbidden):
        await succession.position_slate(
            world.session, actor=world.patti, position_id=world.positions["vp_eng"]
        )
    for actor in (world.alex, await load_actor(world.session, world.people["adele"])):
        with pytest.raises(Forbidden):
            await succession.succession_board(world.session, actor=actor)
        with pytest.raises(Forbidden):
            await succession.position_slate(
                world.session, actor=actor, position_id=world.positions["vp_sales"]
            )
    with pytest.raises(NotFound):
        await succession.position_slate(world.session, actor=world.megan, position_id=999_999)
    assert [a.actor_id for a in await world.audits("talent.succession.view")] == [world.patti.person_id]


async def test_the_department_filter_narrows_cards_figures_and_heat_map(world: World, kit) -> None:
    await world.nominate("vp_eng", "adele", "ready_now")
    await world.nominate("vp_sales", "isaiah", "1_2_years")
    await rate(world.session, kit, {world.people["mohammed"]: (1, 1), world.people["lynne"]: (3, 3)})
    board = await succession.succession_board(world.session, actor=world.megan, department=" Engineering ")
    assert board.department == "Engineering"
    assert [c.title for c in board.cards] == ["VP of Engineering"]
    assert len(board.departments) == 8, "the filter still offers every department"
    assert (board.bench.critical_positions, board.bench.ready_now_coverage) == (1, Decimal("100.0"))
    assert board.heat_map.rated == 1 and board.heat_map.count(risk=3, impact=3) == 1
    [audit] = await world.audits("talent.succession.view")
    assert audit.detail == {"department": "Engineering", "positions": 1}
    empty = await succession.succession_board(world.session, actor=world.megan, department="Nowhere")
    assert empty.cards == () and empty.bench.critical_positions == 0


async def test_people_who_left_are_off_the_board_and_flagged_on_the_position_page(world: World) -> None:
    await world.nominate("vp_eng", "adele", "ready_now")
    await world.nominate("vp_eng", "isaiah", "1_2_years")
    await world.session.execute(update(Person).where(Person.id == world.people["adele"]).values(active=False))
    board = await succession.succession_board(world.session, actor=world.megan)
    eng = card(board, world.positions["vp_eng"])
    assert names(eng) == ["Isaiah Langer"] and eng.no_ready_now
    with pytest.raises(FieldInvalid, match="has left the organization"):
        await succession.set_emergency(
            world.session,
            actor=world.megan,
            position_id=world.positions["vp_eng"],
            person_id=world.people["adele"],
            now=NOW,
        )
    slate = await succession.position_slate(
        world.session, actor=world.megan, position_id=world.positions["vp_eng"]
    )
    assert [(s.person.name, s.person.active) for s in slate.card.successors] == [
        ("Adele Vance", False),
        ("Isaiah Langer", True),
    ]
    await succession.remove_successor(
        world.session,
        actor=world.megan,
        position_id=world.positions["vp_eng"],
        person_id=world.people["adele"],
        now=NOW,
    )
    assert await world.slate("vp_eng") == [("Isaiah Langer", "1_2_years", None, False)]


async def test_the_board_runs_the_same_number_of_queries_however_many_positions(world: World, engine) -> None:
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    await world.nominate("vp_eng", "adele")
    await world.session.flush()
    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        await succession.succession_board(world.session, actor=world.megan)
        few = len(statements)
        # Twenty more critical positions, each with a slate of two.
        extra = [
            Position(title=f"Staff role {n}", department="Engineering", critical=True) for n in range(20)
        ]
        world.session.add_all(extra)
        await world.session.flush()
        for position in extra:
            for person in ("adele", "patti"):
                world.session.add(
                    Successor(position_id=position.id, person_id=world.people[person], readiness="1_2_years")
                )
        await world.session.flush()
        statements.clear()
        board = await succession.succession_board(world.session, actor=world.megan)
        assert len(board.cards) == 28
        assert len(statements) == few, statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)


# --- talent pools --------------------------------------------------------------------------------------


async def test_talent_pools_hold_people_and_never_show_the_viewer_their_own_membership(world: World) -> None:
    s = world.session
    leaders = await pools.create_pool(
        s, actor=world.megan, name=" Future leaders ", description="Next VPs", now=NOW
    )
    sellers = await pools.create_pool(s, actor=world.patti, name="Sales bench", now=NOW)
    for pool, person, actor in [
        (leaders, "adele", world.megan),
        (leaders, "megan", world.ceo),
        (leaders, "patti", world.megan),
        (sellers, "patti", world.ceo),
    ]:
        await pools.add_member(s, actor=actor, pool_id=pool.id, person_id=world.people[person], now=NOW)

    mine = await pools.list_pools(s, actor=world.megan)
    assert [(p.name, [m.name for m in p.members]) for p in mine] == [
        ("Future leaders", ["Adele Vance", "Patti Fernandez"]),
        ("Sales bench", ["Patti Fernandez"]),
    ]
    assert mine[0].description == "Next VPs"
    ceo = await pools.list_pools(s, actor=world.ceo)
    assert [m.name for m in ceo[0].members] == ["Adele Vance", "Megan Bowen", "Patti Fernandez"]
    patti = await pools.list_pools(s, actor=world.patti)
    assert [(p.name, [m.name for m in p.members]) for p in patti] == [
        ("Future leaders", []),  # Adele and Megan are outside Sales; Patti is herself
        ("Sales bench", []),
    ]
    assert len(await world.audits("talent.pools.view")) == 3

    await pools.remove_member(s, actor=world.megan, pool_id=leaders.id, person_id=world.people["adele"])
    assert [m.name for m in (await pools.list_pools(s, actor=world.ceo))[0].members] == [
        "Megan Bowen",
        "Patti Fernandez",
    ]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        ("create:future LEADERS", FieldInvalid, "A talent pool named “future LEADERS” already exists."),
        ("create:", FieldInvalid, "The pool's name is empty"),
        ("create_by_alex", Forbidden, "talent pools"),
        ("add:patti", FieldInvalid, "Patti Fernandez is already in the pool “Future leaders”."),
        ("add:megan", Forbidden, "Nobody changes their own talent pool membership"),
        ("add:leaver", FieldInvalid, "has left the organization"),
        ("add:999999", NotFound, "That person is not in the directory."),
        ("add_to:999999", NotFound, "That talent pool does not exist."),
        ("add_by_patti:adele", Forbidden, "Adele Vance's talent data"),
        ("remove:isaiah", NotFound, "Isaiah Langer is not in the pool “Future leaders”."),
        ("remove:megan", Forbidden, "Nobody changes their own"),
    ],
)
async def test_bad_pool_input_is_refused_and_nothing_written(
    world: World, call: str, error: type[Exception], message: str
) -> None:
    s = world.session
    pool = await pools.create_pool(s, actor=world.megan, name="Future leaders", now=NOW)
    await pools.add_member(s, actor=world.megan, pool_id=pool.id, person_id=world.people["patti"], now=NOW)
    await s.execute(update(Person).where(Person.id == world.people["lynne"]).values(active=False))
    before = await counts(s)
    verb, _, arg = call.partition(":")
    person_id = (
        {"leaver": world.people["lynne"]}.get(arg)
        or world.people.get(arg)
        or (int(arg) if arg.isdigit() else 0)
    )
    with pytest.raises(error) as refused:
        if verb == "create":
            await pools.create_pool(s, actor=world.megan, name=arg, now=NOW)
        elif verb == "create_by_alex":
            await pools.create_pool(s, actor=world.alex, name="Mine", now=NOW)
        elif verb == "add":
            await pools.add_member(s, actor=world.megan, pool_id=pool.id, person_id=person_id, now=NOW)
        elif verb == "add_to":
            await pools.add_member(
                s, actor=world.megan, pool_id=999_999, person_id=world.people["adele"], now=NOW
            )
        elif verb == "add_by_patti":
            await pools.add_member(s, actor=world.patti, pool_id=pool.id, person_id=person_id, now=NOW)
        else:
            await pools.remove_member(s, actor=world.megan, pool_id=pool.id, person_id=person_id)
    assert message in refused.value.message
    assert await counts(s) == before


def test_months_rule_boundaries() -> None:
    """The months each readiness allows, at their edges (pure: no store)."""
    checked = succession._checked
    assert checked("ready_now", 0, None) == (0, None)
    assert checked("1_2_years", 1, "") == (1, None)
    assert checked("1_2_years", 35, None) == (35, None)
    assert checked("3_5_years", 36, None) == (36, None)
    assert checked("3_5_years", 60, None) == (60, None)
    assert checked("3_5_years", None, None) == (None, None)
    for readiness, months in [("ready_now", 1), ("1_2_years", 0), ("1_2_years", 36), ("3_5_years", 35)]:
        with pytest.raises(FieldInvalid):
            checked(readiness, months, None)
    with pytest.raises(FieldInvalid, match="whole number"):
        checked("1_2_years", True, None)  # type: ignore[arg-type]
