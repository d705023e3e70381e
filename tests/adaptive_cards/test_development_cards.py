"""Development plan cards pass the Teams rules and the real renderer; their payloads parse into progress or
fail with a message for the person."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from adaptive_cards import development as cards
from adaptive_cards.elements import card_size_bytes
from adaptive_cards.payloads import PayloadError
from domain.talent.development_views import (
    ActionKind,
    ActionSource,
    ActionStatus,
    ActionView,
    DueAction,
    PlanCounts,
    PlanView,
)
from tests.support.cards import CardValidator, card_validator, validate_card  # noqa: F401

DUE = date(2026, 3, 5)
AT = datetime(2026, 3, 2, 18, tzinfo=UTC)
TRICKY = '*not bold* [link](https://x.test) {{DATE(2026-03-05T09:00:00Z)}} <b>b</b> "quoted"'


def an_action(action_id: int = 7, **more: Any) -> ActionView:
    fields: dict[str, Any] = {
        "id": action_id,
        "plan_id": 1,
        "person_id": 3,
        "kind": ActionKind.COURSE,
        "title": "Presenting with confidence",
        "description": None,
        "due_on": DUE,
        "status": ActionStatus.IN_PROGRESS,
        "progress": 50,
        "note": "Halfway",
        "source": ActionSource.MANUAL,
        "overdue": False,
        "competency": None,
        "goal": None,
        "version": 4,
        "created_at": AT,
        "completed_at": None,
    }
    return ActionView(**(fields | more))


def due(**more: Any) -> DueAction:
    fields: dict[str, Any] = {
        "action_id": 7,
        "person_id": 3,
        "title": "Presenting with confidence",
        "kind": ActionKind.MENTORING,
        "due_on": DUE,
        "status": ActionStatus.PLANNED,
        "progress": 0,
        "note": None,
        "version": 1,
        "overdue": False,
    }
    return DueAction(**(fields | more))


def a_plan(actions: int, **more: Any) -> PlanView:
    views = tuple(an_action(i + 1, title=f"Action {i + 1}: " + "x" * 150) for i in range(actions))
    fields: dict[str, Any] = {
        "person_id": 3,
        "person_name": "Adele Vance",
        "plan_id": 1 if actions else None,
        "source": "self",
        "actions": views,
        "counts": PlanCounts(total=actions, open=actions, overdue=1 if actions else 0),
        "is_self": True,
        "can_edit": True,
    }
    return PlanView(**(fields | more))


CARDS: dict[str, Callable[[], dict[str, Any]]] = {
    "reminder": lambda: cards.reminder_card(cards.facts_of(due())),
    "reminder-overdue-tricky": lambda: cards.reminder_card(
        cards.facts_of(due(overdue=True, title=TRICKY, note=TRICKY, progress=30))
    ),
    "saved": lambda: cards.saved_card(cards.facts_of(an_action())),
    "already-saved": lambda: cards.saved_card(cards.facts_of(an_action()), already=True),
    "refused-typed": lambda: cards.progress_card(
        cards.facts_of(an_action()),
        notice="Nothing was saved. Please enter a whole number from 0 to 100 for “Progress (%)”.",
        typed={"progress": "150", "status": "done", "note": TRICKY},
    ),
    "stale": lambda: cards.progress_card(
        cards.facts_of(an_action(note="x" * 2000)), notice="Nothing was saved. It was changed meanwhile."
    ),
    "my-plan": lambda: cards.my_plan_card(a_plan(3), home_url="https://teams.microsoft.com/l/entity/x/home"),
    "my-plan-many": lambda: cards.my_plan_card(a_plan(30)),
    "my-plan-empty": lambda: cards.my_plan_card(a_plan(0)),
}


@pytest.mark.parametrize("name", CARDS)
async def test_card_passes_rules_and_renders(name: str, card_validator: CardValidator) -> None:
    card = CARDS[name]()
    report = await validate_card(card)
    assert report["texts"]
    assert card_size_bytes(card) < 80_000


async def test_the_reminder_offers_progress_status_and_a_note(card_validator: CardValidator) -> None:
    card = cards.reminder_card(cards.facts_of(due()))
    inputs = {el["id"]: el for el in _inputs(card)}
    assert set(inputs) == {"progress", "status", "note"}
    assert (inputs["progress"]["min"], inputs["progress"]["max"], inputs["progress"]["value"]) == (0, 100, 0)
    assert inputs["progress"]["isRequired"] and inputs["status"]["isRequired"]
    assert [c["value"] for c in inputs["status"]["choices"]] == [
        "planned",
        "in_progress",
        "done",
        "cancelled",
    ]
    assert inputs["status"]["value"] == "planned"
    assert inputs["note"]["maxLength"] == 2000 and "value" not in inputs["note"]
    [action] = card["actions"]
    assert (action["type"], action["verb"], action["data"]) == (
        "Action.Execute",
        "development.progress",
        {"action_id": 7, "version": 1},
    )
    assert action["fallback"]["data"]["verb"] == "development.progress"
    texts = (await validate_card(card))["texts"]
    assert "A development action is due soon" in texts
    assert "Mentoring · due on Thursday 5 March 2026" in texts
    assert "Now: 0 % · planned." in texts
    assert any("Type “my plan” here to see all your actions." in t for t in texts)
    assert cards.reminder_summary(cards.facts_of(due(overdue=True))).startswith("Development action overdue")


async def test_a_refused_form_keeps_what_can_be_shown_again(card_validator: CardValidator) -> None:
    card = cards.progress_card(
        cards.facts_of(an_action()),
        notice="Nothing was saved.",
        typed={"progress": "150", "status": "done", "note": TRICKY},
    )
    inputs = {el["id"]: el for el in _inputs(card)}
    assert "value" not in inputs["progress"], "an out-of-range number is not put back"
    assert (inputs["status"]["value"], inputs["note"]["value"]) == ("done", TRICKY)
    forged = cards.progress_card(cards.facts_of(an_action()), typed={"status": "hacked", "progress": "30"})
    inputs = {el["id"]: el for el in _inputs(forged)}
    assert (inputs["status"]["value"], inputs["progress"]["value"]) == ("in_progress", 30)


async def test_text_from_people_shows_exactly_as_typed(card_validator: CardValidator) -> None:
    report = await validate_card(cards.reminder_card(cards.facts_of(due(title=TRICKY))))
    assert TRICKY in [t.replace("\u2060", "") for t in report["texts"]]


def test_my_plan_lists_a_few_open_actions_and_asks_which_to_mark() -> None:
    card = cards.my_plan_card(a_plan(30))
    [which] = _inputs(card)
    assert which["id"] == "action_id" and which["value"] == "1"
    assert [c["value"] for c in which["choices"]] == [str(i) for i in range(1, cards.LISTED + 1)]
    assert [(a["verb"], a["data"]) for a in _actions(card)] == [("development.open", {})]
    assert "22 more on the My development tab." in str(card)
    assert _inputs(cards.my_plan_card(a_plan(0))) == [] and _actions(cards.my_plan_card(a_plan(0))) == []


def test_progress_payloads_parse_or_say_what_to_fix() -> None:
    ok = cards.parse_progress(
        {"action_id": 7, "version": "4", "progress": "55", "status": "in_progress", "note": " Going "}
    )
    assert ok == cards.ProgressInput(7, 4, "in_progress", 55, "Going")
    base = {"action_id": 7, "version": 4, "progress": "55", "status": "in_progress"}
    for key, value, message in (
        ("progress", "155", "whole number from 0 to 100"),
        ("progress", "abc", "whole number from 0 to 100"),
        ("progress", None, "whole number from 0 to 100"),
        ("status", "finished", "one of the options offered"),
        ("note", "x" * 2001, "too long"),
        ("action_id", "x", "out of date"),
        ("action_id", -3, "out of date"),
        ("version", None, "out of date"),
    ):
        data = {**base, key: value}
        with pytest.raises(PayloadError, match=message):
            cards.parse_progress(data)
    assert cards.parse_action_id({"action_id": "12"}) == 12


def _walk(node: Any) -> Any:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _inputs(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [el for el in _walk(card) if str(el.get("type", "")).startswith("Input.")]


def _actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [el for el in _walk(card) if el.get("type") == "Action.Execute"]
