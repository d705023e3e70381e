"""Who may see and do what: the rules as a matrix, then the loaders against the demo organization."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from domain.access import (
    WHOLE_ORGANIZATION,
    Actor,
    Relation,
    Role,
    audit,
    audited_improvement_plan_read,
    load_actor,
    manager_chain,
    may_acknowledge_improvement_plan,
    may_acknowledge_review,
    may_administer,
    may_calibrate,
    may_identify_reviewers,
    may_manage,
    may_manage_improvement_plan,
    may_manage_reviews,
    may_nominate_peers,
    may_view_directory,
    may_view_improvement_plan,
    may_view_performance,
    may_view_review_results,
    may_view_review_status,
    may_view_talent,
    may_write_review,
    relation_to,
    require,
)
from domain.errors import Forbidden, NotFound
from storage import demo
from storage.models import AuditEntry, Person, RoleGrant

SUBJECT_DEPARTMENT = "Engineering"


def actor(*roles: Role, scope: tuple[str, ...] = (), department: str = SUBJECT_DEPARTMENT) -> Actor:
    return Actor(
        person_id=100,
        display_name="Someone",
        tenant_id="t",
        department=department,
        roles=frozenset({Role.EMPLOYEE, *roles}),
        talent_scope=frozenset(scope),
    )


ACTORS = {
    "employee": actor(),
    "direct manager": actor(Role.MANAGER),
    "skip-level manager": actor(Role.MANAGER),
    "manager of someone else": actor(Role.MANAGER),
    "HR admin": actor(Role.HR_ADMIN),
    "talent reviewer, whole org": actor(Role.TALENT_REVIEWER, scope=(WHOLE_ORGANIZATION,)),
    "talent reviewer, other department": actor(Role.TALENT_REVIEWER, scope=("Sales",)),
    "talent reviewer, subject's department": actor(Role.TALENT_REVIEWER, scope=(SUBJECT_DEPARTMENT,)),
    "HR admin and talent reviewer": actor(Role.HR_ADMIN, Role.TALENT_REVIEWER, scope=(WHOLE_ORGANIZATION,)),
}


def relation(kind: str, who: Actor) -> Relation:
    if kind == "self":
        return Relation.to_self(who)
    return Relation(is_self=False, in_line=kind == "in line", subject_department=SUBJECT_DEPARTMENT)


# Columns: directory, performance, manage, talent (closed to the line), talent (opened to the line).
# Written out by hand from PRODUCT.md, not derived from the code under test.
T, F = True, False
MATRIX = [
    # actor                                   relation        dir perf mng  tal  tal-open
    ("employee", "self", (T, T, F, F, F)),
    ("employee", "not in line", (T, F, F, F, F)),
    ("employee", "in line", (T, T, T, F, T)),
    ("direct manager", "self", (T, T, F, F, F)),
    ("direct manager", "in line", (T, T, T, F, T)),
    ("direct manager", "not in line", (T, F, F, F, F)),
    ("skip-level manager", "self", (T, T, F, F, F)),
    ("skip-level manager", "in line", (T, T, T, F, T)),
    ("skip-level manager", "not in line", (T, F, F, F, F)),
    ("manager of someone else", "self", (T, T, F, F, F)),
    ("manager of someone else", "in line", (T, T, T, F, T)),
    ("manager of someone else", "not in line", (T, F, F, F, F)),
    ("HR admin", "self", (T, T, F, F, F)),
    ("HR admin", "in line", (T, T, T, T, T)),
    ("HR admin", "not in line", (T, T, T, T, T)),
    ("talent reviewer, whole org", "self", (T, T, F, F, F)),
    ("talent reviewer, whole org", "in line", (T, T, T, T, T)),
    ("talent reviewer, whole org", "not in line", (T, F, F, T, T)),
    ("talent reviewer, other department", "self", (T, T, F, F, F)),
    ("talent reviewer, other department", "in line", (T, T, T, F, T)),
    ("talent reviewer, other department", "not in line", (T, F, F, F, F)),
    ("talent reviewer, subject's department", "self", (T, T, F, F, F)),
    ("talent reviewer, subject's department", "in line", (T, T, T, T, T)),
    ("talent reviewer, subject's department", "not in line", (T, F, F, T, T)),
    ("HR admin and talent reviewer", "self", (T, T, F, F, F)),
    ("HR admin and talent reviewer", "not in line", (T, T, T, T, T)),
]


@pytest.mark.parametrize(
    ("who", "kind", "expected"), [pytest.param(*row, id=f"{row[0]} / {row[1]}") for row in MATRIX]
)
def test_access_matrix(who: str, kind: str, expected: tuple[bool, ...]) -> None:
    subject_actor = ACTORS[who]
    rel = relation(kind, subject_actor)

    got = (
        may_view_directory(subject_actor, rel),
        may_view_performance(subject_actor, rel),
        may_manage(subject_actor, rel),
        may_view_talent(subject_actor, rel),
        may_view_talent(subject_actor, rel, opened_to_line=True),
    )

    names = ("directory", "performance", "manage", "talent", "talent opened to line")
    wrong = [f"{n}: got {g}, want {e}" for n, g, e in zip(names, got, expected, strict=True) if g != e]
    assert not wrong, f"{who} / {kind}: " + "; ".join(wrong)


@pytest.mark.parametrize("who", list(ACTORS))
def test_nobody_ever_sees_their_own_talent_data(who: str) -> None:
    me = ACTORS[who]
    assert may_view_talent(me, Relation.to_self(me)) is False
    assert may_view_talent(me, Relation.to_self(me), opened_to_line=True) is False


@pytest.mark.parametrize("who", list(ACTORS))
def test_nobody_manages_themselves(who: str) -> None:
    me = ACTORS[who]
    assert may_manage(me, Relation.to_self(me)) is False


@pytest.mark.parametrize(("who", "allowed"), [(who, "HR admin" in who) for who in ACTORS])
def test_only_hr_administers(who: str, allowed: bool) -> None:
    assert may_administer(ACTORS[who]) is allowed


def test_a_scoped_reviewer_does_not_see_people_without_a_department() -> None:
    rel = Relation(is_self=False, in_line=False, subject_department=None)
    assert may_view_talent(ACTORS["talent reviewer, subject's department"], rel) is False
    assert may_view_talent(ACTORS["talent reviewer, whole org"], rel) is True


def test_require_raises_forbidden_with_a_readable_sentence() -> None:
    require(True, "this review")
    with pytest.raises(Forbidden) as raised:
        require(False, "this review")
    assert raised.value.message == "You don't have access to this review."


# --- with the store (demo organization, both backends) -------------------------------------------------

with_demo_org = pytest.mark.usefixtures("demo_org")


async def person_id(session, aad_object_id: str) -> int:
    found = await session.scalar(select(Person.id).where(Person.aad_object_id == aad_object_id))
    assert found is not None, aad_object_id
    return found


async def ceo_id(session) -> int:
    return await session.scalar(select(Person.id).where(Person.manager_id.is_(None)))


@with_demo_org
async def test_load_actor_gives_each_demo_persona_their_roles(session) -> None:
    alex = await load_actor(session, await person_id(session, demo.ALEX.aad_object_id))
    adele = await load_actor(session, await person_id(session, demo.ADELE.aad_object_id))
    megan = await load_actor(session, await person_id(session, demo.MEGAN.aad_object_id))

    assert alex.roles == {Role.EMPLOYEE, Role.MANAGER}
    assert alex.display_name == "Alex Wilber" and alex.department == "Engineering"
    assert alex.tenant_id == demo.DEMO_TENANT_ID
    assert adele.roles == {Role.EMPLOYEE}
    assert adele.talent_scope == frozenset()
    assert {Role.HR_ADMIN, Role.TALENT_REVIEWER} <= megan.roles
    assert megan.talent_scope == {WHOLE_ORGANIZATION}
    assert may_administer(megan) and not may_administer(alex)


@with_demo_org
async def test_a_department_scoped_grant_becomes_the_reviewers_scope(session) -> None:
    patti = await person_id(session, demo.PATTI.aad_object_id)
    session.add(RoleGrant(person_id=patti, role=Role.TALENT_REVIEWER, scope_department="Sales"))
    await session.flush()

    reviewer = await load_actor(session, patti)
    adele = await person_id(session, demo.ADELE.aad_object_id)
    rel = await relation_to(session, reviewer, adele)

    assert reviewer.talent_scope == {"Sales"}
    assert may_view_talent(reviewer, rel) is False, "Adele is in Engineering"


@with_demo_org
async def test_relation_follows_the_reporting_line_up_not_down(session) -> None:
    alex_id = await person_id(session, demo.ALEX.aad_object_id)
    adele_id = await person_id(session, demo.ADELE.aad_object_id)
    lynne_id = await person_id(session, demo.LYNNE.aad_object_id)
    megan_id = await person_id(session, demo.MEGAN.aad_object_id)
    alex, adele = await load_actor(session, alex_id), await load_actor(session, adele_id)
    lynne, megan = await load_actor(session, lynne_id), await load_actor(session, megan_id)
    ceo = await load_actor(session, await ceo_id(session))

    down = await relation_to(session, alex, adele_id)
    up = await relation_to(session, adele, alex_id)

    assert (down.is_self, down.in_line, down.subject_department) == (False, True, "Engineering")
    assert (up.is_self, up.in_line) == (False, False)
    assert (await relation_to(session, lynne, adele_id)).in_line, "a skip-level manager is in line"
    assert (await relation_to(session, ceo, adele_id)).in_line
    assert not (await relation_to(session, megan, adele_id)).in_line, "HR's VP is not in Engineering's line"
    mine = await relation_to(session, adele, adele_id)
    assert (mine.is_self, mine.in_line) == (True, False)
    # The whole path, as a service would use it.
    assert may_manage(alex, down) and not may_manage(adele, up)
    assert not may_view_talent(adele, mine) and not may_view_talent(
        megan, await relation_to(session, megan, megan_id)
    )


@with_demo_org
async def test_manager_chain_is_nearest_first_up_to_the_ceo(session) -> None:
    adele = await person_id(session, demo.ADELE.aad_object_id)
    alex = await person_id(session, demo.ALEX.aad_object_id)
    lynne = await person_id(session, demo.LYNNE.aad_object_id)
    ceo = await ceo_id(session)

    assert await manager_chain(session, adele) == [alex, lynne, ceo]
    assert await manager_chain(session, alex) == [lynne, ceo]
    assert await manager_chain(session, ceo) == []


@with_demo_org
async def test_an_inactive_person_cannot_act(session) -> None:
    adele = await person_id(session, demo.ADELE.aad_object_id)
    await session.execute(update(Person).where(Person.id == adele).values(active=False))

    with pytest.raises(NotFound):
        await load_actor(session, adele)
    with pytest.raises(NotFound):
        await load_actor(session, 10_000_000)


@with_demo_org
async def test_a_manager_whose_reports_all_left_is_no_longer_a_manager(session) -> None:
    alex = await person_id(session, demo.ALEX.aad_object_id)
    await session.execute(update(Person).where(Person.manager_id == alex).values(active=False))

    assert Role.MANAGER not in (await load_actor(session, alex)).roles


@with_demo_org
async def test_relation_to_someone_unknown_is_not_found(session) -> None:
    alex = await load_actor(session, await person_id(session, demo.ALEX.aad_object_id))
    with pytest.raises(NotFound):
        await relation_to(session, alex, 10_000_000)


@with_demo_org
async def test_audit_writes_an_entry(session) -> None:
    megan = await load_actor(session, await person_id(session, demo.MEGAN.aad_object_id))
    adele = await person_id(session, demo.ADELE.aad_object_id)

    await audit(session, megan, action="view_talent", subject_type="person", subject_id=adele, tab="9-box")
    await session.flush()

    entries = (await session.scalars(select(AuditEntry))).all()
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.actor_id, entry.action, entry.subject_type, entry.subject_id) == (
        megan.person_id,
        "view_talent",
        "person",
        adele,
    )
    assert entry.detail == {"tab": "9-box"}
    assert entry.at is not None and entry.at.tzinfo is not None


# --- performance reviews -----------------------------------------------------------------------------------
# Columns: results before release, results once released, statuses, nominate peers, who wrote the anonymous
# reviews, calibrate, acknowledge, run cycles. Written out by hand from PRODUCT.md and the issue.
REVIEW_ACTORS = {
    "employee": actor(),
    "manager": actor(Role.MANAGER),
    "manager's manager": actor(Role.MANAGER),
    "peer": actor(),
    "HR admin": actor(Role.HR_ADMIN),
    "calibration lead": actor(Role.TALENT_REVIEWER, scope=(SUBJECT_DEPARTMENT,)),
    "calibration lead elsewhere": actor(Role.TALENT_REVIEWER, scope=("Sales",)),
}
REVIEW_MATRIX = [
    # actor                         relation        pre  rel  stat nom  who  cal  ack  run
    ("employee", "self", (F, T, T, T, F, F, T, F)),
    ("manager", "in line", (T, T, T, T, F, F, F, F)),
    ("manager's manager", "in line", (T, T, T, T, F, F, F, F)),
    ("peer", "not in line", (F, F, F, F, F, F, F, F)),
    ("HR admin", "not in line", (T, T, T, T, T, T, F, T)),
    ("HR admin", "self", (F, T, T, T, F, F, T, T)),
    ("calibration lead", "not in line", (F, F, F, F, F, T, F, F)),
    ("calibration lead", "self", (F, T, T, T, F, F, T, F)),
    ("calibration lead elsewhere", "not in line", (F, F, F, F, F, F, F, F)),
]


@pytest.mark.parametrize(
    ("who", "kind", "expected"), [pytest.param(*row, id=f"{row[0]} / {row[1]}") for row in REVIEW_MATRIX]
)
def test_review_access_matrix(who: str, kind: str, expected: tuple[bool, ...]) -> None:
    subject_actor = REVIEW_ACTORS[who]
    rel = relation(kind, subject_actor)

    got = (
        may_view_review_results(subject_actor, rel, released=False),
        may_view_review_results(subject_actor, rel, released=True),
        may_view_review_status(subject_actor, rel),
        may_nominate_peers(subject_actor, rel),
        may_identify_reviewers(subject_actor, rel),
        may_calibrate(subject_actor, department=rel.subject_department, is_self=rel.is_self),
        may_acknowledge_review(subject_actor, rel),
        may_manage_reviews(subject_actor),
    )

    names = (
        "results before release",
        "released results",
        "status",
        "nominate",
        "who",
        "calibrate",
        "ack",
        "run",
    )
    wrong = [f"{n}: got {g}, want {e}" for n, g, e in zip(names, got, expected, strict=True) if g != e]
    assert not wrong, f"{who} / {kind}: " + "; ".join(wrong)


def test_only_its_reviewer_writes_a_review_not_even_hr() -> None:
    assert may_write_review(actor(), reviewer_id=100)
    assert not may_write_review(actor(Role.HR_ADMIN), reviewer_id=101)
    assert not may_write_review(actor(Role.MANAGER), reviewer_id=101)


# --- performance improvement plans -------------------------------------------------------------------------
# Columns: see a draft, see a shared plan, manage (open, share, record), acknowledge, the read is audited.
# Written out by hand from PRODUCT.md and the issue: the employee (never a draft), their line and HR only.
PLAN_ACTORS = {
    "employee": actor(),
    "manager": actor(Role.MANAGER),
    "skip-level manager": actor(Role.MANAGER),
    "peer": actor(),
    "manager elsewhere": actor(Role.MANAGER),
    "HR admin": actor(Role.HR_ADMIN),
    "talent reviewer, whole org": actor(Role.TALENT_REVIEWER, scope=(WHOLE_ORGANIZATION,)),
}
PLAN_MATRIX = [
    # actor                         relation        draft shared manage ack  audited
    ("employee", "self", (F, T, F, T, F)),
    ("manager", "in line", (T, T, T, F, F)),
    ("skip-level manager", "in line", (T, T, T, F, F)),
    ("peer", "not in line", (F, F, F, F, F)),
    ("manager elsewhere", "not in line", (F, F, F, F, F)),
    ("HR admin", "not in line", (T, T, T, F, T)),
    ("HR admin", "in line", (T, T, T, F, F)),
    ("HR admin", "self", (F, T, F, T, F)),
    ("talent reviewer, whole org", "not in line", (F, F, F, F, F)),
]


@pytest.mark.parametrize(
    ("who", "kind", "expected"), [pytest.param(*row, id=f"{row[0]} / {row[1]}") for row in PLAN_MATRIX]
)
def test_improvement_plan_access_matrix(who: str, kind: str, expected: tuple[bool, ...]) -> None:
    subject_actor = PLAN_ACTORS[who]
    rel = relation(kind, subject_actor)

    got = (
        may_view_improvement_plan(subject_actor, rel, draft=True),
        may_view_improvement_plan(subject_actor, rel, draft=False),
        may_manage_improvement_plan(subject_actor, rel),
        may_acknowledge_improvement_plan(subject_actor, rel),
        audited_improvement_plan_read(subject_actor, rel) == "improvement_plan.read",
    )

    names = ("draft", "shared", "manage", "ack", "audited")
    wrong = [f"{n}: got {g}, want {e}" for n, g, e in zip(names, got, expected, strict=True) if g != e]
    assert not wrong, f"{who} / {kind}: " + "; ".join(wrong)
