"""Goals in Teams chat, as people use them: see goals, update progress from the card, set a new goal.

The demo organization: Alex Wilber manages Adele Vance and Isaiah Langer (Engineering); Lynne Robbins
manages Alex; Patti Fernandez is in Sales; Megan Bowen is HR. The demo seed sets no goals, so each test
sets the ones it needs through the goal service, as the tab or the bot would.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from adaptive_cards.elements import SUBMIT_VERB_KEY
from domain.access import Actor, load_actor
from domain.performance import goals
from domain.performance.goal_views import GoalView, KeyResultInput
from storage import demo
from storage.models import Goal, KeyResult, KeyResultUpdate, Person
from storage.uow import read_only, unit_of_work
from tests.support.teams import Card, TeamsClient, TeamsUser

pytestmark = pytest.mark.usefixtures("demo_org")


# --- setting the scene through the goal service ------------------------------------------------------


def this_quarter() -> str:
    today = datetime.now(UTC).date()
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


async def actor(sessions, persona) -> Actor:
    async with unit_of_work(sessions) as session:
        pid = await session.scalar(select(Person.id).where(Person.aad_object_id == persona.aad_object_id))
        return await load_actor(session, pid)


async def set_goal(sessions, persona, title: str, *key_results: KeyResultInput, **options) -> GoalView:
    who = await actor(sessions, persona)
    async with unit_of_work(sessions) as session:
        return await goals.create_goal(
            session,
            actor=who,
            title=title,
            period=options.pop("period", this_quarter()),
            key_results=key_results or (KeyResultInput("Stories done", target=10),),
            now=datetime.now(UTC),
            **options,
        )


async def count(sessions, model, *where) -> int:
    async with unit_of_work(sessions) as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def current_value(sessions, key_result_id: int) -> float:
    async with unit_of_work(sessions) as session:
        return await session.scalar(select(KeyResult.current).where(KeyResult.id == key_result_id))


def value(goal: GoalView, n: int = 0) -> str:
    """The id of the new-value input under the goal's n-th key result."""
    return f"value_{goal.key_results[n].id}"


def shown(card: Card) -> list[str]:
    """What a person reads, line by line: a text block, or a rich text block's runs joined up."""
    lines: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                lines.append(node["text"])
            elif node.get("type") == "RichTextBlock":
                lines.append("".join(run["text"] for run in node["inlines"]))
                return
            for key, child in node.items():
                if key not in ("data", "fallback", "selectAction"):
                    walk(child)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card.content["body"])
    return lines


def notice(card: Card) -> str:
    """The coloured line at the top of a goals card (after the heading and the count)."""
    for block in card.content["body"]:
        if block.get("type") == "Container" and block.get("style") in ("good", "warning", "attention"):
            return "".join(run["text"] for run in block["items"][0]["inlines"])
    raise AssertionError(f"no notice on the card: {shown(card)[:6]}")


def tampered(card: Card, **changes: Any) -> Card:
    """The card as a forger would edit it: the Update button's data (and its fallback's) changed."""
    content = copy.deepcopy(card.content)
    for action in Card(content, card.activity_id).actions():
        if action.get("verb") == "goal.kr.update" or action.get("data", {}).get(SUBMIT_VERB_KEY):
            for key, new in changes.items():
                if new is None:
                    action["data"].pop(key, None)
                else:
                    action["data"][key] = new
    return Card(content, card.activity_id)


# --- seeing and updating ------------------------------------------------------------------------------


async def test_adele_updates_her_key_result_from_the_card_and_alex_sees_it(
    adele: TeamsUser, alex: TeamsUser, sessions
) -> None:
    goal = await set_goal(sessions, demo.ADELE, "Ship the goals feature")

    (reply,) = await adele.say("goals")
    card = reply.card
    assert shown(card)[:2] == ["Your goals", "1 goal"]
    assert "Ship the goals feature" in shown(card) and "Stories done" in shown(card)
    assert "0 → 10 · 0%" in shown(card)

    updated = await adele.press(
        "Update",
        card=card,
        inputs={
            value(goal): "4",
            f"comment_{goal.key_results[0].id}": "QA next",
            f"confidence_{goal.key_results[0].id}": "7",
        },
    )

    assert updated.activity_id == card.activity_id, "the card is replaced in place"
    assert notice(updated) == "Saved: “Stories done” is now 4 (40%)."
    assert "40%" in shown(updated) and "4 → 10 · 40%" in shown(updated)
    assert await current_value(sessions, goal.key_results[0].id) == 4
    async with read_only(sessions) as session:
        history = await session.execute(
            select(KeyResultUpdate.new_value, KeyResultUpdate.comment, KeyResultUpdate.confidence)
        )
        assert history.all() == [(4, "QA next", 7)]

    (reply,) = await alex.say("goals @Adele", mentions=(adele,))
    seen = reply.card
    assert shown(seen)[0] == "Adele Vance's goals"
    assert "4 → 10 · 40%" in shown(seen)
    assert seen.action("Update"), "her manager may update her progress too"


