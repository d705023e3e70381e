"""Cards pass the Teams rules and the real adaptivecards renderer; payloads fail with clear messages."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from adaptive_cards import (
    COMMANDS,
    HR_ADMIN,
    MANAGER,
    TALENT_REVIEWER,
    CardTooLarge,
    PayloadError,
    action_verb_and_data,
    already_done_card,
    card_size_bytes,
    error_card,
    greeting_card,
    help_card,
    not_in_directory_card,
    optional_text,
    require_choice,
    require_int,
    require_text,
    submit_data,
    submit_verb_and_data,
    thanks_reply_text,
    welcome_card,
)
from adaptive_cards import elements as el
from tests.support.cards import (
    CardValidator,
    card_validator,  # noqa: F401 - pytest fixture
    renderer_problems,
    store_rule_problems,
    validate_card,
    validate_card_sync,
)

ALL_ROLES = frozenset({MANAGER, HR_ADMIN, TALENT_REVIEWER})
HOME = "https://trellis.example.com/tabs/home"
TRICKY = 'He said "hi" {name} {{x}} }} ${y} <b>bold</b> &amp; *not italic* [link](https://x.test) \\n'
TYPED = 'say "hi" {name} {{x}} }} ${y} <b>b</b> &amp; *x* [a](b) \\n'  # under the 80-character cut


def _text(report: dict[str, Any]) -> str:
    return "\n".join(report["texts"])


# --- every card passes the rules and renders -----------------------------------------------------------

CARDS: dict[str, Callable[[], dict[str, Any]]] = {
    "welcome-employee": lambda: welcome_card(
        app_name="Trellis", person_name="Alex Wilber", roles=frozenset()
    ),
    "welcome-everything": lambda: welcome_card(
        app_name="Trellis", person_name=None, roles=ALL_ROLES, home_url=HOME
    ),
    "help": lambda: help_card(roles=frozenset()),
    "help-all-roles-home": lambda: help_card(roles=ALL_ROLES, home_url=HOME),
    "help-unknown": lambda: help_card(roles=frozenset({MANAGER}), unknown_text=TRICKY),
    "help-unknown-blank": lambda: help_card(roles=frozenset(), unknown_text="   "),
    "greeting": lambda: greeting_card(person_name="Megan Bowen"),
    "greeting-anonymous": lambda: greeting_card(person_name=None),
    "error": lambda: error_card(message="I couldn't save your goal. Please try again in a minute."),
    "error-retry-verb": lambda: error_card(
        message="That took too long.", retry={"verb": "goal.save", "data": {"goal_id": 7}}
    ),
    "error-retry-action": lambda: error_card(
        message="That took too long.", retry=el.execute("Try again", "goal.save", {"goal_id": 7})
    ),
    "not-in-directory": lambda: not_in_directory_card(display_name=None, hr_contact=None),
    "not-in-directory-full": lambda: not_in_directory_card(
        display_name="Adele Vance",
        hr_contact="people-team@contoso.example",
        entra_object_id="00000000-0000-0000-0000-000000000022",
    ),
    "not-in-directory-named-contact": lambda: not_in_directory_card(
        display_name="Adele", hr_contact="Patti Fernandez (HR)"
    ),
    "already-done": lambda: already_done_card(title="Check-in sent", message=TRICKY),
}


@pytest.mark.parametrize("name", CARDS)
async def test_card_passes_rules_and_renders(name: str, card_validator: CardValidator) -> None:
    card = CARDS[name]()
    report = await validate_card(card)
    assert report["texts"], "the rendered card shows no text"
    assert card_size_bytes(card) < 80_000


async def test_every_builder_renders_together(card_validator: CardValidator) -> None:
    card = el.card(
        [
            el.heading("Goal"),
            el.text(
                "Quarter goal", size="Medium", weight="Bolder", color="Accent", subtle=True, spacing="Small"
            ),
            el.plain_text(TRICKY, subtle=True),
            el.fact_set([("Owner", "Alex"), ("Due", "2026-12-31")]),
            el.bullet_list(["one", "two"]),
            el.column_set([el.column([el.text("left")], width="auto"), el.column([el.text("right")])]),
            el.container([el.image("https://trellis.example.com/i.png", "Progress chart")], style="emphasis"),
            el.input_text(
                "title", "Title", required=True, max_length=200, placeholder="What will you achieve?"
            ),
            el.input_text("notes", "Notes", multiline=True, value="draft"),
            el.input_choice("status", "Status", [("On track", "on"), ("At risk", "risk")], required=True),
            el.input_choice("tags", "Tags", [("A", "a"), ("B", "b")], multi_select=True, expanded=True),
            el.input_number("progress", "Progress (%)", min=0, max=100, value=40),
            el.input_date("due", "Due date", value="2026-12-31"),
            el.action_set([el.execute("Save", "goal.save", {"goal_id": 1}, style="positive")]),
        ],
        [
            el.execute("Cancel", "goal.cancel", associated_inputs="none"),
            el.execute("Legacy", "goal.legacy", {"goal_id": 1}, submit_fallback=True),
            el.submit("Send", {"kind": "feedback"}),
            el.open_url("Open", HOME),
        ],
        refresh=el.refresh_for("goal.view", user_ids=["29:1"], data={"goal_id": 1}),
    )
    report = await validate_card(card)
    assert report["inputIds"] == ["title", "notes", "status", "tags", "progress", "due"]
    assert report["images"] == [{"src": "https://trellis.example.com/i.png", "alt": "Progress chart"}]
    assert {"Title *", "Save", "Cancel", "Legacy", "Send", "Open"} <= set(report["texts"])
    assert TRICKY.strip() in report["texts"]


# --- the validator can fail ------------------------------------------------------------------------------


def _raw(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    card: dict[str, Any] = {"$schema": el.SCHEMA, "type": "AdaptiveCard", "version": "1.5", "body": body}
    if actions:
        card["actions"] = actions
    return card


async def test_renderer_reports_unknown_element_type(card_validator: CardValidator) -> None:
    broken = _raw([{"type": "TextBlok", "text": "typo", "wrap": True}])
    report = await card_validator.validate(broken)
    assert not report["ok"]
    assert [e["event"] for e in report["parseEvents"]] == ["UnknownElementType"]
    assert store_rule_problems(broken) == []  # only the renderer knows the element types
    with pytest.raises(AssertionError, match="UnknownElementType"):
        await validate_card(broken)


async def test_renderer_reports_unknown_action_type(card_validator: CardValidator) -> None:
    report = await card_validator.validate(_raw([], [{"type": "Action.Exécute", "title": "Go"}]))
    assert [e["event"] for e in report["parseEvents"]] == ["UnknownActionType"]


async def test_renderer_reports_duplicate_input_ids(card_validator: CardValidator) -> None:
    broken = _raw([el.input_text("title", "Title"), el.input_text("title", "Title again")])
    report = await card_validator.validate(broken)
    assert "DuplicateId" in [e["event"] for e in report["validationEvents"]]
    assert any("duplicate input ids" in p for p in store_rule_problems(broken))


async def test_renderer_reports_required_input_without_label(card_validator: CardValidator) -> None:
    broken = _raw([{"type": "Input.Text", "id": "title", "isRequired": True}])
    report = await card_validator.validate(broken)
    events = [e["event"] for e in report["validationEvents"]]
    assert "RequiredInputsShouldHaveLabel" in events
    assert "RequiredInputsShouldHaveErrorMessage" in events
    with pytest.raises(AssertionError, match="without a label"):
        await validate_card(broken)


async def test_renderer_reports_too_many_actions_in_one_set(card_validator: CardValidator) -> None:
    broken = _raw([], [el.execute(f"Do {i}", f"verb.{i}") for i in range(7)])
    report = await card_validator.validate(broken)
    assert "TooManyActions" in [e["event"] for e in report["validationEvents"]]


async def test_renderer_survives_garbage_and_keeps_serving(card_validator: CardValidator) -> None:
    report = await card_validator.validate({"type": "AdaptiveCard", "body": "not a list"})
    assert renderer_problems(report) or store_rule_problems({"type": "AdaptiveCard", "body": "not a list"})
    assert (await card_validator.validate(_raw([el.text("still here")])))["ok"]


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        (_raw([{"type": "TextBlock", "text": "no wrap"}]), "without wrap"),
        (
            _raw([el.container([el.column_set([el.column([{"type": "TextBlock", "text": "deep"}])])])]),
            "without wrap",
        ),
        (
            _raw(
                [],
                [
                    {
                        "type": "Action.ShowCard",
                        "title": "More",
                        "card": _raw([{"type": "TextBlock", "text": "x"}]),
                    }
                ],
            ),
            "without wrap",
        ),
        ({**_raw([el.text("x")]), "version": "1.6"}, "newer than Teams renders"),
        (_raw([{"type": "Image", "url": "https://x.test/a.png"}]), "without altText"),
        (_raw([{"type": "Input.Text", "id": "a"}]), "without a label"),
        (
            _raw([{"type": "Input.Text", "id": "a", "label": "A", "isRequired": True}]),
            "without an errorMessage",
        ),
        (_raw([], [{"type": "Action.Execute", "title": "Go"}]), "without a verb"),
        (_raw([], [el.open_url("Open", "http://insecure.test")]), "https:// or mailto:"),
        (
            _raw(
                [el.action_set([el.execute(f"B{i}", f"v{i}") for i in range(3)])],
                [el.execute(f"A{i}", f"w{i}") for i in range(4)],
            ),
            "7 actions",
        ),
        (_raw([el.text("x" * 41_000)]), "bytes (UTF-16)"),
        ({**_raw([el.text("x")]), "$schema": None}, "$schema"),
    ],
)
def test_store_rules_catch(broken: dict[str, Any], problem: str) -> None:
    assert any(problem in p for p in store_rule_problems(broken)), store_rule_problems(broken)


def test_action_data_with_a_type_key_is_not_mistaken_for_an_element() -> None:
    card = el.card([el.text("x")], [el.execute("Go", "go", {"type": "TextBlock"})])
    assert store_rule_problems(card) == []


# --- welcome and help content ------------------------------------------------------------------------------


async def test_welcome_for_an_employee_shows_only_the_employee_part(card_validator: CardValidator) -> None:
    text = _text(await validate_card(welcome_card(app_name="Trellis", person_name="Alex", roles=frozenset())))
    assert "Welcome to Trellis" in text
    assert "Hi Alex!" in text
    assert "goals, feedback, check-ins and reviews" in text
    assert "Set goals and update your progress" in text
    for other in ("As a manager", "As an HR admin", "As a talent reviewer"):
        assert other not in text
    for command, description in COMMANDS:
        assert command in text and description in text
    assert "Show help" in text


@pytest.mark.parametrize(
    ("role", "heading"),
    [(MANAGER, "As a manager"), (HR_ADMIN, "As an HR admin"), (TALENT_REVIEWER, "As a talent reviewer")],
)
async def test_welcome_shows_a_role_section_only_for_that_role(
    role: str,
    heading: str,
    card_validator: CardValidator,
) -> None:
    report = await validate_card(welcome_card(app_name="Trellis", person_name=None, roles=frozenset({role})))
    text = _text(report)
    assert heading in text and "For you" in text
    others = {"As a manager", "As an HR admin", "As a talent reviewer"} - {heading}
    assert not any(other in text for other in others)


def test_welcome_accepts_role_enums_and_links_home() -> None:
    from enum import StrEnum

    class Role(StrEnum):
        MANAGER = "manager"

    card = welcome_card(app_name="Trellis", person_name=None, roles=frozenset({Role.MANAGER}), home_url=HOME)
    assert "As a manager" in json.dumps(card)
    assert {"type": "Action.OpenUrl", "title": "Open Trellis", "url": HOME} in card["actions"]
    assert card["actions"][0] == {"type": "Action.Execute", "title": "Show help", "verb": "help", "data": {}}


async def test_help_quotes_unknown_text_literally(card_validator: CardValidator) -> None:
    report = await validate_card(help_card(roles=frozenset(), unknown_text=TYPED))
    assert report["texts"][0] == f"I didn't understand “{TYPED.strip()}”."
    assert "Here's what I can help with." in report["texts"]


async def test_help_truncates_long_unknown_text(card_validator: CardValidator) -> None:
    typed = "please " * 200 + "{{DATE(2026-01-01T00:00:00Z)}}"
    first = (await validate_card(help_card(roles=frozenset(), unknown_text=typed)))["texts"][0]
    quoted = first.removeprefix("I didn't understand “").removesuffix("”.")
    assert len(quoted) <= 80 and quoted.endswith("…") and quoted.startswith("please please")


async def test_date_functions_in_typed_text_are_not_evaluated(card_validator: CardValidator) -> None:
    typed = "due {{DATE(2026-01-01T00:00:00Z, SHORT)}} at {{TIME(2026-01-01T09:00:00Z)}}"
    first = (await validate_card(help_card(roles=frozenset(), unknown_text=typed)))["texts"][0]
    assert first.replace("\u2060", "") == f"I didn't understand “{typed}”."


async def test_help_without_unknown_text_is_not_the_welcome(card_validator: CardValidator) -> None:
    text = _text(await validate_card(help_card(roles=frozenset())))
    assert "What Trellis can do" in text and "Welcome" not in text and "didn't understand" not in text


async def test_small_talk_has_answers(card_validator: CardValidator) -> None:
    text = _text(await validate_card(greeting_card(person_name="Megan")))
    assert "Hi Megan!" in text and "help" in text
    assert "help" in thanks_reply_text() and len(thanks_reply_text()) < 120


def test_commands_fit_the_manifest_limits() -> None:
    assert 1 <= len(COMMANDS) <= 10
    for command, description in COMMANDS:
        assert 0 < len(command) <= 32 and not command.startswith("/")
        assert 0 < len(description) <= 128


async def test_error_card_offers_retry_and_hides_nothing_technical(card_validator: CardValidator) -> None:
    card = error_card(message="I couldn't save that.", retry={"verb": "goal.save", "data": {"goal_id": 7}})
    assert card["actions"] == [
        {"type": "Action.Execute", "title": "Try again", "verb": "goal.save", "data": {"goal_id": 7}}
    ]
    text = _text(await validate_card(card))
    assert "Something went wrong" in text and "I couldn't save that." in text
    with pytest.raises(ValueError):
        error_card(message="x", retry={"data": {}})


async def test_not_in_directory_says_what_to_ask_hr(card_validator: CardValidator) -> None:
    card = not_in_directory_card(
        display_name="Adele", hr_contact="hr@contoso.example", entra_object_id="abc-123"
    )
    text = _text(await validate_card(card))
    assert "You're not in Trellis's directory yet" in text
    assert "hr@contoso.example" in text and "Microsoft Entra object id" in text and "abc-123" in text
    assert card["actions"][0]["url"].startswith("mailto:hr@contoso.example?subject=")
    plain = not_in_directory_card(display_name=None, hr_contact=None)
    assert "your HR team" in json.dumps(plain) and "actions" not in plain


async def test_already_done_card(card_validator: CardValidator) -> None:
    report = await validate_card(already_done_card(title="Feedback sent", message="Thanks!"))
    assert report["texts"][:2] == ["Feedback sent", "Thanks!"] and report["actionCount"] == 0


# --- builders' own guards --------------------------------------------------------------------------------


def test_card_too_large_is_refused() -> None:
    with pytest.raises(CardTooLarge) as info:
        el.card([el.text("é" * 7_000)])  # 7,000 * "\u00e9" (6 chars) * 2 bytes > 80 KB
    assert info.value.size > 80_000
    assert card_size_bytes({"a": "é"}) == len('{"a": "\\u00e9"}') * 2


def test_builders_refuse_what_teams_would_reject() -> None:
    with pytest.raises(ValueError):
        el.image("https://x.test/a.png", " ")
    with pytest.raises(ValueError):
        el.input_text("a", "")
    with pytest.raises(ValueError):
        el.execute("Go", "")
    with pytest.raises(ValueError):
        el.input_choice("a", "A", [])
    with pytest.raises(ValueError):
        el.refresh_for("v", user_ids=[str(i) for i in range(61)])
    with pytest.raises(ValueError):
        el.execute("Go", "go", {"verb": "x"}, submit_fallback=True)
    assert el.input_text("t", "Title", required=True)["errorMessage"] == "Please fill in “Title”."


def test_adaptive_cards_imports_nothing_it_must_not() -> None:
    code = (
        "import sys, adaptive_cards, adaptive_cards.payloads;"
        "bad = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'sqlalchemy', 'botbuilder', 'botframework', 'aiohttp', 'jinja2',"
        " 'domain', 'storage', 'bot', 'tabs'});"
        "print(','.join(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


async def test_many_cards_validate_quickly(card_validator: CardValidator) -> None:
    import time

    started = time.perf_counter()
    for i in range(200):
        await validate_card(help_card(roles=ALL_ROLES, unknown_text=f"thing {i}"))
    assert time.perf_counter() - started < 20  # typically well under a second; the bound only catches hangs


def test_sync_wrapper_validates_too() -> None:
    assert "Show help" in validate_card_sync(greeting_card(person_name=None))["texts"]
    with pytest.raises(AssertionError, match="without wrap"):
        validate_card_sync(_raw([{"type": "TextBlock", "text": "no wrap"}]))


# --- payloads ------------------------------------------------------------------------------------------


def test_require_text_trims_and_limits() -> None:
    assert require_text({"title": "  Ship it \r\n"}, "title", label="Title", max_len=200) == "Ship it"
    assert require_text({"t": "a\x00b\r\nc"}, "t", label="T", max_len=10) == "ab\nc"
    for data in ({}, {"title": "   "}, {"title": None}):
        with pytest.raises(PayloadError) as info:
            require_text(data, "title", label="Title", max_len=200)
        assert str(info.value) == "Please fill in “Title” (at most 200 characters)."
    with pytest.raises(
        PayloadError, match=r"“Title” is too long: please use at most 5 characters \(it has 6\)\."
    ):
        require_text({"title": "abcdef"}, "title", label="Title", max_len=5)
    with pytest.raises(PayloadError, match="with text"):
        require_text({"title": ["x"]}, "title", label="Title", max_len=5)


def test_optional_text() -> None:
    assert optional_text({}, "notes", label="Notes", max_len=10) is None
    assert optional_text({"notes": "  "}, "notes", label="Notes", max_len=10) is None
    assert optional_text({"notes": " hi "}, "notes", label="Notes", max_len=10) == "hi"


def test_require_choice() -> None:
    assert require_choice({"s": "on"}, "s", label="Status", choices=("on", "risk")) == "on"
    with pytest.raises(PayloadError, match=r"^Please choose “Status”\.$"):
        require_choice({}, "s", label="Status", choices=("on",))
    with pytest.raises(PayloadError, match=r"^Please choose one of the options offered for “Status”\.$"):
        require_choice({"s": "<script>"}, "s", label="Status", choices=("on",))


@pytest.mark.parametrize(
    ("raw", "expected"), [("5", 5), (" 100 ", 100), ("0", 0), (7, 7), (3.0, 3), ("4.0", 4)]
)
def test_require_int_accepts(raw: Any, expected: int) -> None:
    assert require_int({"p": raw}, "p", label="Progress", min=0, max=100) == expected


@pytest.mark.parametrize("raw", [None, "", "abc", "101", "-1", "2.5", True, 2.5, "1e3", "9" * 40, [1]])
def test_require_int_refuses(raw: Any) -> None:
    with pytest.raises(PayloadError) as info:
        require_int({"p": raw}, "p", label="Progress", min=0, max=100)
    assert str(info.value) == "Please enter a whole number from 0 to 100 for “Progress”."


def test_action_verb_and_data_reads_a_teams_invoke() -> None:
    value = {
        "action": {"type": "Action.Execute", "verb": "goal.save", "data": {"goal_id": 3, "title": "x"}},
        "trigger": "manual",
    }
    assert action_verb_and_data(value) == ("goal.save", {"goal_id": 3, "title": "x"})
    assert action_verb_and_data({"action": {"type": "Action.Execute", "verb": "help"}}) == ("help", {})


@pytest.mark.parametrize(
    "value",
    [
        None,
        "help",
        {},
        {"action": None},
        {"action": {"type": "Action.Execute"}},
        {"action": {"verb": "  "}},
        {"action": {"verb": "v", "data": "not a dict"}},
        {"action": {"verb": 3}},
    ],
)
def test_action_verb_and_data_refuses_bad_invokes(value: Any) -> None:
    with pytest.raises(PayloadError, match="Please try again from a fresh card"):
        action_verb_and_data(value)


def test_submit_data_and_fallback_verb() -> None:
    assert submit_data({"kind": "feedback", "text": "hi"}) == {"kind": "feedback", "text": "hi"}
    with pytest.raises(PayloadError):
        submit_data("hello")
    fallback = el.execute("Save", "goal.save", {"goal_id": 1}, submit_fallback=True)["fallback"]
    # Teams merges the inputs into the Submit's data.
    assert submit_verb_and_data({**fallback["data"], "title": "x"}) == (
        "goal.save",
        {"goal_id": 1, "title": "x"},
    )
    with pytest.raises(PayloadError):
        submit_verb_and_data({"goal_id": 1})
