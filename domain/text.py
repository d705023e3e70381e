"""What people type: trimmed, within a length the message names, and present when it must be."""

from __future__ import annotations

from domain.errors import Invalid


def optional_text(value: str | None, limit: int, what: str) -> str | None:
    """The trimmed text, or None when blank; Invalid (naming the limit) when it is too long."""
    text = (value or "").strip()
    if len(text) > limit:
        raise Invalid(f"{what} is too long: at most {limit} characters (it has {len(text)}).")
    return text or None


def required_text(value: str | None, limit: int, what: str) -> str:
    """The trimmed text; Invalid when it is blank or too long."""
    text = optional_text(value, limit, what)
    if text is None:
        raise Invalid(f"{what} is empty: write something first.")
    return text


def quoted_text(value: str | None, limit: int) -> str | None:
    """A quoted message kept as evidence: trimmed, and cut (not refused) past the limit, since the person
    quoting it didn't type it."""
    text = (value or "").strip()
    if len(text) > limit:
        return text[: limit - 1] + "…"
    return text or None


CLIENT_ID_MAX = 64  # the client_request_id columns


def checked_client_id(value: str | None) -> str | None:
    """The id a form was built with (a second submit of the same form finds the first write), checked."""
    if value is not None and not 0 < len(value) <= CLIENT_ID_MAX:
        raise Invalid("The form sent a bad request id. Please start again from a fresh card.")
    return value
