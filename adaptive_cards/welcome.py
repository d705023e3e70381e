"""The one welcome a person gets when they install the app for themselves."""

from __future__ import annotations

from collections.abc import Iterable

from adaptive_cards.common import about_text, commands_section, role_sections
from adaptive_cards.elements import Element, card, execute, heading, open_url, plain_text, text


def welcome_card(
    *, app_name: str, person_name: str | None, roles: Iterable[str], home_url: str | None = None
) -> Element:
    """Welcome on personal install: what the app does, the commands, and what each held role can do."""
    body: list[Element] = [heading(f"Welcome to {app_name}")]
    if person_name:
        body.append(plain_text(f"Hi {person_name}!"))
    body += [
        about_text(app_name),
        text("What you can do", size="Medium", weight="Bolder", spacing="Large"),
        *role_sections(roles),
        commands_section(),
    ]
    actions = [execute("Show help", "help")]
    if home_url:
        actions.append(open_url(f"Open {app_name}", home_url))
    return card(body, actions)
