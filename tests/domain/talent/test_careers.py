"""Career paths on SQLite and PostgreSQL: next-role links between role profiles and a person's gap to each
next role, with readiness computed by hand.

The framework is tests/support/competencies.py's (Adele's job title makes her a Senior engineer); Alex
manages Adele, Patti is in no one's line here, Megan is HR.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from domain import competencies
from domain.competency_views import RequirementInput, StepKind
from domain.errors import Forbidden, Invalid, NotFound
from domain.talent import careers
from storage.models import CareerStep
from tests.support.competencies import NOW, Framework, build_framework


@pytest.fixture
async def fw(session, cast) -> Framework:
    return await build_framework(session, cast.megan)


async def steps(session) -> int:
    return await session.scalar(select(func.count()).select_from(CareerStep))


async def step(session, actor, origin, target, kind="ladder"):
    return await careers.add_career_step(
        session, actor=actor, from_profile_id=origin.id, to_profile_id=target.id, kind=kind
    )


async def test_hr_links_role_profiles_and_the_framework_shows_the_steps(session, cast, fw) -> None:
    up = await step(session, cast.megan, fw.senior, fw.staff)
    across = await step(session, cast.megan, fw.senior, fw.manager, StepKind.LATERAL)
    assert (up.from_name, up.to_name, up.kind) == ("Senior engineer", "Staff engineer", StepKind.LADDER)
    assert across.kind is StepKind.LATERAL
    framework = await competencies.list_framework(session, actor=cast.adele)
    assert [(s.from_name, s.to_name, s.kind) for s in framework.steps] == [
        ("Senior engineer", "Staff engineer", StepKind.LADDER),
        ("Senior engineer", "Engineering manager", StepKind.LATERAL),
    ]
    await careers.remove_career_step(
        session, actor=cast.megan, from_profile_id=fw.senior.id, to_profile_id=fw.manager.id
    )
    assert await steps(session) == 1
    with pytest.raises(NotFound, match="That career step does not exist"):
        await careers.remove_career_step(
            session, actor=cast.megan, from_profile_id=fw.senior.id, to_profile_id=fw.manager.id
        )


async def test_only_hr_draws_career_steps(session, cast, fw) -> None:
    await step(session, cast.megan, fw.senior, fw.staff)
    for who in (cast.alex, cast.adele):
        with pytest.raises(Forbidden):
            await step(session, who, fw.senior, fw.manager)
        with pytest.raises(Forbidden):
            await careers.remove_career_step(
                session, actor=who, from_profile_id=fw.senior.id, to_profile_id=fw.staff.id
            )
    assert await steps(session) == 1


async def test_bad_career_steps_are_refused_with_nothing_written(session, cast, fw) -> None:
    await step(session, cast.megan, fw.senior, fw.staff)
    await step(session, cast.megan, fw.staff, fw.manager)
    with pytest.raises(Invalid, match="“Senior engineer” can't lead to itself"):
        await step(session, cast.megan, fw.senior, fw.senior)
    with pytest.raises(
        Invalid, match=r"“Senior engineer” already leads to “Staff engineer” \(next step up\)"
    ):
        await step(session, cast.megan, fw.senior, fw.staff, "lateral")
    # Manager → Senior would close the ladder Senior → Staff → Manager: a loop.
    with pytest.raises(Invalid) as loop:
        await step(session, cast.megan, fw.manager, fw.senior)
    assert loop.value.message == (
        "“Senior engineer” already leads up to “Engineering manager”: a step up from “Engineering manager” "
        "to “Senior engineer” would make the ladder loop. Make it a lateral move instead."
    )
    with pytest.raises(Invalid, match="already leads up to"):
        await step(session, cast.megan, fw.staff, fw.senior)
    with pytest.raises(Invalid, match="“sideways” is not a kind of career step"):
        await step(session, cast.megan, fw.manager, fw.senior, "sideways")
    with pytest.raises(NotFound, match="That role profile does not exist"):
        await careers.add_career_step(
            session, actor=cast.megan, from_profile_id=10**9, to_profile_id=fw.staff.id, kind="ladder"
        )
    with pytest.raises(NotFound):
        await careers.add_career_step(
            session, actor=cast.megan, from_profile_id=fw.staff.id, to_profile_id=10**9, kind="ladder"
        )
    assert await steps(session) == 2
    # A lateral move back is no loop.
    await step(session, cast.megan, fw.manager, fw.senior, "lateral")
    assert await steps(session) == 3


async def test_career_options_show_the_gap_to_each_next_role_ladder_first_then_readiest(
    session, cast, fw
) -> None:
    lead = await competencies.create_role_profile(
        session,
        actor=cast.megan,
        name="Tech lead",
        requirements=[RequirementInput(fw.communication.id, 4)],
    )
    empty = await competencies.create_role_profile(session, actor=cast.megan, name="Principal engineer")
    await step(session, cast.megan, fw.senior, fw.manager, "lateral")
    await step(session, cast.megan, fw.senior, fw.staff)
    await step(session, cast.megan, fw.senior, empty)
    await step(session, cast.megan, fw.senior, lead)
    await step(session, cast.megan, fw.staff, fw.manager)  # not from Adele's role: not hers
    for competency, level, on in (
        (fw.communication, 2, date(2026, 1, 10)),
        (fw.communication, 4, date(2026, 2, 20)),
        (fw.delivery, 3, date(2026, 1, 15)),
    ):
        await competencies.assess(
            session,
            actor=cast.alex,
            person_id=cast.adele.person_id,
            competency_id=competency.id,
            level=level,
            on=on,
            now=NOW,
        )

    path = await careers.career_options(session, actor=cast.adele, person_id=cast.adele.person_id)
    assert path.current is not None
    assert (path.current.role_profile_name, str(path.current.readiness)) == ("Senior engineer", "68.8")
    # Tech lead: Communication 4 of 4 → 100 %; Staff: (1·4/4 + 2·3/4 + 1·0) / 4 = 62.5 %; Principal expects
    # nothing (no readiness, after those that have one); Engineering manager, lateral: (3·0 + 1·1) / 4 = 25 %.
    assert [
        (o.kind, o.name, None if o.gap.readiness is None else str(o.gap.readiness)) for o in path.options
    ] == [
        (StepKind.LADDER, "Tech lead", "100.0"),
        (StepKind.LADDER, "Staff engineer", "62.5"),
        (StepKind.LADDER, "Principal engineer", None),
        (StepKind.LATERAL, "Engineering manager", "25.0"),
    ]
    staff = path.options[1].gap
    assert not staff.current
    assert [(x.competency_name, x.expected_level, x.assessed_level, x.gap) for x in staff.lines] == [
        ("Communication", 4, 4, 0),
        ("Delivery", 4, 3, 1),
        ("Coaching", 3, None, None),
    ]
    # The manager line and HR see the same.
    assert await careers.career_options(session, actor=cast.alex, person_id=cast.adele.person_id) == path
    assert await careers.career_options(session, actor=cast.megan, person_id=cast.adele.person_id) == path


async def test_career_options_are_the_persons_their_lines_and_hrs_only(session, cast, fw) -> None:
    with pytest.raises(Forbidden):
        await careers.career_options(session, actor=cast.patti, person_id=cast.adele.person_id)
    with pytest.raises(Forbidden):
        await careers.career_options(session, actor=cast.isaiah, person_id=cast.adele.person_id)
    with pytest.raises(NotFound):
        await careers.career_options(session, actor=cast.megan, person_id=10**9)
    # Someone without a role profile has no path yet.
    none = await careers.career_options(session, actor=cast.patti, person_id=cast.patti.person_id)
    assert (none.current, none.options) == (None, ())