async def test_a_manager_updates_a_reports_progress_from_her_card(
    adele: TeamsUser, alex: TeamsUser, sessions
) -> None:
    goal = await set_goal(sessions, demo.ADELE, "Ship the goals feature")
    (reply,) = await alex.say("goals adele")  # typed, not mentioned: his report is the Adele he means
    assert shown(reply.card)[0] == "Adele Vance's goals"

    updated = await alex.press("Update", card=reply.card, inputs={value(goal): "7"})

    assert shown(updated)[0] == "Adele Vance's goals", "he stays on her goals"
    assert notice(updated) == "Saved: “Stories done” is now 7 (70%)."
    async with unit_of_work(sessions) as session:
        by = await session.scalar(select(KeyResultUpdate.by_id))
    assert by == (await actor(sessions, demo.ALEX)).person_id


async def test_a_stale_card_shows_the_latest_value_and_writes_nothing(
    adele: TeamsUser, alex: TeamsUser, sessions
) -> None:
    goal = await set_goal(sessions, demo.ADELE, "Ship the goals feature")
    kr_id = goal.key_results[0].id
    (adeles,) = await adele.say("goals")
    (alexs,) = await alex.say("goals @Adele", mentions=(adele,))
    await alex.press("Update", card=alexs.card, inputs={value(goal): "6"})

    stale = await adele.press("Update", card=adeles.card, inputs={value(goal): "5"})

    assert notice(stale) == "“Stories done” was updated meanwhile (now 6) — check and try again."
    assert "6 → 10 · 60%" in shown(stale)
    adele_id = (await actor(sessions, demo.ADELE)).person_id
    assert await count(sessions, KeyResultUpdate, KeyResultUpdate.by_id == adele_id) == 0
    assert await current_value(sessions, kr_id) == 6

    # The refreshed card carries the new version: trying again from it works.
    retried = await adele.press("Update", card=stale, inputs={value(goal): "5"})
    assert notice(retried) == "Saved: “Stories done” is now 5 (50%)."


async def test_a_double_click_on_update_writes_once(adele: TeamsUser, sessions) -> None:
    goal = await set_goal(sessions, demo.ADELE, "Ship the goals feature")
    (reply,) = await adele.say("goals")

    first = await adele.press("Update", card=reply.card, inputs={value(goal): "3"})
    second = await adele.press("Update", card=reply.card, inputs={value(goal): "3"})

    assert notice(first) == notice(second) == "Saved: “Stories done” is now 3 (30%)."
    assert await count(sessions, KeyResultUpdate) == 1


async def test_the_submit_fallback_reaches_the_same_update(adele: TeamsUser, sessions) -> None:
    """Clients without Universal Actions send the Update's Action.Submit fallback as a message."""
    goal = await set_goal(sessions, demo.ADELE, "Ship the goals feature")
    (reply,) = await adele.say("goals")
    fallback = reply.card.action("Update")["fallback"]

    updated = await adele._submit(reply.card, fallback, {value(goal): "2"})

    assert notice(updated) == "Saved: “Stories done” is now 2 (20%)."
    assert await count(sessions, KeyResultUpdate) == 1


async def test_yes_no_key_results_are_a_choice(adele: TeamsUser, sessions) -> None:
    goal = await set_goal(
        sessions, demo.ADELE, "Launch", KeyResultInput("Beta shipped", metric="boolean", target=1)
    )
    (reply,) = await adele.say("goals")
    assert "Not yet · 0%" in shown(reply.card)
    assert [c["title"] for c in reply.card.inputs()[value(goal)]["choices"]] == ["Done", "Not yet"]

    done = await adele.press("Update", card=reply.card, inputs={value(goal): "1"})

    assert notice(done) == "Saved: “Beta shipped” is now Done (100%)."


