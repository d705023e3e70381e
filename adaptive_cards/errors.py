"""Cards for when things did not go as planned: errors, unknown people, repeated clicks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from adaptive_cards.common import APP_NAME
from adaptive_cards.elements import (
    Action,
    Element,
    card,
    execute,
    fact_set,
    heading,
    open_url,
    plain_text,
    rich_text,
    text,
    text_run,
)


def error_card(*, message: str, retry: Mapping[str, Any] | None = None) -> Element:
    """Something went wrong, in plain words; retry is an action, or {"verb", "data"} for a Try again."""
    body = [
        text("Something went wrong", size="Medium", weight="Bolder", color="Attention"),
        plain_text(message),
        text("If this keeps happening, please let your HR team know.", subtle=True),
    ]
    return card(body, [_retry_action(retry)] if retry else [])


def not_in_directory_card(
    *,
    display_name: str | None,
    hr_contact: str | None,
    entra_object_id: str | None = None,
    app_name: str = APP_NAME,
) -> Element:
    """A friendly note to someone the directory doesn't know yet, saying what to ask HR for."""
    body: list[Element] = [heading(f"You're not in {app_name}'s directory yet")]
    if display_name:
        body.append(plain_text(f"Hi {display_name}."))
    body += [
        text(
            f"{app_name} shows goals, feedback and reviews to the people in your organization's "
            "directory, and I couldn't find you there."
        ),
        rich_text(
            "Ask ",
            text_run(hr_contact or "your HR team", weight="Bolder"),
            " to add you to the organization import, with your Microsoft Entra object id or your work email.",
        ),
    ]
    if entra_object_id:
        body.append(fact_set([("Your Microsoft Entra object id", entra_object_id)]))
    body.append(text("Once you've been added, say hi to me again.", subtle=True))
    actions = [_mail_action(hr_contact, app_name)] if hr_contact and _looks_like_email(hr_contact) else []
    return card(body, actions)


def already_done_card(*, title: str, message: str) -> Element:
    """The answer to a second click on a card that was already submitted: nothing changes twice."""
    return card(
        [
            plain_text(title, size="Medium", weight="Bolder"),
            plain_text(message),
            text("This was already submitted, so nothing more was changed.", subtle=True),
        ]
    )


def _retry_action(retry: Mapping[str, Any]) -> Action:
    if retry.get("type") in ("Action.Execute", "Action.Submit"):
        return dict(retry)
    if retry.get("verb"):
        return execute("Try again", retry["verb"], retry.get("data"))
    raise ValueError("retry must be an Action.Execute/Action.Submit or a mapping with a verb")


def _looks_like_email(contact: str) -> bool:
    local, at, domain = contact.partition("@")
    return bool(at and local and "." in domain and not any(c.isspace() for c in contact))


def _mail_action(address: str, app_name: str) -> Action:
    subject = quote(f"Please add me to {app_name}")
    return open_url("Email HR", f"mailto:{quote(address, safe='@')}?subject={subject}")
