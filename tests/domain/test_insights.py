"""Insights (domain/insights.py) on the hand-made organization of tests/support/insights_world.py, with
the real signals, on SQLite and PostgreSQL: the list with its counts and filters, accepting each kind of
suggestion (exactly its outcome and an audit entry), dismissing, and what is refused with nothing written
(a blank reason, a forged key, the person themselves, someone out of scope, a second submit); the open
suggestions beside people; the cache; the managers' monthly digest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from domain import insights
from domain.access import Actor, load_actor
from domain.errors import Forbidden, Invalid, NotFound
from domain.insight_views import LISTED_KINDS, DecisionView
from domain.signal_views import SignalKind, Suggestion
from storage.models import (
    AuditEntry,
    ConversationRef,
    DevelopmentAction,
    DevelopmentPlan,
    Feedback,
    Goal,
    OutboxMessage,
    Person,
    Successor,
    SuggestionDecision,
    TalentPoolMember,
    TalentReview,
    TalentReviewEntry,
)
from tests.support.insights_world import NOW, TODAY, InsightsWorld, build

K = SignalKind


@pytest.fixture
async def world(session) -> InsightsWorld:
    return await build(session)


async def actor(session, world: InsightsWorld, name: str) -> Actor:
    return await load_actor(session, world.ids[name])


async def count(session, model, *where) -> int:
    return await session.scalar(select(func.count()).select_from(model).where(*where))


async def audits(session, action: str) -> list[AuditEntry]:
    return list(await session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


async def suggestion(session, world, kind: SignalKind, person: str) -> Suggestion:
    hilda = await actor(session, world, "Hilda")
    view = await insights.insights(session, actor=hilda, today=TODAY, kind=kind)
    found = [s for g in view.groups for s in g.suggestions if s.person_id == world.ids[person]]
    assert found, f"no {kind} suggestion about {person}"
    return found[0]


async def decide(session, world, who: str, s: Suggestion, *, accept=True, reason="Agreed in the calibration"):
    return await insights.decide(
        session,
        actor=await actor(session, world, who),
        kind=s.kind,
        person_id=s.person_id,
        target_key=s.target_key,
        accept=accept,
        reason=reason,
        now=NOW,
    )


# --- the list --------------------------------------------------------------------------------------------


async def test_hr_sees_every_kind_counted_strongest_first_and_the_visit_is_audited(session, world):
    hilda = await actor(session, world, "Hilda")
    view = await insights.insights(session, actor=hilda, today=TODAY)
    counts = {c.kind: c.count for c in view.counts}
    assert set(counts) == set(LISTED_KINDS)  # one of each kind, at least
    assert view.total == sum(counts.values()) == sum(g.count for g in view.groups)
    scores = [s.score for g in view.groups for s in g.suggestions]
    for group in view.groups:
        assert [s.score for s in group.suggestions] == sorted(
            (s.score for s in group.suggestions), reverse=True
        )
    assert scores and all(0 <= x <= 1 for x in scores)
    assert "Product" in view.departments and "Engineering" in view.departments
    [entry] = await audits(session, insights.VIEW_ACTION)
    assert entry.actor_id == hilda.person_id


async def test_filters_by_kind_department_and_minimum_score(session, world):
    hilda = await actor(session, world, "Hilda")
    product = await insights.insights(session, actor=hilda, today=TODAY, department="Product")
    assert {s.person_id for g in product.groups for s in g.suggestions} == {world.ids["Sam"]}
    strong = await insights.insights(session, actor=hilda, today=TODAY, min_score="0.85")
    assert all(s.score >= 0.85 for g in strong.groups for s in g.suggestions)
    assert strong.total < (await insights.insights(session, actor=hilda, today=TODAY)).total
    one = await insights.insights(session, actor=hilda, today=TODAY, kind="career_path")
    assert [g.kind for g in one.groups] == [K.CAREER_PATH]
    assert len(one.counts) > 1  # the counts still cover every kind, to switch between them


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("kind", {"kind": "rating_bias"}),
        ("kind", {"kind": "nonsense"}),
        ("min_score", {"min_score": "1.5"}),
        ("min_score", {"min_score": "high"}),
        ("page", {"page": "0"}),
        ("department", {"department": "x" * 201}),
    ],
)
async def test_bad_filters_name_their_field(session, world, field, values):
    hilda = await actor(session, world, "Hilda")
    with pytest.raises(insights.FieldInvalid) as refused:
        await insights.insights(session, actor=hilda, today=TODAY, **values)
    assert refused.value.field == field
    typed = {"kind": None, "department": None, "min_score": None, "page": None} | values
    assert set(insights.filter_problems(**typed)) == {field}


async def test_a_talent_reviewer_sees_their_scope_and_never_themselves(session, world):
    cleo = await actor(session, world, "Cleo")
    view = await insights.insights(session, actor=cleo, today=TODAY)
    people = {s.person_id for g in view.groups for s in g.suggestions}
    assert world.ids["Cleo"] not in people  # her own cross-functional suggestion
    assert world.ids["Sam"] not in people  # Product: out of her scope
    assert world.ids["Pia"] in people
    assert K.CROSS_FUNCTIONAL not in {c.kind for c in view.counts}


async def test_employees_and_managers_are_refused(session, world):
    for name in ("Pia", "Manny"):
        with pytest.raises(Forbidden):
            await insights.insights(session, actor=await actor(session, world, name), today=TODAY)
    assert await audits(session, insights.VIEW_ACTION) == []


# --- accepting: exactly the outcome --------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    kind: SignalKind
    person: str
    prefix: str | None  # the outcome's kind, None when the decision stands alone


CASES = [
    Case(K.SUCCESSION_CANDIDATE, "Sam", "successor"),
    Case(K.DEVELOPMENT_PROGRAM, "Dan", "pool_member"),
    Case(K.CAREER_PATH, "Cara", "development_action"),
    Case(K.CROSS_FUNCTIONAL, "Cleo", "development_action"),
    Case(K.DEVELOPMENT_OBJECTIVE, "Olga", "goal"),
    Case(K.PROMOTION_READINESS, "Pia", "talent_entry"),
    Case(K.HIGH_POTENTIAL, "Hana", "talent_entry"),
    Case(K.FLIGHT_RISK, "Hugo", "talent_entry"),
]


async def snapshot(session) -> dict[str, int]:
    return {
        "successors": await count(session, Successor),
        "members": await count(session, TalentPoolMember),
        "actions": await count(session, DevelopmentAction),
        "goals": await count(session, Goal),
        "decisions": await count(session, SuggestionDecision),
    }


async def entry(session, world, name: str) -> TalentReviewEntry:
    found = await session.scalar(
        select(TalentReviewEntry)
        .where(TalentReviewEntry.id == world.ids[f"{name} entry"])
        .execution_options(populate_existing=True)
    )
    assert found is not None
    return found


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.kind.value)
async def test_accepting_creates_exactly_what_the_suggestion_proposes(session, world, case: Case):
    s = await suggestion(session, world, case.kind, case.person)  # Sam: Director of Product, his strongest
    before = await snapshot(session)
    entries_before = {n: (await entry(session, world, n)).version for n in ("Pia", "Hana", "Hugo")}
    view = await decide(session, world, "Hilda", s)

    assert view.accepted and not view.already and view.status == "accepted"
    assert view.reason == "Agreed in the calibration"
    assert view.outcome is not None and view.outcome.split(":")[0] == case.prefix
    outcome_id = int(view.outcome.split(":")[1])
    after = await snapshot(session)
    changed = {k for k in after if after[k] != before[k]}
    expected = {
        "successor": {"successors"},
        "pool_member": {"members"},
        "development_action": {"actions"},
        "goal": {"goals"},
        "talent_entry": set(),
    }[case.prefix]
    assert changed == expected | {"decisions"}
    assert after["decisions"] == before["decisions"] + 1
    for key in changed - {"decisions"}:
        assert after[key] == before[key] + 1

    person = world.ids[case.person]
    if case.prefix == "successor":
        row = await session.get(Successor, outcome_id)
        assert (row.person_id, row.position_id, row.readiness) == (
            person,
            world.ids["Director of Product"],
            "1_2_years",
        )
        assert "Agreed in the calibration" in row.notes
    elif case.prefix == "pool_member":
        assert view.outcome == f"pool_member:{world.ids['Future leaders']}:{person}"
    elif case.prefix == "development_action":
        row = await session.get(DevelopmentAction, outcome_id)
        plan = await session.get(DevelopmentPlan, row.plan_id)
        assert plan.person_id == person
        assert row.kind == ("stretch" if case.kind is K.CAREER_PATH else "project")
        assert row.due_on == TODAY + timedelta(days=90)
        assert row.source == "talent_review"
        if case.kind is K.CAREER_PATH:
            assert row.title == "Stretch assignment toward Senior Engineer"
        # The person reads their plan: the action carries neither the suggestion nor the reason.
        assert "Agreed" not in (row.title + (row.description or ""))
    elif case.prefix == "goal":
        row = await session.get(Goal, outcome_id)
        assert (row.owner_person_id, row.kind, row.visibility) == (person, "development", "private")
        assert row.title == "Grow in Leading people"  # never the position it came from
    else:
        changed_entry = await entry(session, world, case.person)
        assert view.outcome == f"talent_entry:{changed_entry.id}"
        assert changed_entry.version == entries_before[case.person] + 1
        if case.kind is K.FLIGHT_RISK:
            assert changed_entry.risk_of_loss == 3
            assert changed_entry.notes is None
        else:
            assert changed_entry.risk_of_loss is None
            assert "Agreed in the calibration" in changed_entry.notes
            assert "suggested by Trellis insights" in changed_entry.notes
            if case.person == "Pia":
                assert changed_entry.notes.startswith("Rated in May.\n\n")
        others = {n for n in entries_before if n != case.person}
        assert {n: (await entry(session, world, n)).version for n in others} == {
            n: entries_before[n] for n in others
        }

    stored = await session.scalar(select(SuggestionDecision).where(SuggestionDecision.id == view.id))
    assert (stored.kind, stored.person_id, stored.target_key, stored.status) == (
        case.kind.value,
        person,
        s.target_key,
        "accepted",
    )
    assert stored.decided_by_id == world.ids["Hilda"] and stored.score == s.score
    assert len(stored.evidence) == len(s.evidence)
    [audit] = await audits(session, insights.ACCEPTED_ACTION)
    assert (audit.actor_id, audit.subject_type, audit.subject_id) == (world.ids["Hilda"], "person", person)
    assert audit.detail["kind"] == case.kind.value and audit.detail["target"] == s.target_key
    assert audit.detail["outcome"] == view.outcome
    # Decided: no longer listed.
    again = await insights.insights(session, actor=await actor(session, world, "Hilda"), today=TODAY)
    assert s.key not in {x.key for g in again.groups for x in g.suggestions}


async def test_accepting_without_a_talent_review_under_way_records_the_decision_alone(session, world):
    review = await session.get(TalentReview, world.ids["2026 talent review"])
    review.status = "finalized"
    await session.flush()
    s = await suggestion(session, world, K.PROMOTION_READINESS, "Pia")
    view = await decide(session, world, "Hilda", s)
    assert view.outcome is None and view.accepted
    assert "no talent review" in view.outcome_label
    assert (await entry(session, world, "Pia")).notes == "Rated in May."


async def test_a_rating_bias_flag_is_acknowledged_and_nothing_changes(session, world):
    before = await snapshot(session)
    view = await insights.decide(
        session,
        actor=await actor(session, world, "Hilda"),
        kind="rating_bias",
        person_id=world.ids["Lena"],
        target_key="lenient",
        accept=True,
        reason="Discussed with Lena",
        now=NOW,
    )
    assert (view.accepted, view.outcome, view.outcome_label) == (
        True,
        None,
        "Acknowledged: nothing was changed.",
    )
    assert await snapshot(session) == before | {"decisions": before["decisions"] + 1}
    with pytest.raises(NotFound):  # she is not flagged as severe
        await insights.decide(
            session,
            actor=await actor(session, world, "Hilda"),
            kind="rating_bias",
            person_id=world.ids["Lena"],
            target_key="severe",
            accept=True,
            reason="x",
            now=NOW,
        )


# --- dismissing, refusing, repeating ----------------------------------------------------------------------


async def test_dismissing_keeps_the_reason_and_creates_nothing(session, world):
    s = await suggestion(session, world, K.CAREER_PATH, "Cara")
    before = await snapshot(session)
    view = await decide(session, world, "Hilda", s, accept=False, reason="  Not this year  ")
    assert (view.accepted, view.status, view.outcome, view.reason) == (
        False,
        "dismissed",
        None,
        "Not this year",
    )
    assert await snapshot(session) == before | {"decisions": before["decisions"] + 1}
    [audit] = await audits(session, insights.DISMISSED_ACTION)
    assert audit.detail["kind"] == "career_path" and audit.subject_id == world.ids["Cara"]
    assert await audits(session, insights.ACCEPTED_ACTION) == []


@pytest.mark.parametrize("reason", ["", "   ", None, "x" * 2001])
async def test_a_blank_or_overlong_reason_is_refused_with_nothing_written(session, world, reason):
    s = await suggestion(session, world, K.SUCCESSION_CANDIDATE, "Sam")
    before = await snapshot(session)
    with pytest.raises(insights.FieldInvalid) as refused:
        await decide(session, world, "Hilda", s, reason=reason)
    assert refused.value.field == "reason"
    assert await snapshot(session) == before
    assert await audits(session, insights.ACCEPTED_ACTION) == []


@pytest.mark.parametrize(
    "forge",
    [
        lambda s, ids: {"target_key": "position:999999"},
        lambda s, ids: {"target_key": s.target_key + "0"},
        lambda s, ids: {"kind": "promotion_readiness"},
        lambda s, ids: {"kind": "nonsense"},
        lambda s, ids: {"person_id": ids["Pia"]},
        lambda s, ids: {"person_id": 10**9},
        lambda s, ids: {"target_key": "x" * 65},
    ],
)
async def test_a_forged_or_stale_key_is_not_found_and_nothing_is_written(session, world, forge: Callable):
    s = await suggestion(session, world, K.SUCCESSION_CANDIDATE, "Sam")
    before = await snapshot(session)
    values = {"kind": s.kind, "person_id": s.person_id, "target_key": s.target_key} | forge(s, world.ids)
    with pytest.raises(NotFound) as refused:
        await insights.decide(
            session,
            actor=await actor(session, world, "Hilda"),
            accept=True,
            reason="Looks right",
            now=NOW,
            **values,
        )
    assert refused.value.message == insights.NO_SUGGESTION
    assert await snapshot(session) == before
    assert await audits(session, insights.ACCEPTED_ACTION) == []


async def test_nobody_decides_about_themselves_nor_outside_their_scope(session, world):
    s = await suggestion(session, world, K.CROSS_FUNCTIONAL, "Cleo")
    before = await snapshot(session)
    with pytest.raises(Forbidden):
        await decide(session, world, "Cleo", s)  # a talent reviewer, about herself
    sam = await suggestion(session, world, K.SUCCESSION_CANDIDATE, "Sam")
    with pytest.raises(NotFound):
        await decide(session, world, "Cleo", sam)  # Product is outside her scope
    with pytest.raises(Forbidden):
        await decide(session, world, "Manny", await suggestion(session, world, K.PROMOTION_READINESS, "Pia"))
    assert await snapshot(session) == before


async def test_a_second_submit_gets_the_first_decision_and_writes_nothing(session, world):
    s = await suggestion(session, world, K.SUCCESSION_CANDIDATE, "Sam")
    first = await decide(session, world, "Hilda", s)
    middle = await snapshot(session)
    second = await decide(session, world, "Hilda", s)
    third = await decide(session, world, "Hilda", s, accept=False, reason="Changed my mind")
    assert second.already and third.already and not first.already
    assert first.id == second.id == third.id and third.accepted and third.outcome == first.outcome
    assert await snapshot(session) == middle
    assert len(await audits(session, insights.ACCEPTED_ACTION)) == 1
    assert await audits(session, insights.DISMISSED_ACTION) == []
    # Someone else, too, gets the decision as it stands.
    cleo_view = await insights.get_decision(
        session, actor=await actor(session, world, "Cleo"), decision_id=first.id
    )
    assert cleo_view is None  # Sam is outside her scope
    hilda_view = await insights.get_decision(
        session, actor=await actor(session, world, "Hilda"), decision_id=first.id
    )
    assert isinstance(hilda_view, DecisionView) and hilda_view.decided_by == "Hilda"


async def test_a_refused_outcome_writes_nothing(session, world):
    """A talent reviewer may see Cara's suggestion but not write her development plan: Forbidden, and
    neither the action nor the decision is kept."""
    s = await suggestion(session, world, K.CAREER_PATH, "Cara")
    before = await snapshot(session)
    with pytest.raises(Forbidden):
        await decide(session, world, "Cleo", s)
    assert await snapshot(session) == before
    # Invalid from the service (Sam is put on the slate meanwhile): nothing either.
    sam = await suggestion(session, world, K.SUCCESSION_CANDIDATE, "Sam")
    session.add(
        Successor(
            position_id=world.ids["Director of Product"], person_id=world.ids["Sam"], readiness="3_5_years"
        )
    )
    await session.flush()
    before = await snapshot(session)
    with pytest.raises((Invalid, NotFound)):
        await decide(session, world, "Hilda", sam)
    assert await snapshot(session) == before


# --- beside each person; the cache ------------------------------------------------------------------------


async def test_suggestions_by_person_groups_them_and_leaves_out_the_reader(session, world):
    cleo = await actor(session, world, "Cleo")
    ids = [world.ids[n] for n in ("Pia", "Hana", "Hugo", "Cleo", "Gia")]
    found = await insights.suggestions_by_person(session, actor=cleo, today=TODAY, person_ids=ids)
    assert set(found) == {world.ids["Pia"], world.ids["Hana"], world.ids["Hugo"]}
    assert found[world.ids["Hugo"]].kinds == (K.FLIGHT_RISK,)
    assert found[world.ids["Pia"]].label == "1 suggestion: Promotion readiness"
    assert len(await audits(session, insights.VIEW_ACTION)) == 1
    assert await insights.suggestions_by_person(session, actor=cleo, today=TODAY, person_ids=[]) == {}
    with pytest.raises(Forbidden):
        await insights.suggestions_by_person(
            session, actor=await actor(session, world, "Manny"), today=TODAY, person_ids=ids
        )


async def test_the_cache_drops_what_was_decided_and_expires(session, world):
    clock = [0.0]
    cache = insights.SuggestionCache(seconds=60, timer=lambda: clock[0])
    hilda = await actor(session, world, "Hilda")
    first = await insights.insights(session, actor=hilda, today=TODAY, cache=cache)
    s = await suggestion(session, world, K.CROSS_FUNCTIONAL, "Cleo")
    await decide(session, world, "Hilda", s, accept=False, reason="Not now")
    second = await insights.insights(session, actor=hilda, today=TODAY, cache=cache)
    assert second.total == first.total - 1
    # A change in the store shows once the entry expires: without one of his feedback items, Dan's
    # growth is no trend.
    await world.w.delete(Feedback, "Dan 3")
    cached = await insights.insights(session, actor=hilda, today=TODAY, cache=cache)
    assert cached.total == second.total
    clock[0] = 61
    fresh = await insights.insights(session, actor=hilda, today=TODAY, cache=cache)
    assert fresh.total == second.total - 1


# --- the managers' monthly digest -------------------------------------------------------------------------

# Wednesday 3 June 2026, 10:00 in UTC (everyone's zone here): in the digest's first week, in working hours.
DIGEST_AT = datetime(2026, 6, 3, 10, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")


async def chat(session, world, *names: str) -> None:
    for name in names:
        session.add(
            ConversationRef(
                person_id=world.ids[name],
                conversation_id=f"conv-{name}",
                service_url="https://smba.example/",
                bot_id="bot",
                user_id=f"user-{name}",
            )
        )
    await session.flush()


async def test_the_digest_tells_each_manager_about_their_line_only(session, world):
    await chat(session, world, "Manny", "Vera")
    plan = await insights.digest_plan(session, now=DIGEST_AT, default_zone=UTC_ZONE)
    by_manager = {n.digest.manager_id: n for n in plan.nudges}
    assert set(by_manager) == {world.ids["Manny"], world.ids["Vera"]}
    manny = by_manager[world.ids["Manny"]].digest
    assert {(i.person_name, i.kind) for i in manny.items} == {
        ("Pia", K.PROMOTION_READINESS),
        ("Dan", K.DEVELOPMENT_PROGRAM),
        ("Cara", K.CAREER_PATH),
    }
    assert manny.total == 3 and manny.people == 3 and manny.month == date(2026, 6, 1)
    assert by_manager[world.ids["Manny"]].key == f"insights.digest:{world.ids['Manny']}:2026-06"
    # Vera hears about Manny's line (below her), never about Manny himself.
    vera = by_manager[world.ids["Vera"]].digest
    assert {i.person_name for i in vera.items} == {"Pia", "Dan", "Cara"}
    cara = next(i for i in manny.items if i.kind is K.CAREER_PATH)
    assert cara.what.endswith("(Senior Engineer)")
    assert "development action" in cara.evidence and "role profile" not in cara.evidence
    # Not in the first week, or already sent this month: nothing.
    later = await insights.digest_plan(session, now=DIGEST_AT + timedelta(days=7), default_zone=UTC_ZONE)
    assert later.nudges == ()
    session.add(
        OutboxMessage(
            kind="insights.digest",
            person_id=world.ids["Manny"],
            payload={},
            dedupe_key=by_manager[world.ids["Manny"]].key,
            available_at=DIGEST_AT,
        )
    )
    await session.flush()
    again = await insights.digest_plan(session, now=DIGEST_AT, default_zone=UTC_ZONE)
    assert {n.digest.manager_id for n in again.nudges} == {world.ids["Vera"]} and again.already == 1


async def test_flight_risks_reach_the_line_only_where_hr_opened_the_review(session, world):
    hugo = world.ids["Hugo"]
    hugo_row = await session.get(Person, hugo)
    hugo_row.manager_id = world.ids["Manny"]
    await session.flush()
    await chat(session, world, "Manny")
    plan = await insights.digest_plan(session, now=DIGEST_AT, default_zone=UTC_ZONE)
    (manny,) = [n.digest for n in plan.nudges if n.digest.manager_id == world.ids["Manny"]]
    assert K.FLIGHT_RISK not in {i.kind for i in manny.items}
    review = await session.get(TalentReview, world.ids["2026 talent review"])
    review.opened_to_managers = True
    await session.flush()
    plan = await insights.digest_plan(session, now=DIGEST_AT, default_zone=UTC_ZONE)
    (manny,) = [n.digest for n in plan.nudges if n.digest.manager_id == world.ids["Manny"]]
    assert (hugo, K.FLIGHT_RISK) in {(i.person_id, i.kind) for i in manny.items}
    # High potential (Hana's kind) is never in a digest, opened or not.
    assert K.HIGH_POTENTIAL not in {c.kind for c in manny.counts}


async def test_managers_without_a_chat_or_outside_working_hours_wait(session, world):
    plan = await insights.digest_plan(session, now=DIGEST_AT, default_zone=UTC_ZONE)
    assert plan.nudges == () and world.ids["Manny"] in plan.no_chat
    await chat(session, world, "Manny")
    night = await insights.digest_plan(session, now=DIGEST_AT.replace(hour=22), default_zone=UTC_ZONE)
    assert night.nudges == () and night.waiting >= 1