async def test_key_results_beyond_six_buttons_are_updated_on_their_goals_own_card(
    adele: TeamsUser, sessions
) -> None:
    """Teams shows at most six buttons on a card: the goals left without Update buttons open on their own."""
    for n in range(1, 5):
        last = await set_goal(
            sessions,
            demo.ADELE,
            f"Goal {n}",
            KeyResultInput("First", target=10),
            KeyResultInput("Second", target=4),
        )
    (reply,) = await adele.say("goals")
    assert buttons(reply.card) == ["Update"] * 6
    assert "Select a goal's title to update its other key results." in shown(reply.card)
    (open_last,) = [
        block["selectAction"]
        for block in _blocks(reply.card.content)
        if block.get("selectAction", {}).get("data", {}).get("goal_id") == last.id
    ]

    focused = await adele._execute(reply.card, open_last, {})

    assert shown(focused)[:2] == ["Your goal", "Goal 4"]
    assert buttons(focused) == ["Update", "Update", "All goals"]
    updated = await adele.press("Update", card=focused, inputs={value(last, 0): "5"})
    assert shown(updated)[:3] == ["Your goal", "Saved: “First” is now 5 (50%).", "Goal 4"], "still focused"
    everything = await adele.press("All goals", card=updated)
    assert shown(everything)[:2] == ["Your goals", "4 goals"]


def buttons(card: Card) -> list[str]:
    """The buttons on the card (an Execute's Submit fallback is the same button)."""
    return [a["title"] for a in card.actions() if a["type"] != "Action.Submit"]


def _blocks(node: Any) -> Any:
    if isinstance(node, dict):
        yield node
        for key, child in node.items():
            if key != "data":
                yield from _blocks(child)
    elif isinstance(node, list):
        for item in node:
            yield from _blocks(item)


# --- bad input: a clear message, nothing written -----------------------------------------------------


async def test_a_value_that_is_not_a_number_is_refused(adele: TeamsUser, sessions) -> None:
    """Teams checks Input.Number on most clients; a client that doesn't, or a forged payload, gets this."""
    goal = await set_goal(sessions, demo.ADELE, "Ship the goals feature")
    (reply,) = await adele.say("goals")

    refused = await adele.press("Update", card=reply.card, inputs={value(goal): "lots"})

    assert notice(refused) == "Nothing was saved. The new value must be a number, like 42 or 3.5."
    assert shown(refused)[0] == "Your goals", "the same card comes back, ready to fix"
    assert await count(sessions, KeyResultUpdate) == 0


async def test_a_yes_no_value_other_than_0_or_1_is_refused(adele: TeamsUser, sessions) -> None:
    goal = await set_goal(
        sessions, demo.ADELE, "Launch", KeyResultInput("Beta shipped", metric="boolean", target=1)
    )
    (reply,) = await adele.say("goals")

    refused = await adele.press("Update", card=reply.card, inputs={value(goal): "2"})

    assert notice(refused) == "Nothing was saved. A yes/no key result is 1 (yes) or 0 (no), not 2."
    assert await count(sessions, KeyResultUpdate) == 0


async def test_a_key_result_id_edited_to_someone_elses_goal_is_refused(adele: TeamsUser, sessions) -> None:
    mine = await set_goal(sessions, demo.ADELE, "Ship the goals feature")
    pattis = await set_goal(sessions, demo.PATTI, "Close the Contoso deal", visibility="public")
    theirs = pattis.key_results[0].id
    (reply,) = await adele.say("goals")
    forged = tampered(reply.card, key_result_id=theirs)
    # The forger renames the value input too, so the payload carries a value for Patti's key result.
    forged.inputs()[value(mine)]["id"] = f"value_{theirs}"

    refused = await adele.press("Update", card=forged, inputs={f"value_{theirs}": "9"})

    assert notice(refused) == (
        "Nothing was saved. You can't change this goal: only its owner, their managers and HR can."
    )
    assert await current_value(sessions, theirs) == 0
    assert await current_value(sessions, mine.key_results[0].id) == 0
    assert await count(sessions, KeyResultUpdate) == 0


async def test_a_key_result_moved_to_another_of_her_goals_is_undone(adele: TeamsUser, sessions) -> None:
    first = await set_goal(sessions, demo.ADELE, "Ship the goals feature")
    second = await set_goal(sessions, demo.ADELE, "Write the docs", KeyResultInput("Pages", target=20))
    (reply,) = await adele.say("goals")
    forged = tampered(reply.card, goal_id=second.id)  # first goal's key result, second goal's id

    refused = await adele.press("Update", card=forged, inputs={value(first): "5"})

    assert "Nothing was saved. This card is out of date" in notice(refused)
    assert await count(sessions, KeyResultUpdate) == 0
    assert await current_value(sessions, first.key_results[0].id) == 0


