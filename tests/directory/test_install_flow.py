"""Installing Trellis for people who never opened it, until a nudge reaches them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adaptive_cards.elements import card, text
from bot.routes import BOT
from directory.graph import GraphClient
from directory.install import MAX_ATTEMPTS, install_for_unreachable
from storage import demo, outbox
from storage.models import AppInstallation, ConversationRef, Person
from storage.uow import unit_of_work
from tests.support.graph import DEFAULT_TEAMS_APP_ID, GraphStandIn

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


async def person(
    sessions: async_sessionmaker[AsyncSession], graph: GraphStandIn, aad_object_id: str
) -> Person:
    """A demo person, who is also a user in the (stand-in) directory."""
    async with sessions() as session:
        someone = (await session.scalars(select(Person).where(Person.aad_object_id == aad_object_id))).one()
    graph.add_user(aad_object_id, displayName=someone.display_name, mail=someone.email)
    return someone


async def test_two_people_without_a_chat_are_installed_for_and_then_reached_by_a_nudge(
    demo_org, graph: GraphStandIn, client: GraphClient, sessions, teams, connector, trellis
) -> None:
    adele = await person(sessions, graph, demo.PERSONAS["employee"])
    isaiah = await person(sessions, graph, "00000000-0000-0000-0000-0000000000023")

    installed: list[str] = []
    graph.on_install = lambda user_id, _app_id: installed.append(user_id)
    report = await install_for_unreachable(
        sessions, client, teams_app_id=DEFAULT_TEAMS_APP_ID, person_ids=[adele.id, isaiah.id]
    )
    await graph.settle()
    # What Teams does after Graph installs the app, a moment later: tell the bot, in each new 1:1 chat.
    names = {adele.aad_object_id: adele.display_name, isaiah.aad_object_id: isaiah.display_name}
    for user_id in installed:
        await teams.user(aad_object_id=user_id, name=names[user_id]).install()

    assert report.requested == 2 and not report.failed
    assert sorted(i.user_id for i in graph.installs) == sorted([adele.aad_object_id, isaiah.aad_object_id])
    async with sessions() as session:
        reachable = set((await session.scalars(select(ConversationRef.person_id))).all())
    assert {adele.id, isaiah.id} <= reachable

    nudge = card([text("Your self review is open: it is due on 4 December.")])
    async with unit_of_work(sessions) as session:
        for someone in (adele, isaiah):
            await outbox.enqueue(
                session,
                kind="nudge",
                payload={"card": nudge},
                now=NOW,
                person_id=someone.id,
                dedupe_key=f"nudge:self-review:{someone.id}",
            )
    connector.clear()
    sent = await trellis.app[BOT].sender.drain()

    assert sent.sent == 2
    nudged = {r.conversation_id for r in connector.sent}
    assert nudged == {
        teams.user(aad_object_id=adele.aad_object_id, name=adele.display_name).conversation_id,
        teams.user(aad_object_id=isaiah.aad_object_id, name=isaiah.display_name).conversation_id,
    }

    again = await install_for_unreachable(
        sessions, client, teams_app_id=DEFAULT_TEAMS_APP_ID, person_ids=[adele.id, isaiah.id]
    )
    assert again.requested == 0, "people who can be reached are not installed for again"


async def test_a_refused_installation_is_reported_and_not_retried_forever(
    demo_org, graph: GraphStandIn, client: GraphClient, sessions
) -> None:
    patti = await person(sessions, graph, "00000000-0000-0000-0000-0000000000024")
    for _ in range(MAX_ATTEMPTS + 2):
        graph.fail_next(1, 403, path_contains="installedApps")
        report = await install_for_unreachable(
            sessions, client, teams_app_id=DEFAULT_TEAMS_APP_ID, person_ids=[patti.id]
        )
    assert report.gave_up == 1 and report.requested == 0
    async with sessions() as session:
        row = await session.get(AppInstallation, patti.id)
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert row.last_error
    installs_tried = [r for r in graph.graph_requests if "installedApps" in r.path]
    assert len(installs_tried) == MAX_ATTEMPTS
