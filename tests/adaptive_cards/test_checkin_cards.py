"""Check-in cards pass the Teams rules and the real renderer at any team size; their payloads parse into
answers or fail with a message for the person."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from adaptive_cards import checkins as cards
from adaptive_cards.elements import card_size_bytes
from adaptive_cards.payloads import PayloadError
from domain.performance.checkin_views import (
    CheckInAnswers,
    CheckInDayView,
    CheckInView,
    CommentView,
    DigestView,
    KeyResultChange,
    KeyResultLine,
    KeyResultValue,
    TalkingPointView,
)
from tests.support.cards import CardValidator, card_validator, validate_card  # noqa: F401

MONDAY = date(2026, 11, 23)
AT = datetime(2026, 11, 26, 9, tzinfo=UTC)
TRICKY = '*not bold* [link](https://x.test) {{DATE(2026-11-26T09:00:00Z)}} <b>b</b> "quoted"'


def a_checkin(
    checkin_id: int = 7, name: str = "Adele Vance", answer: str = "Shipped it", **more: Any
) -> CheckInView:
    fields: dict[str, Any] = {
        "id": checkin_id,
        "person_id": checkin_id * 10,
        "person_name": name,
        "week_start": MONDAY,
        "due_on": date(2026, 11, 26),
        "submitted_at": AT,
        "mood": 4,
        "wins": answer,
        "blockers": answer,
        "priorities": answer,
        "changes": (KeyResultChange("Stories", None, 0, 3), KeyResultChange("Churn", "%", 8, 6.5)),
        "open_points": (TalkingPointView(checkin_id * 100, "Conference budget", name, MONDAY),),
        "comments": (CommentView(1, checkin_id, checkin_id * 10, "Alex Wilber", "Nice", AT, MONDAY),),
    }
    return CheckInView(**(fields | more))


def a_form(**more: Any) -> CheckInView:
    fields: dict[str, Any] = {
        "submitted_at": None,
        "mood": None,
        "wins": None,
        "blockers": None,
        "priorities": None,
        "changes": (),
        "comments": (),
        "key_results": (
            KeyResultLine(11, "Launch", "Teams onboarded", "number", None, 2, 10, 3),
            KeyResultLine(12, "Launch", "Announced", "boolean", None, 0, 1, 1),
            KeyResultLine(13, "Quality", "Milestones", "milestone", None, 1, 4, 2),
        ),
        "previous_priorities": "Write the docs",
    }
    return a_checkin(**(fields | more))


def a_digest(checkins: int, answer: str = "Shipped it", **more: Any) -> DigestView:
    views = tuple(a_checkin(i + 1, f"Report {i + 1}", answer) for i in range(checkins))
    fields = {
        "manager_id": 1,
        "manager_name": "Alex Wilber",
        "week_start": MONDAY,
        "checkins": views,
        "waiting": ("Isaiah Langer",),
        "has_reports": True,
        "seen_comment": 1,
    }
    return DigestView(**(fields | more))


CARDS: dict[str, Callable[[], dict[str, Any]]] = {
    "form": lambda: cards.checkin_card(a_form()),
    "form-no-goals-no-points": lambda: cards.checkin_card(a_form(key_results=(), open_points=())),
    "form-refused-with-draft": lambda: cards.checkin_card(
        a_form(),
        notice="“Teams onboarded” was updated meanwhile (it is now 4): check it and try again.",
        draft=CheckInAnswers(mood=2, wins=TRICKY, key_results=(KeyResultValue(11, 5, 3),)),
    ),
    "reminder": lambda: cards.checkin_reminder_card(a_form()),
    "submitted": lambda: cards.checkin_submitted_card(a_checkin(answer=TRICKY)),
    "already-submitted": lambda: cards.checkin_card(a_checkin(already_submitted=True)),
    "digest": lambda: cards.checkin_digest_card(a_digest(3), done="Sent 1 reply."),
    "digest-refused": lambda: cards.checkin_digest_card(a_digest(1), notice="Write a reply first."),
    "digest-nobody-yet": lambda: cards.checkin_digest_card(a_digest(0)),
    "digest-no-reports": lambda: cards.checkin_digest_card(a_digest(0, has_reports=False, waiting=())),
    "digest-large-team-long-answers": lambda: cards.checkin_digest_card(a_digest(40, "x" * 2000)),
    "digest-huge-team": lambda: cards.checkin_digest_card(a_digest(400, "x" * 2000)),
    "comment": lambda: cards.checkin_comment_card(CommentView(3, 7, 70, "Alex Wilber", TRICKY, AT, MONDAY)),
    "day-default": lambda: cards.checkin_day_card(
        CheckInDayView(4, False, False, date(2026, 11, 27), "America/Port_of_Spain", True)
    ),
    "day-saved": lambda: cards.checkin_day_card(
        CheckInDayView(3, False, True, date(2026, 11, 26), "UTC", False), saved=True
    ),
    "day-paused": lambda: cards.checkin_day_card(CheckInDayView(3, True, True, None, "Asia/Tokyo", True)),
}


@pytest.mark.parametrize("name", CARDS)
async def test_card_passes_rules_and_renders(name: str, card_validator: CardValidator) -> None:
    card = CARDS[name]()
    report = await validate_card(card)
    assert report["texts"]
    assert card_size_bytes(card) < 80_000


async def test_the_form_offers_every_part_of_the_check_in(card_validator: CardValidator) -> None:
    card = cards.checkin_card(a_form())
    inputs = {el["id"]: el for el in _inputs(card)}

    assert set(inputs) == {
        "mood",
        "kr_11",
        "kr_12",
        "kr_13",
        "wins",
        "blockers",
        "priorities",
        "resolve_points",
        "new_point",
    }
    assert [c["title"] for c in inputs["mood"]["choices"]] == [
        "Rough (1)",
        "Not great (2)",
        "Okay (3)",
        "Good (4)",
        "Great (5)",
    ]
    assert inputs["kr_11"]["label"] == "Launch · Teams onboarded (now 2 of 10)"
    assert (inputs["kr_12"]["min"], inputs["kr_12"]["max"]) == (0, 1)
    assert (inputs["kr_13"]["min"], inputs["kr_13"]["max"]) == (0, 4)
    assert all("value" not in inputs[k] for k in ("kr_11", "kr_12", "kr_13")), "empty means unchanged"
    assert inputs["wins"]["maxLength"] == 2000
    [action] = card["actions"]
    assert action["data"] == {"checkin_id": 7, "versions": {"11": 3, "12": 1, "13": 2}}
    assert action["fallback"]["data"]["verb"] == "checkin.submit"
    text = " ".join((await validate_card(card))["texts"])
    assert "Write the docs" in text and "Conference budget" in text


async def test_a_refused_form_keeps_what_the_person_typed(card_validator: CardValidator) -> None:
    draft = CheckInAnswers(
        mood=2, wins=TRICKY, new_talking_point="Budget", key_results=(KeyResultValue(11, 5, 3),)
    )
    card = cards.checkin_card(a_form(), notice="Changed meanwhile.", draft=draft)
    inputs = {el["id"]: el for el in _inputs(card)}

    assert (inputs["mood"]["value"], inputs["wins"]["value"], inputs["new_point"]["value"]) == (
        "2",
        TRICKY,
        "Budget",
    )
    assert inputs["kr_11"]["value"] == 5
    assert "Changed meanwhile." in (await validate_card(card))["texts"]


async def test_text_from_people_shows_exactly_as_typed(card_validator: CardValidator) -> None:
    report = await validate_card(cards.checkin_submitted_card(a_checkin(answer=TRICKY)))
    shown = [t.replace("\u2060", "") for t in report["texts"]]
    assert f"Wins: {TRICKY}" in shown


async def test_the_digest_has_one_reply_button_and_a_box_per_check_in(card_validator: CardValidator) -> None:
    card = cards.checkin_digest_card(a_digest(8))
    inputs = [el["id"] for el in _inputs(card)]

    assert inputs.count("resolve_points") == 1
    assert [i for i in inputs if i.startswith("comment_")] == [f"comment_{i}" for i in range(1, 9)]
    assert [a["title"] for a in card["actions"]] == ["Reply", "Refresh"]
    assert card["actions"][0]["data"] == {"week": "2026-11-23", "seen_comment": 1}


def test_a_huge_digest_still_fits_and_says_what_was_left_out() -> None:
    card = cards.checkin_digest_card(a_digest(400, "x" * 2000))
    text = str(card)
    assert card_size_bytes(card) < 80_000
    assert "more check-ins didn't fit on this card" in text


def test_a_digest_with_long_answers_shortens_them_rather_than_dropping_people() -> None:
    card = cards.checkin_digest_card(a_digest(20, "y" * 2000))
    assert len([i for i in _inputs(card) if i["id"].startswith("comment_")]) == 20
    assert "didn't fit" not in str(card)


# --- payloads ----------------------------------------------------------------------------------------


def test_a_submitted_form_parses_into_answers() -> None:
    checkin_id, answers = cards.parse_checkin_submit(
        {
            "checkin_id": 7,
            "versions": {"11": 3, "12": 1},
            "verb": "checkin.submit",
            "mood": "4",
            "wins": " Shipped \r\n it ",
            "blockers": "",
            "kr_11": "5.5",
            "kr_12": "",
            "new_point": "Budget",
            "resolve_points": "100,200,100",
        }
    )

    assert checkin_id == 7
    assert answers == CheckInAnswers(
        mood=4,
        wins="Shipped \n it",
        blockers=None,
        priorities=None,
        key_results=(KeyResultValue(11, 5.5, 3),),
        new_talking_point="Budget",
        resolved_points=(100, 200),
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"mood": "7"}, "Please choose one of the options offered for “How was your week?”."),
        ({"mood": ""}, "Please choose “How was your week?”."),
        ({"wins": "w" * 2001}, "“Wins” is too long: please use at most 2000 characters (it has 2001)."),
        ({"new_point": "p" * 501}, "is too long"),
        ({"kr_11": "lots"}, "Please enter a number for each key result"),
        ({"kr_11": "1e999"}, "Please enter a number for each key result"),
        ({"kr_99": "1"}, "out of date"),  # a key result the card never showed: no version
        ({"checkin_id": "seven"}, "out of date"),
        ({"checkin_id": True}, "out of date"),
        ({"versions": None}, "out of date"),
        ({"resolve_points": "1,x"}, "out of date"),
    ],
)
def test_a_bad_form_fails_with_a_message_for_the_person(change: dict[str, Any], message: str) -> None:
    data = {"checkin_id": 7, "versions": {"11": 3}, "mood": "3"} | change
    with pytest.raises(PayloadError, match=re.escape(message)):
        cards.parse_checkin_submit(data)


def test_a_digest_reply_parses() -> None:
    week, comments, resolved, seen = cards.parse_checkin_reply(
        {
            "week": "2026-11-23",
            "seen_comment": 4,
            "comment_7": " Nice ",
            "comment_8": "",
            "resolve_points": "3",
        }
    )
    assert (week, comments, resolved, seen) == (MONDAY, {7: "Nice"}, (3,), 4)

    for bad in (
        {"week": "soon"},
        {"week": "2026-11-23", "seen_comment": -1},
        {"week": "2026-11-23", "comment_x": "hi"},
    ):
        with pytest.raises(PayloadError):
            cards.parse_checkin_reply(bad)
    with pytest.raises(PayloadError, match="“Reply” is too long"):
        cards.parse_checkin_reply({"week": "2026-11-23", "comment_7": "r" * 1001})


@pytest.mark.parametrize(
    ("typed", "weekday"),
    [("thursday", 3), ("Thu", 3), ("  FRIDAY. ", 4), ("sun", 6), ("off", None), ("pause", None)],
)
def test_a_typed_day(typed: str, weekday: int | None) -> None:
    assert cards.parse_weekday(typed) == weekday


def test_an_unknown_typed_day_is_quoted_shortened() -> None:
    with pytest.raises(PayloadError, match="“blursday” is not a day I know"):
        cards.parse_weekday("blursday")
    with pytest.raises(PayloadError, match="Say which day"):
        cards.parse_weekday("  ")
    with pytest.raises(PayloadError) as refused:
        cards.parse_weekday("x" * 500)
    assert len(str(refused.value)) < 120


def test_the_day_card_says_which_time_zone_the_day_follows() -> None:
    own = cards.checkin_day_card(CheckInDayView(4, False, True, None, "America/Port_of_Spain", True))
    assert "Days follow your time zone, America/Port_of_Spain: the card comes from 09:00 your time." in str(
        own
    )
    assert "UTC" not in str(own)

    default = cards.checkin_day_card(CheckInDayView(4, False, True, None, "UTC", False))
    assert "Your profile has no time zone, so days follow your organization's, UTC" in str(default)
    assert "the card comes from 09:00 UTC." in str(default)


def test_the_day_card_payload() -> None:
    assert cards.parse_checkin_day({"weekday": "0"}) == 0
    assert cards.parse_checkin_day({"weekday": "off"}) is None
    with pytest.raises(PayloadError):
        cards.parse_checkin_day({"weekday": "8"})


def _inputs(node: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(node, dict):
        if str(node.get("type", "")).startswith("Input."):
            found.append(node)
        for key, value in node.items():
            if key != "data":
                found += _inputs(value)
    elif isinstance(node, list):
        for item in node:
            found += _inputs(item)
    return found