async def test_missing_ids_say_the_card_is_out_of_date(adele: TeamsUser, sessions) -> None:
    goal = await set_goal(sessions, demo.ADELE, "Ship the goals feature")
    (reply,) = await adele.say("goals")

    no_key_result = await adele.press(
        "Update", card=tampered(reply.card, key_result_id=None), inputs={value(goal): "5"}
    )
    assert notice(no_key_result) == (
        "Nothing was saved. This card is out of date or incomplete: it doesn't say which key result "
        "to update. Type “goals” for a fresh card."
    )
    nobody = await adele.press(
        "Update", card=tampered(reply.card, person_id=None, version=None), inputs={value(goal): "5"}
    )
    assert shown(nobody)[:2] == [
        "Something went wrong",
        "This card is out of date or incomplete: it doesn't say whose goals it showed. "
        "Type “goals” for a fresh card.",
    ]
    assert await count(sessions, KeyResultUpdate) == 0


# --- who sees what -----------------------------------------------------------------------------------


async def test_a_colleague_outside_her_line_sees_only_what_adele_shared(
    adele: TeamsUser, patti: TeamsUser, isaiah: TeamsUser, sessions
) -> None:
    await set_goal(sessions, demo.ADELE, "Speak at the conference", visibility="public")
    await set_goal(sessions, demo.ADELE, "Cut build times", visibility="team")
    await set_goal(sessions, demo.ADELE, "Get the promotion", visibility="private")
    await adele.say("goals")  # the bot now knows her Teams id, so an @mention of her resolves by it

    (seen,) = await patti.say("goals @Adele", mentions=(adele,))
    texts = shown(seen.card)
    assert texts[:2] == ["Adele Vance's goals", "1 goal"]
    assert "Speak at the conference" in texts
    assert "Cut build times" not in texts and "Get the promotion" not in texts
    assert seen.card.inputs() == {} and seen.card.actions() == [], "Patti can't change Adele's goals"

    (teammate,) = await isaiah.say("goals Adele Vance")
    assert "Cut build times" in shown(teammate.card), "her department sees team goals"
    assert "Get the promotion" not in shown(teammate.card)


async def test_a_skip_level_manager_mentions_her_by_entra_id_and_sees_everything(
    teams: TeamsClient, adele: TeamsUser, sessions
) -> None:
    """Teams puts the mentioned person's Entra object id in the mention; it finds her even before she
    ever chatted with the bot. Lynne manages Alex, who manages Adele: she sees private goals too."""
    await set_goal(sessions, demo.ADELE, "Get the promotion", visibility="private")
    lynne = teams.user(aad_object_id=demo.LYNNE.aad_object_id, name="Lynne Robbins")
    tag = "<at>Adele Vance</at>"
    mention = {
        "type": "mention",
        "text": tag,
        "mentioned": {
            "id": "29:1-not-a-known-teams-id",
            "name": "A. Vance",
            "aadObjectId": adele.aad_object_id,
        },
    }
    activity = lynne.activity("message_personal", text=f"goals {tag}", entities=[mention])

    _, (reply,) = await lynne.send(activity)

    assert shown(reply.card)[:2] == ["Adele Vance's goals", "1 goal"]
    assert "Get the promotion" in shown(reply.card)
    assert reply.card.action("Update"), "her manager line may update her goals"


async def test_a_name_several_people_share_offers_a_choice(
    alex: TeamsUser, patti: TeamsUser, sessions
) -> None:
    await set_goal(sessions, demo.ADELE, "Ship the goals feature", visibility="public")
    async with unit_of_work(sessions) as session:
        session.add(
            Person(email="adele.smith@contoso.example", display_name="Adele Smith", department="Sales")
        )

    (picker,) = await patti.say("goals adele")
    assert "Whose goals do you want to see?" in shown(picker.card)
    chosen = await patti.press("Adele Vance", card=picker.card)
    assert shown(chosen)[0] == "Adele Vance's goals" and "Ship the goals feature" in shown(chosen)

    (direct,) = await alex.say("goals adele")
    assert shown(direct.card)[0] == "Adele Vance's goals", "a manager's own report wins the tie"


