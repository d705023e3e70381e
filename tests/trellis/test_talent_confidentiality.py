"""Talent data about Adele Vance, walked through every route, card verb and tab as Adele.

A closed performance cycle reviewed Adele and Isaiah. Then the talent processes discuss her: Alex rates her
potential, risk and impact of loss with a note; Megan calibrates her into another box with a reason and
finalizes the talent review; Alex's position becomes critical with Adele its ready-now emergency
successor, with notes; she joins a talent pool; the bridge suggests she is a flight risk and HR accepts
it. Rather than guess where any of it could leak, the test compares worlds: everything Adele reads (every
bot command, every card verb pressed with every id that matters, every tab GET route with every id and
person filter) is byte-identical (after normalizing per-request tokens) with the discussion and without
it (deleted again), no chat message reaches her, and none of the words typed about her appears anywhere
she reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import delete, func, select, update

from domain import insights, signals
from domain.performance.review_views import Phase
from domain.signal_views import SignalKind
from domain.talent import pools, succession, talent_reviews
from storage import demo
from storage.models import (
    OutboxMessage,
    Position,
    ReviewParticipant,
    Successor,
    SuggestionDecision,
    TalentPool,
    TalentReview,
    TalentReviewEntry,
    TalentReviewMove,
)
from storage.uow import unit_of_work
from tests.support.reviews import Deadlines, actor, advance, launch_cycle, person_id
from tests.support.teams import TeamsClient, TeamsUser
from tests.support.walk import everything_read
from tests.tabs.conftest import browser_like_jar, dev_sign_in

pytestmark = pytest.mark.usefixtures("demo_org")

LAUNCHED = datetime(2026, 3, 2, 9, tzinfo=UTC)
NOW = datetime(2026, 4, 20, 9, tzinfo=UTC)
DEADLINES = Deadlines(date(2026, 4, 3), date(2026, 4, 10), date(2026, 4, 14), date(2026, 4, 17))
RATING_NOTE = "Adele interviews elsewhere, keep close"
MOVE_REASON = "Adele carried the migration alone"
SLATE_NOTE = "Adele could take over from Alex next spring"
POOL = "Future engineering leaders"
RISK_REASON = "Adele was approached by a competitor"
SECRETS = (RATING_NOTE, MOVE_REASON, SLATE_NOTE, POOL, RISK_REASON)


@pytest.fixture
def people(teams: TeamsClient) -> dict[str, TeamsUser]:
    return {
        p.key: teams.user(aad_object_id=p.aad_object_id, name=p.display_name)
        for p in (demo.ADELE, demo.ALEX, demo.ISAIAH, demo.MEGAN)
    }


@pytest_asyncio.fixture
async def tab(trellis) -> AsyncIterator[aiohttp.ClientSession]:
    """Adele, signed in to the tabs of the same running Trellis."""
    async with aiohttp.ClientSession(
        trellis.base_url, cookie_jar=browser_like_jar(trellis.base_url)
    ) as client:
        await dev_sign_in(client, "employee")
        yield client


async def closed_cycle(sessions) -> int:
    """A cycle over Adele and Isaiah, closed, with final scores 4.6 and 3.2."""
    cycle = await launch_cycle(sessions, people=(demo.ADELE, demo.ISAIAH), deadlines=DEADLINES, now=LAUNCHED)
    for phase in (Phase.MANAGER_REVIEW, Phase.CALIBRATION, Phase.RELEASED, Phase.CLOSED):
        await advance(sessions, cycle.id, phase, NOW)
    for persona, score in ((demo.ADELE, 4.6), (demo.ISAIAH, 3.2)):
        pid = await person_id(sessions, persona)
        async with unit_of_work(sessions) as session:
            await session.execute(
                update(ReviewParticipant)
                .where(ReviewParticipant.cycle_id == cycle.id, ReviewParticipant.person_id == pid)
                .values(final_score=score, computed_score=score)
            )
    return cycle.id


async def discuss_adele(sessions, cycle_id: int) -> None:
    """Every talent process about Adele, through the services, as the people who run them."""
    adele_id = await person_id(sessions, demo.ADELE)
    isaiah_id = await person_id(sessions, demo.ISAIAH)
    async with unit_of_work(sessions) as session:
        megan, alex = await actor(session, demo.MEGAN), await actor(session, demo.ALEX)
        review = await talent_reviews.open_talent_review(
            session,
            actor=megan,
            name="2026 talent review",
            performance_cycle_id=cycle_id,
            medium_from="2.5",
            high_from="4",
            now=NOW,
        )
        for pid, level, note in ((adele_id, 3, RATING_NOTE), (isaiah_id, 2, None)):
            await talent_reviews.rate(
                session,
                actor=alex,
                talent_review_id=review.id,
                person_id=pid,
                ability=level,
                aspiration=level,
                engagement=level,
                risk_of_loss=3,
                impact_of_loss=3,
                notes=note,
                version=0,
                now=NOW,
            )
        # The bridge sees a flight risk in her (a high performer: no development plan, no feedback in 90
        # days, no move in two years), and HR accepts it: her risk of loss is set on her entry.
        [risk] = await signals.suggestions(
            session, actor=megan, today=NOW.date(), kinds=[SignalKind.FLIGHT_RISK], person_ids=[adele_id]
        )
        await insights.decide(
            session,
            actor=megan,
            kind=risk.kind,
            person_id=adele_id,
            target_key=risk.target_key,
            accept=True,
            reason=RISK_REASON,
            now=NOW,
        )
        await talent_reviews.start_calibration(session, actor=megan, talent_review_id=review.id, now=NOW)
        await talent_reviews.move(
            session,
            actor=megan,
            talent_review_id=review.id,
            person_id=adele_id,
            performance=3,
            potential=2,
            reason=MOVE_REASON,
            now=NOW,
        )
        await talent_reviews.finalize(session, actor=megan, talent_review_id=review.id, now=NOW)
        position_id = await session.scalar(select(Position.id).where(Position.incumbent_id == alex.person_id))
        await succession.set_critical(session, actor=megan, position_id=position_id, critical=True, now=NOW)
        await succession.nominate(
            session,
            actor=megan,
            position_id=position_id,
            person_id=adele_id,
            readiness="ready_now",
            months_to_ready=0,
            notes=SLATE_NOTE,
            emergency=True,
            now=NOW,
        )
        pool = await pools.create_pool(session, actor=megan, name=POOL, now=NOW)
        await pools.add_member(session, actor=megan, pool_id=pool.id, person_id=adele_id, now=NOW)


async def talent_ids(sessions) -> set[int]:
    """The ids of every talent row the discussion created (the walk tries each as a route or payload id)."""
    async with sessions() as session:
        found: set[int] = set()
        for model in (
            TalentReview,
            TalentReviewEntry,
            TalentReviewMove,
            Successor,
            TalentPool,
            SuggestionDecision,
        ):
            found |= set(await session.scalars(select(model.id)))
    return found


async def forget_discussion(sessions, positions: set[int]) -> None:
    """Back to the world before the talent processes discussed Adele (the audit log keeps its rows)."""
    async with unit_of_work(sessions) as session:
        for model in (TalentReview, Successor, TalentPool, SuggestionDecision):  # with their entries, moves…
            await session.execute(delete(model))
        await session.execute(update(Position).where(Position.id.in_(positions)).values(critical=False))


async def messages_to(sessions, pid: int) -> int:
    async with sessions() as session:
        return await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.person_id == pid)
        )


async def test_nothing_the_talent_processes_say_about_adele_reaches_her(
    trellis, sessions, people, tab
) -> None:
    adele = people["adele"]
    for user in people.values():
        await user.say("hi")
    cycle_id = await closed_cycle(sessions)
    ids = {p.key: await person_id(sessions, p) for p in (demo.ADELE, demo.ISAIAH, demo.ALEX, demo.MEGAN)}
    async with sessions() as session:
        alex_seats = select(Position.id).where(Position.incumbent_id == ids["alex"])
        positions = set(await session.scalars(alex_seats))
    sent_before = await messages_to(sessions, ids["adele"])

    # Discussed first, so the walk can try every id the discussion created; then the discussion is removed
    # again (the world before it) and the walk repeated with the same ids.
    await discuss_adele(sessions, cycle_id)
    created = await talent_ids(sessions)
    after = await everything_read(trellis, tab, adele, ids, verbs=True, extra_ids=positions | created)
    assert await messages_to(sessions, ids["adele"]) == sent_before, "no chat message about it reaches her"
    await forget_discussion(sessions, positions)
    before = await everything_read(trellis, tab, adele, ids, verbs=True, extra_ids=positions | created)

    changed = [key for key in before if before[key] != after.get(key)]
    assert changed == [], f"the talent processes changed what Adele reads: {changed}"
    leaked = [key for key, body in after.items() if any(secret in body for secret in SECRETS)]
    assert leaked == []
    walked = {key.split(" ")[0] for key in after}
    assert {"bot:", "verb:", "GET"} <= walked
    assert any(key.startswith("GET /tabs/talent/") for key in after), "the talent pages were walked"

    # The control: the same pages show all of it to HR, so the walk would have seen a leak.
    await discuss_adele(sessions, cycle_id)
    async with sessions() as session:
        review_id = await session.scalar(select(func.max(TalentReview.id)))
    async with aiohttp.ClientSession(trellis.base_url, cookie_jar=browser_like_jar(trellis.base_url)) as hr:
        await dev_sign_in(hr, "hr")
        async with hr.get(f"/tabs/talent/succession/{min(positions)}") as page:
            assert SLATE_NOTE in await page.text()
        async with hr.get(f"/tabs/talent/reviews/{review_id}") as page:
            assert MOVE_REASON in await page.text()
