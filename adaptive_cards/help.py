"""Answers to help, small talk and input the bot did not understand."""

from __future__ import annotations

from collections.abc import Iterable

from adaptive_cards.common import APP_NAME, about_text, commands_section, role_sections
from adaptive_cards.elements import (
    Element,
    card,
    execute,
    heading,
    open_url,
    plain_text,
    rich_text,
    text,
    text_run,
    truncate,
)

UNKNOWN_TEXT_LIMIT = 80  # enough to recognise what was typed without echoing a pasted essay


def help_card(
    *,
    roles: Iterable[str],
    unknown_text: str | None = None,
    home_url: str | None = None,
    app_name: str = APP_NAME,
) -> Element:
    """What the bot does and its commands; when unknown_text is given, say so first and offer a way on."""
    body: list[Element] = []
    if unknown_text is None:
        body.append(heading(f"What {app_name} can do"))
    else:
        body += [_did_not_understand(unknown_text), text("Here's what I can help with.")]
    body += [about_text(app_name), commands_section(), *role_sections(roles)]
    actions = [open_url(f"Open {app_name}", home_url)] if home_url else []
    return card(body, actions)


def greeting_card(*, person_name: str | None, app_name: str = APP_NAME) -> Element:
    """A short reply to hi / hello pointing at help."""
    hello = f"Hi {person_name}!" if person_name else "Hi!"
    return card(
        [
            plain_text(hello, weight="Bolder"),
            text(f"I'm {app_name}. Type **help** to see what I can do for you."),
        ],
        [execute("Show help", "help")],
    )


def thanks_reply_text() -> str:
    """A plain-text reply to thanks."""
    return "You're welcome! Type help whenever you need me."


def _did_not_understand(unknown_text: str) -> Element:
    # One line, however the text was laid out; quoted in a TextRun so it shows exactly as typed.
    shown = truncate(" ".join(unknown_text.split()), UNKNOWN_TEXT_LIMIT)
    if not shown:
        return text("I didn't understand that.", weight="Bolder")
    return rich_text("I didn't understand “", text_run(shown, weight="Bolder"), "”.")