async def test_nobody_by_that_name(alex: TeamsUser) -> None:
    (reply,) = await alex.say("goals Zebediah")
    assert shown(reply.card)[0] == "I couldn't find anyone called “Zebediah”."
    mine = await alex.press("My goals", card=reply.card)
    assert shown(mine)[0] == "Your goals"


# --- setting a goal ----------------------------------------------------------------------------------

NEW_GOAL = {
    "title": "Mentor two new engineers",
    "visibility": "public",
    "kind": "development",
    "kr1_title": "Engineers onboarded",
    "kr1_target": "2",
    "kr1_unit": "people",
    "kr2_title": "Pairing sessions held",
    "kr2_metric": "milestone",
    "kr2_target": "6",
}


async def test_new_goal_from_chat_is_created_once_however_often_create_is_pressed(
    adele: TeamsUser, sessions
) -> None:
    parent = await set_goal(sessions, demo.ALEX, "Grow the engineering team", visibility="public")
    (reply,) = await adele.say("new goal")
    form = reply.card
    assert shown(form)[0] == "Set a new goal"
    parents = {c["title"]: c["value"] for c in form.inputs()["parent"]["choices"]}
    choice = f"Grow the engineering team (Alex Wilber, {this_quarter()})"
    assert choice in parents, "her manager's goal is offered to align under"

    created = await adele.press("Create", card=form, inputs={**NEW_GOAL, "parent": parents[choice]})
    again = await adele.press("Create", card=form, inputs={**NEW_GOAL, "parent": parents[choice]})

    assert shown(created)[0] == "Goal created"
    assert "Mentor two new engineers" in shown(created) and "0 of 6 steps · 0%" in shown(created)
    assert shown(again) == shown(created)
    assert await count(sessions, Goal, Goal.title == "Mentor two new engineers") == 1
    async with unit_of_work(sessions) as session:
        goal = await session.scalar(select(Goal).where(Goal.title == "Mentor two new engineers"))
        assert (goal.parent_id, goal.visibility, goal.kind) == (parent.id, "public", "development")

    mine = await adele.press("See all my goals", card=created)
    assert "Mentor two new engineers" in shown(mine)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (
            {"period": "custom", "period_start": "2026-12-01", "period_end": "2026-11-01"},
            "Nothing was saved. The period ends (2026-11-01) before it starts (2026-12-01).",
        ),
        (
            {"kr1_start": "2", "kr1_target": "2"},
            "Nothing was saved. The target equals the start (2): there would be nothing to measure. "
            "Set a target different from where you start.",
        ),
        ({"weight": "-1"}, "Nothing was saved. The weight can't be negative (got -1)."),
    ],
)
async def test_a_goal_that_cannot_be_set_comes_back_with_the_reason(
    adele: TeamsUser, sessions, inputs: dict[str, str], message: str
) -> None:
    (reply,) = await adele.say("new goal")

    refused = await adele.press("Create", card=reply.card, inputs={**NEW_GOAL, **inputs})

    assert shown(refused)[0] == "Set a new goal"
    assert notice(refused) == message
    assert refused.inputs()["title"]["value"] == "Mentor two new engineers", "nothing typed is lost"
    assert await count(sessions, Goal) == 0
    assert await count(sessions, KeyResult) == 0


async def test_a_refused_goal_can_be_fixed_and_created_from_the_same_card(adele: TeamsUser, sessions) -> None:
    (reply,) = await adele.say("new goal")
    refused = await adele.press("Create", card=reply.card, inputs={**NEW_GOAL, "weight": "-1"})

    created = await adele.press("Create", card=refused, inputs={"weight": "1"})

    assert shown(created)[0] == "Goal created"
    assert await count(sessions, Goal) == 1


async def test_someone_without_goals_is_offered_to_set_one(adele: TeamsUser) -> None:
    (reply,) = await adele.say("goals")
    assert "You have no goals yet. Set one to track your progress here." in shown(reply.card)
    form = await adele.press("Set a goal", card=reply.card)
    assert shown(form)[0] == "Set a new goal"


async def test_an_expired_goal_still_shows_with_its_status(adele: TeamsUser, sessions) -> None:
    last_year = str(datetime.now(UTC).year - 1)
    await set_goal(sessions, demo.ADELE, "Old goal", period=last_year)
    (reply,) = await adele.say("goals")
    assert "Expired" in shown(reply.card)
