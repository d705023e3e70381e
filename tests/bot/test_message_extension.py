"""Action commands on a message ("..." → Give feedback / Praise), as Teams sends them, over HTTP.

These tests register test-only message actions on the running bot's router: a dialog with the quote
prefilled, and a submit that records what it got and refuses an empty form (the real Give feedback and
Praise are tested in test_feedback_message_actions.py). What is under test is the plumbing: the invoke
JSON Teams sends, the quote taken from the message's HTML, the identity check, and the dialog shapes
Teams accepts back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from adaptive_cards.elements import card, heading, input_text, plain_text, submit
from bot.actions import ActionRouter, DialogDone, MessageActionContext
from bot.message_extension import FAILED, UNKNOWN_COMMAND
from bot.routes import BOT, default_router
from domain.errors import Invalid
from manifest.build import OFFERED_MESSAGE_ACTIONS
from tests.support.teams import CARD, TeamsClient, TeamsUser

pytestmark = pytest.mark.usefixtures("demo_org")

# What Adele's recorded message (tests/fixtures/activities) says, as she saw it in Teams: the mention
# as a name, entities decoded, the emoji from its image, and the text she typed that looks like markup.
QUOTE = (
    "Thanks Isaiah Langer for the R&D demo — the customer loved it! 🎉\n"
    'I typed <script>alert("pwned")</script> into the form and it stayed text.'
)
REQUEST_ID = "5f0e4d3c-test-dialog"


@dataclass
class Seen:
    """What the test handlers were given, copied out of the context while its session was open."""

    opened: list[dict[str, Any]] = field(default_factory=list)
    submitted: list[dict[str, Any]] = field(default_factory=list)


def _seen(ctx: MessageActionContext) -> dict[str, Any]:
    return {
        "actor": ctx.actor.display_name,
        "command_id": ctx.command_id,
        "message": ctx.message,
        "data": ctx.data,
    }


def _feedback_dialog(*, evidence: str, feedback: str | None = None, notice: str | None = None) -> dict:
    body = [heading("Give feedback")]
    if notice:
        body.append(plain_text(notice, color="Attention"))
    body += [
        input_text("evidence", "From the message (evidence)", multiline=True, value=evidence),
        input_text("feedback", "Your feedback", multiline=True, max_length=500, value=feedback),
    ]
    return card(body, [submit("Send", {"requestId": REQUEST_ID})])


def _register(router: ActionRouter, seen: Seen) -> None:
    async def open_feedback(ctx: MessageActionContext) -> dict:
        seen.opened.append(_seen(ctx))
        return _feedback_dialog(evidence=ctx.message.text if ctx.message else "")

    async def send_feedback(ctx: MessageActionContext) -> dict | DialogDone:
        seen.submitted.append(_seen(ctx))
        if not str(ctx.data.get("feedback") or "").strip():
            return _feedback_dialog(
                evidence=str(ctx.data.get("evidence") or ""),
                feedback=ctx.data.get("feedback"),
                notice="Please write your feedback before sending.",
            )
        return DialogDone("Feedback sent to Adele Vance.")

    async def open_praise(ctx: MessageActionContext) -> dict:
        seen.opened.append(_seen(ctx))
        return card([heading("Praise")], [submit("Praise", {"requestId": REQUEST_ID})])

    async def send_praise(ctx: MessageActionContext) -> DialogDone:
        seen.submitted.append(_seen(ctx))
        return DialogDone()

    router.message_action("plumbingFeedback", open_feedback, send_feedback, title="Give feedback")
    router.message_action("plumbingPraise", open_praise, send_praise, title="Praise", height="small")


@pytest.fixture
def seen(trellis) -> Seen:
    """The running bot with the test-only message actions registered, and what they were given."""
    recorded = Seen()
    _register(trellis.app[BOT].router, recorded)
    return recorded


# --- opening the dialog ----------------------------------------------------------------------------


async def test_give_feedback_opens_a_dialog_prefilled_with_the_message_as_plain_text(
    alex: TeamsUser, adele: TeamsUser, seen: Seen
) -> None:
    dialog = await alex.open_message_action("plumbingFeedback", adele.message())

    # The task module "continue" shape Teams expects, with the card already validated by the renderer.
    content = dialog.card.content
    assert dialog.body == {
        "task": {
            "type": "continue",
            "value": {
                "title": "Give feedback",
                "height": "medium",
                "width": "medium",
                "card": {"contentType": CARD, "content": content},
            },
        }
    }
    assert dialog.card.inputs()["evidence"]["value"] == QUOTE
    # Markup someone typed stays text; none of the message's own HTML reaches the card.
    assert "<p>" not in str(content) and "&amp;" not in str(content) and "<at" not in str(content)

    (opened,) = seen.opened
    assert opened["actor"] == "Alex Wilber" and opened["command_id"] == "plumbingFeedback"
    assert opened["data"] == {}, "nothing is submitted while the dialog opens"
    quote = opened["message"]
    assert (quote.text, quote.author_name) == (QUOTE, "Adele Vance")
    assert quote.author_aad_object_id == adele.aad_object_id
    assert quote.message_id == dialog.message["id"]
    assert quote.link.startswith("https://teams.microsoft.com/l/message/")


async def test_the_quote_is_taken_from_whatever_message_the_command_was_run_on(
    alex: TeamsUser, adele: TeamsUser, seen: Seen
) -> None:
    html = "<div><div>Release notes:<br>fixed A &amp; B</div>\n<div>&lt;b&gt;not bold&lt;/b&gt;</div></div>"
    dialog = await alex.open_message_action("plumbingFeedback", adele.message(html))
    assert dialog.card.inputs()["evidence"]["value"] == "Release notes:\nfixed A & B\n<b>not bold</b>"


# --- submitting it ---------------------------------------------------------------------------------


async def test_submitting_hands_the_dialog_data_and_the_quote_to_the_handler(
    alex: TeamsUser, adele: TeamsUser, seen: Seen
) -> None:
    dialog = await alex.open_message_action("plumbingFeedback", adele.message())

    done = await alex.submit_message_action(dialog, "Send", inputs={"feedback": "Calm, clear demo."})

    assert done.body == {"task": {"type": "message", "value": "Feedback sent to Adele Vance."}}
    (submitted,) = seen.submitted
    assert submitted["actor"] == "Alex Wilber" and submitted["command_id"] == "plumbingFeedback"
    # Teams merges the inputs into the Action.Submit's data, and sends the message along again.
    assert submitted["data"] == {"requestId": REQUEST_ID, "evidence": QUOTE, "feedback": "Calm, clear demo."}
    assert submitted["message"].text == QUOTE


async def test_a_submit_that_needs_no_words_closes_the_dialog_with_an_empty_body(
    alex: TeamsUser, adele: TeamsUser, seen: Seen
) -> None:
    dialog = await alex.open_message_action("plumbingPraise", adele.message())
    assert (dialog.title, dialog.body["task"]["value"]["height"]) == ("Praise", "small")

    closed = await alex.submit_message_action(dialog, "Praise")

    assert closed.body == {}
    assert seen.submitted[0]["data"] == {"requestId": REQUEST_ID}


async def test_an_empty_submit_shows_the_dialog_again_with_the_message_and_what_was_typed(
    alex: TeamsUser, adele: TeamsUser, seen: Seen
) -> None:
    dialog = await alex.open_message_action("plumbingFeedback", adele.message())

    again = await alex.submit_message_action(
        dialog, "Send", inputs={"evidence": "the customer loved it", "feedback": "   "}
    )

    assert again.kind == "continue" and again.title == "Give feedback"
    assert "Please write your feedback before sending." in again.card.text()
    inputs = again.card.inputs()
    assert (inputs["evidence"]["value"], inputs["feedback"]["value"]) == ("the customer loved it", "   ")


# --- what cannot be answered -----------------------------------------------------------------------


async def test_an_unknown_command_answers_with_a_clear_message(
    alex: TeamsUser, adele: TeamsUser, seen: Seen
) -> None:
    opened = await alex.open_message_action("summarizeThread", adele.message())
    assert opened.body == {"task": {"type": "message", "value": UNKNOWN_COMMAND}}

    invoke = alex.activity("invoke_compose_extension_submit_action")
    invoke["value"]["commandId"] = "summarizeThread"
    submitted = await alex.send_message_action(invoke)
    assert submitted.body == opened.body
    assert seen.opened == seen.submitted == []


async def test_someone_not_in_the_directory_gets_the_not_in_directory_dialog(
    teams: TeamsClient, adele: TeamsUser, seen: Seen
) -> None:
    stranger = teams.user(aad_object_id="5b0a1d7e-8c4f-4e2a-9b3d-6f1e2a3c4d5e", name="Pat Stranger")

    dialog = await stranger.open_message_action("plumbingFeedback", adele.message())

    assert dialog.kind == "continue" and dialog.title == "Give feedback"
    assert "not in Trellis's directory" in dialog.card.text()
    assert "Hi Pat Stranger." in dialog.card.text()
    assert seen.opened == [], "the feature's handler never runs for someone it cannot identify"


async def test_a_tampered_submit_gets_a_message_and_reaches_no_handler(alex: TeamsUser, seen: Seen) -> None:
    invoke = alex.activity("invoke_compose_extension_submit_action")
    invoke["value"]["data"] = ["not", "an", "object"]

    answer = await alex.send_message_action(invoke)

    assert answer.kind == "message" and "out of date" in answer.text
    assert seen.submitted == []


async def test_a_refusal_shows_an_error_card_and_a_crash_a_plain_sentence(
    trellis, alex: TeamsUser, adele: TeamsUser
) -> None:
    async def refuse(ctx: MessageActionContext) -> dict:
        raise Invalid("You can't give feedback on your own message.")

    async def crash(ctx: MessageActionContext) -> dict:
        raise RuntimeError("a bug, with internals the person must not see")

    router: ActionRouter = trellis.app[BOT].router
    router.message_action("refuses", refuse, refuse, title="Give feedback")
    router.message_action("crashes", crash, crash, title="Praise")

    refused = await alex.open_message_action("refuses", adele.message())
    assert refused.kind == "continue"
    assert "You can't give feedback on your own message." in refused.card.text()
    crashed = await alex.open_message_action("crashes", adele.message())
    assert crashed.body == {"task": {"type": "message", "value": FAILED}}


def test_the_bot_answers_only_message_actions_the_manifest_offers() -> None:
    # A command Teams never sends is dead code; one Teams sends that nobody answers is a broken menu item.
    assert default_router().message_actions == {action.id for action in OFFERED_MESSAGE_ACTIONS}


def test_a_command_id_takes_one_pair_of_handlers() -> None:
    router = ActionRouter()

    async def handler(ctx: MessageActionContext) -> dict:
        return {}

    router.message_action("praise", handler, handler, title="Praise")
    with pytest.raises(ValueError, match="already has handlers"):
        router.message_action("praise", handler, handler, title="Praise")
