"""Goal cards pass the Teams rules and render; goal payloads parse or fail with a clear message."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from adaptive_cards import goal_payloads as gp
from adaptive_cards import goals as gc
from adaptive_cards.elements import SUBMIT_VERB_KEY, card_size_bytes
from adaptive_cards.payloads import PayloadError
from domain.performance.goal_progress import Period, Status
from domain.performance.goal_views import GoalView, KeyResultView
from tests.support.cards import (
    CardValidator,
    card_validator,  # noqa: F401 - pytest fixture
    store_rule_problems,
    validate_card,
)

HOME = "https://teams.microsoft.com/l/entity/app/home"
TODAY = date(2026, 11, 15)
Q4 = Period.of("2026-Q4")
ADELE = 22
# Markdown, templating and HTML a person might type into a title: it must show exactly as typed.
TRICKY = "Ship *v2* [now](https://x.test) {{DATE(2026-01-01T00:00:00Z)}} <b>&amp;</b> ${x}"
REQUEST = "0123456789abcdef0123456789abcdef"


def a_key_result(kr_id: int, **overrides: Any) -> KeyResultView:
    fields = {
        "id": kr_id,
        "title": f"Key result {kr_id}",
        "metric": "number",
        "unit": None,
        "start": 0.0,
        "target": 10.0,
        "current": 4.0,
        "weight": 1.0,
        "progress": 0.4,
        "version": 3,
    }
    return KeyResultView(**(fields | overrides))


def a_goal(goal_id: int, *key_results: KeyResultView, **overrides: Any) -> GoalView:
    fields = {
        "id": goal_id,
        "title": f"Goal {goal_id}",
        "description": None,
        "owner_type": "person",
        "owner_person_id": ADELE,
        "owner_label": "Adele Vance",
        "period": Q4,
        "visibility": "team",
        "kind": "business",
        "weight": 1.0,
        "parent_id": None,
        "progress": 0.4,
        "status": Status.ON_TRACK,
        "closed_at": None,
        "final_score": None,
        "key_results": key_results,
        "children": (),
    }
    return GoalView(**(fields | overrides))


EVERY_METRIC = (
    a_goal(
        1,
        a_key_result(11, title=TRICKY),
        a_key_result(12, metric="boolean", target=1.0, current=0.0, progress=0.0),
        a_key_result(13, metric="percent", unit="%", start=8, target=5, current=6.5, progress=0.5),
    ),
    a_goal(
        2,
        a_key_result(21, metric="currency", unit="$", target=5000, current=1200.5, progress=0.24),
        a_key_result(22, metric="milestone", target=5, current=2),
        status=Status.AT_RISK,
        progress=0.3,
        # Isaiah's goal aligned under Adele's: mentioned, not listed as hers.
        children=(a_goal(5, a_key_result(51), owner_person_id=23, owner_label="Isaiah Langer"),),
    ),
    a_goal(3, status=Status.CLOSED, closed_at=None, final_score=0.8, progress=0.8),
)


def goals(**overrides: Any) -> dict[str, Any]:
    kwargs = {"goals": EVERY_METRIC, "person_id": ADELE, "person_name": "Adele Vance", "own": True}
    return gc.goals_card(**(kwargs | {"editable": True} | overrides))


def buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    found = []

    def walk(node: Any, key: str | None) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Action.") and key not in ("fallback", "selectAction"):
                found.append(node)
            for k, v in node.items():
                if k != "data":
                    walk(v, k)
        elif isinstance(node, list):
            for item in node:
                walk(item, key)

    walk(card, None)
    return found


def inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Input."):
                found[node["id"]] = node
            for k, v in node.items():
                if k != "data":
                    walk(v)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


# --- every card passes the rules and renders -----------------------------------------------------------

CARDS: dict[str, Callable[[], dict[str, Any]]] = {
    "own-every-metric": lambda: goals(home_url=HOME, notice=gc.Notice("Saved: “x” is now 4.")),
    "manager-view": lambda: goals(own=False, notice=gc.Notice("was updated meanwhile", "warning")),
    "colleague-read-only": lambda: goals(own=False, editable=False, home_url=HOME),
    "focused": lambda: goals(focus_goal_id=2),
    "own-empty": lambda: goals(goals=()),
    "other-empty": lambda: goals(goals=(), own=False, editable=False),
    "new-goal": lambda: gc.new_goal_card(today=TODAY, parents=EVERY_METRIC, request_id=REQUEST),
    "new-goal-refused": lambda: gc.new_goal_card(
        today=TODAY,
        parents=(),
        request_id=REQUEST,
        notice=gc.Notice("Nothing was saved. The target equals the start.", "attention"),
        values={gp.TITLE: TRICKY, "kr1_target": "5", gp.PERIOD: "custom", gp.PERIOD_START: "2026-11-01"},
    ),
    "created": lambda: gc.goal_created_card(goal=EVERY_METRIC[0], person_id=ADELE, home_url=HOME),
    "created-with-description": lambda: gc.goal_created_card(
        goal=replace(EVERY_METRIC[1], description=TRICKY * 40), person_id=ADELE
    ),
    "pick-person": lambda: gc.pick_person_card(
        typed="Adele", people=[gc.PersonOption(i, f"Adele {i}", "Engineer, Sales") for i in range(9)]
    ),
    "no-person": lambda: gc.no_person_card(typed=TRICKY),
}


@pytest.mark.parametrize("name", CARDS)
async def test_goal_card_passes_rules_and_renders(name: str, card_validator: CardValidator) -> None:
    card = CARDS[name]()
    report = await validate_card(card)
    assert report["texts"]
    assert card_size_bytes(card) < 80_000


async def test_own_goals_show_progress_status_and_values_per_metric(card_validator: CardValidator) -> None:
    texts = (await validate_card(goals()))["texts"]
    assert texts[:2] == ["Your goals", "3 goals"]
    assert TRICKY in [t.replace("\u2060", "") for t in texts], "typed titles show exactly as typed"
    for shown in (
        "40%",
        "On track",
        "At risk",
        "Closed",
        "4 → 10 · 40%",
        "Not yet · 0%",  # yes/no: a word, not 0 → 1
        "6.5% → 5% · 50%",
        "$1,200.50 → $5,000 · 24%",
        "2 of 5 steps · 40%",
        "1 aligned goal from others: Isaiah Langer",
    ):
        assert shown in texts, shown
    assert "Key result 51" not in texts, "someone else's aligned goal is summarised, not listed as hers"


def test_value_text_reads_like_the_metric() -> None:
    assert gc.value_text(a_key_result(1, metric="boolean", target=1.0), 1.0) == "Done"
    assert gc.value_text(a_key_result(1, metric="boolean", target=0.0, start=1.0), 1.0) == "Not yet"
    assert gc.value_text(a_key_result(1, metric="currency", unit="EUR"), 1234567.5) == "1,234,567.50 EUR"
    assert gc.value_text(a_key_result(1, metric="number", unit="km"), 3.25) == "3.25 km"
    assert gc.value_text(a_key_result(1), 1e20) == "1e+20"
    assert gc.percent(1.7) == "100%" and gc.percent(-1) == "0%" and gc.percent(0.125) == "12%"


def test_progress_bar_is_two_weighted_columns_coloured_by_status() -> None:
    def bar(progress: float, status: Status) -> list[tuple[str, str]]:
        card = goals(goals=(a_goal(1, progress=progress, status=status),))
        row = card["body"][2]["items"][1]  # the goal's container: title, then the progress row
        inner = row["columns"][0]["items"][0]["columns"]
        return [(c["width"], c["style"]) for c in inner]

    assert bar(0.4, Status.ON_TRACK) == [("40", "good"), ("60", "emphasis")]
    assert bar(0.3, Status.BEHIND) == [("30", "warning"), ("70", "emphasis")]
    assert bar(0.0, Status.AT_RISK) == [("100", "emphasis")], "no zero-width column"
    assert bar(1.0, Status.EXPIRED) == [("100", "accent")]


def test_update_sends_the_key_result_its_version_the_goal_and_whose_card_it_is() -> None:
    card = goals()
    update = next(b for b in buttons(card) if b["title"] == "Update")
    data = {"key_result_id": 11, "version": 3, "goal_id": 1, "person_id": ADELE}
    assert (update["type"], update["verb"], update["data"]) == ("Action.Execute", "goal.kr.update", data)
    # Hosts without Universal Actions send the fallback's data as a message, the verb inside it.
    assert update["fallback"] == {
        "type": "Action.Submit",
        "title": "Update",
        "data": {**data, SUBMIT_VERB_KEY: "goal.kr.update"},
    }
    fields = inputs(card)
    assert fields["value_11"]["type"] == "Input.Number" and fields["value_11"]["value"] == 4.0
    assert fields["value_12"]["type"] == "Input.ChoiceSet", "yes/no is a choice, not a number"
    assert [c["title"] for c in fields["value_12"]["choices"]] == ["Done", "Not yet"]
    assert fields["value_22"]["max"] == 5 and fields["value_22"]["min"] == 0
    assert all(field.get("label") for field in fields.values())
    assert TRICKY not in json.dumps([f["label"] for f in fields.values()]), "typed text never in a label"


def test_closed_goals_and_read_only_viewers_get_no_controls() -> None:
    assert "value_31" not in inputs(goals(goals=(a_goal(3, a_key_result(31), status=Status.CLOSED),)))
    read_only = goals(own=False, editable=False)
    assert inputs(read_only) == {} and buttons(read_only) == []
    assert "Select a goal" not in json.dumps(read_only)


def test_six_buttons_at_most_and_the_rest_open_their_goal_on_its_own_card() -> None:
    many = tuple(a_goal(g, *(a_key_result(g * 10 + k) for k in range(3))) for g in range(1, 5))
    card = goals(goals=many, home_url=HOME)
    titles = [b["title"] for b in buttons(card)]
    assert titles == ["Update"] * 5 + ["Open Trellis"]
    assert store_rule_problems(card) == []
    # Goal 1 has three Update buttons and goal 2 the other two of five: goals 2, 3 and 4 open on their own.
    selects = [
        block["items"][0].get("selectAction", {}).get("data")
        for block in card["body"][2:6]
        if "items" in block
    ]
    assert selects == [
        None,
        {"person_id": ADELE, "goal_id": 2},
        {"person_id": ADELE, "goal_id": 3},
        {"person_id": ADELE, "goal_id": 4},
    ]
    assert "Select a goal's title to update its other key results." in json.dumps(card)

    focused = goals(goals=many, focus_goal_id=3)
    assert [b["title"] for b in buttons(focused)] == ["Update", "Update", "Update", "All goals"]
    assert {k for k in inputs(focused) if k.startswith("value_")} == {"value_30", "value_31", "value_32"}


async def test_hundreds_of_goals_stay_under_80_kb_and_say_how_many_more(
    card_validator: CardValidator,
) -> None:
    huge = tuple(
        a_goal(g, *(a_key_result(g * 100 + k, title="K" * 200) for k in range(12)), title="G" * 200)
        for g in range(1, 301)
    )
    card = goals(goals=huge, home_url=HOME)
    assert card_size_bytes(card) < 80_000
    texts = (await validate_card(card))["texts"]
    shown = len([t for t in texts if t == "G" * 200])
    assert 1 <= shown <= gc.MAX_GOALS_SHOWN
    assert f"{300 - shown} more goals not shown here. Open Trellis to see them all." in texts
    assert "4 more key results in the Trellis app." in texts, "key results per goal are capped too"


def test_notices_quote_typed_titles_as_plain_text() -> None:
    goal = a_goal(1, a_key_result(11, title="Stories *done*", current=6))
    assert gc.saved_notice(goal, 11) == gc.Notice("Saved: “Stories *done*” is now 6 (40%).")
    stale = gc.stale_notice(goal, 11)
    assert stale.message == "“Stories *done*” was updated meanwhile (now 6) — check and try again."
    assert stale.tone == "warning"
    block = gc.notice_block(stale)
    assert block["items"][0]["type"] == "RichTextBlock"
    with pytest.raises(ValueError):
        gc.Notice("x", "pink")


# --- creating a goal ---------------------------------------------------------------------------------


def test_period_choices_are_this_and_next_quarter_half_year_then_custom() -> None:
    assert [value for _, value in gc.period_choices(TODAY)] == [
        "2026-Q4",
        "2027-Q1",
        "2026-H2",
        "2027-H1",
        "2026",
        "2027",
        "custom",
    ]
    assert gc.period_choices(TODAY)[0][0] == "This quarter (2026-Q4: 1 Oct to 31 Dec 2026)"
    assert [value for _, value in gc.period_choices(date(2026, 5, 2))][:4] == [
        "2026-Q2",
        "2026-Q3",
        "2026-H1",
        "2026-H2",
    ]


def test_new_goal_card_offers_every_field_and_carries_its_request_id() -> None:
    card = gc.new_goal_card(today=TODAY, parents=EVERY_METRIC[:2], request_id=REQUEST)
    fields = inputs(card)
    assert {"title", "description", "period", "period_start", "period_end", "visibility", "kind"} <= set(
        fields
    )
    assert {"parent", "weight", "kr1_title", "kr1_metric", "kr1_start", "kr1_target", "kr3_unit"} <= set(
        fields
    )
    assert fields["period"]["value"] == "2026-Q4" and fields["visibility"]["value"] == "team"
    assert [c["value"] for c in fields["parent"]["choices"]] == ["none", "1", "2"]
    assert fields["parent"]["choices"][1]["title"] == "Goal 1 (Adele Vance, 2026-Q4)"
    (create,) = buttons(card)
    assert (create["title"], create["verb"], create["data"]) == (
        "Create",
        "goal.create",
        {"request_id": REQUEST},
    )
    with pytest.raises(ValueError):
        gc.new_goal_card(today=TODAY, parents=(), request_id="not-hex")


def test_a_refused_form_comes_back_filled_in_with_what_fits() -> None:
    values = {
        gp.TITLE: "Grow",
        gp.PERIOD: "custom",
        gp.PERIOD_START: "2026-12-01",
        gp.PERIOD_END: "yesterday",  # not a date: left empty rather than breaking the card
        gp.PARENT: "999",  # no longer offered: back to the default
        gp.WEIGHT: "-1",
        "kr1_target": "abc",
        "kr2_title": "x" * 500,
    }
    fields = inputs(gc.new_goal_card(today=TODAY, parents=(), request_id=REQUEST, values=values))
    assert fields["title"]["value"] == "Grow" and fields["period"]["value"] == "custom"
    assert fields["period_start"]["value"] == "2026-12-01" and "value" not in fields["period_end"]
    assert fields["parent"]["value"] == "none" and fields["weight"]["value"] == -1
    assert fields["kr1_target"].get("value") is None and len(fields["kr2_title"]["value"]) == 200


# --- payloads: updates -------------------------------------------------------------------------------


def update_data(**overrides: Any) -> dict[str, Any]:
    data = {"key_result_id": 11, "version": 3, "goal_id": 1, "person_id": ADELE, "value_11": "7.5"}
    data |= {"comment_11": "  halfway  ", "value_12": "1"}  # other key results' inputs come along
    return {k: v for k, v in (data | overrides).items() if v is not None}


def test_an_update_payload_parses_to_typed_values() -> None:
    parsed = gp.parse_key_result_update(update_data())
    assert parsed == gp.KeyResultUpdateInput(11, 3, 1, ADELE, 7.5, "halfway", confidence=None, focus=False)
    assert gp.parse_key_result_update(update_data(confidence_11="8")).confidence == 8


@pytest.mark.parametrize("confidence", ["0", "11", "7.5", "sure"])
def test_a_confidence_outside_1_to_10_is_refused(confidence: str) -> None:
    with pytest.raises(PayloadError, match=r"[Cc]onfidence"):
        gp.parse_key_result_update(update_data(confidence_11=confidence))
    assert gp.parse_key_result_update(update_data(value_11=3, key_result_id="11", focus=True)).value == 3.0
    assert gp.parse_key_result_update(update_data(focus=True)).focus


@pytest.mark.parametrize(
    "overrides",
    [
        {"key_result_id": None},
        {"key_result_id": "eleven"},
        {"key_result_id": -11},
        {"key_result_id": True},
        {"key_result_id": 11.0},
        {"key_result_id": "9" * 30},
        {"version": None},
        {"goal_id": {"id": 1}},
        {"person_id": None},
    ],
)
def test_missing_or_forged_ids_say_the_card_is_out_of_date(overrides: dict[str, Any]) -> None:
    with pytest.raises(PayloadError, match="This card is out of date or incomplete: it doesn't say"):
        gp.parse_key_result_update(update_data(**overrides))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("lots", "The new value must be a number, like 42 or 3.5."),
        ("1e999", "The new value must be a number"),
        ("nan", "The new value must be a number"),
        (True, "The new value must be a number."),
        ("4" * 50, "The new value must be a number"),
        ("   ", "Please enter the new value before pressing Update."),
    ],
)
def test_a_value_that_is_not_a_number_is_refused_without_echoing_it(value: Any, message: str) -> None:
    with pytest.raises(PayloadError) as refused:
        gp.parse_key_result_update(update_data(value_11=value))
    assert str(refused.value).startswith(message)
    assert "lots" not in str(refused.value)


def test_show_goals_payload() -> None:
    assert gp.parse_show_goals({}) == gp.ShowGoalsInput(None, None)
    assert gp.parse_show_goals({"person_id": "22", "goal_id": 7}) == gp.ShowGoalsInput(22, 7)
    with pytest.raises(PayloadError):
        gp.parse_show_goals({"person_id": "Adele"})


# --- payloads: new goals -----------------------------------------------------------------------------


def new_goal_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "request_id": REQUEST,
        "title": "  Grow the platform ",
        "period": "2026-Q4",
        "visibility": "public",
        "kind": "development",
        "parent": "none",
        "weight": "2",
        "kr1_title": "Teams onboarded",
        "kr1_metric": "number",
        "kr1_start": "0",
        "kr1_target": "12",
        "kr1_unit": "teams",
        "kr2_title": "Beta shipped",
        "kr2_metric": "boolean",
        "kr2_start": "0",
        "kr3_metric": "number",
        "kr3_start": "0",  # an untouched row: defaults only
    }
    return {k: v for k, v in (data | overrides).items() if v is not None}


def test_a_new_goal_payload_parses_to_typed_values() -> None:
    new = gp.parse_new_goal(new_goal_data())
    assert (new.request_id, new.title, new.description, new.period) == (
        REQUEST,
        "Grow the platform",
        None,
        Q4,
    )
    assert (new.visibility, new.kind, new.parent_id, new.weight) == ("public", "development", None, 2.0)
    teams, beta = new.key_results
    assert (teams.title, teams.metric, teams.start, teams.target, teams.unit) == (
        "Teams onboarded",
        "number",
        0,
        12,
        "teams",
    )
    assert (beta.metric, beta.start, beta.target) == ("boolean", 0, 1), "yes/no targets yes by default"
    custom = gp.parse_new_goal(
        new_goal_data(
            period="custom", period_start="2026-11-20", period_end="2027-02-28", parent="5", weight=""
        )
    )
    assert custom.period == Period("custom", date(2026, 11, 20), date(2027, 2, 28))
    assert (custom.parent_id, custom.weight) == (5, 1.0)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"request_id": None}, "it doesn't say which request it is. Type “new goal”"),
        ({"request_id": "x" * 32}, "it doesn't say which request it is"),
        ({"title": "   "}, "Please fill in “Title”"),
        ({"period": "2026-Q5"}, "“2026-Q5” is not a period I know"),
        ({"period": "custom"}, "A custom period needs a “Start date”."),
        ({"period": "custom", "period_start": "2026-12-01", "period_end": "31/12/2026"}, "must be a date"),
        (
            {"period": "custom", "period_start": "2026-12-01", "period_end": "2026-11-01"},
            "The period ends (2026-11-01) before it starts (2026-12-01).",
        ),
        ({"visibility": "everyone"}, "Please choose one of the options offered for “Who can see it”."),
        ({"parent": "goal 5"}, "it doesn't say which goal to align it to"),
        ({"weight": "heavy"}, "The weight must be a number"),
        ({"kr3_target": "4"}, "Key result 3 has a target but no title"),
        ({"kr1_target": None}, "Key result 1 needs a target"),
        ({"kr1_metric": "vibes"}, "Please choose one of the options offered for “Key result 1 measured as”."),
        ({"kr1_start": "zero"}, "Key result 1's start value must be a number"),
    ],
)
def test_a_new_goal_payload_is_refused_with_a_clear_message(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(PayloadError) as refused:
        gp.parse_new_goal(new_goal_data(**overrides))
    assert message in str(refused.value)
