"""Card payloads → typed values, with messages written for the person who filled in the card.

Teams sends every input as a string (or leaves the key out when the input was left empty), and anyone
can forge a payload, so nothing here trusts the shape it receives.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from adaptive_cards.elements import SUBMIT_VERB_KEY

# Control characters are never meant in form text; tabs and line breaks are kept for multi-line inputs.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_STALE_CARD = "This card is out of date or incomplete. Please try again from a fresh card, or type help."


class PayloadError(Exception):
    """A card payload that can't be used; the message is written for the person to read."""


def require_text(data: Mapping[str, Any], key: str, *, label: str, max_len: int) -> str:
    """The trimmed text of a required input, at most max_len characters."""
    value = optional_text(data, key, label=label, max_len=max_len)
    if value is None:
        raise PayloadError(f"Please fill in “{label}” (at most {max_len} characters).")
    return value


def optional_text(data: Mapping[str, Any], key: str, *, label: str, max_len: int) -> str | None:
    """The trimmed text of an optional input, or None when it was left empty."""
    raw = data.get(key)
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise PayloadError(f"Please fill in “{label}” with text.")
    value = _CONTROL.sub("", raw.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if len(value) > max_len:
        raise PayloadError(
            f"“{label}” is too long: please use at most {max_len} characters (it has {len(value)})."
        )
    return value or None


def require_choice(data: Mapping[str, Any], key: str, *, label: str, choices: Iterable[str]) -> str:
    """The value of a required single choice, which must be one of choices."""
    raw = data.get(key)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise PayloadError(f"Please choose “{label}”.")
    # Never echo an unexpected value back: it may be long or crafted.
    if not isinstance(raw, str) or raw.strip() not in set(choices):
        raise PayloadError(f"Please choose one of the options offered for “{label}”.")
    return raw.strip()


def require_int(data: Mapping[str, Any], key: str, *, label: str, min: int, max: int) -> int:
    """A required whole number between min and max inclusive."""
    raw = data.get(key)
    wanted = f"Please enter a whole number from {min} to {max} for “{label}”."
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise PayloadError(wanted)
    number = _as_int(raw)
    if number is None or not min <= number <= max:
        raise PayloadError(wanted)
    return number


def action_verb_and_data(invoke_value: Any) -> tuple[str, dict[str, Any]]:
    """The verb and data (inputs merged in) of an `adaptiveCard/action` invoke value."""
    action = invoke_value.get("action") if isinstance(invoke_value, Mapping) else None
    if not isinstance(action, Mapping):
        raise PayloadError(_STALE_CARD)
    verb = action.get("verb")
    if not isinstance(verb, str) or not verb.strip():
        raise PayloadError(_STALE_CARD)
    return verb.strip(), _as_data(action.get("data"))


def submit_data(message_value: Any) -> dict[str, Any]:
    """The data (inputs merged in) of an Action.Submit, which arrives as a message's value."""
    if not isinstance(message_value, Mapping):
        raise PayloadError(_STALE_CARD)
    return _as_data(message_value)


def submit_verb_and_data(message_value: Any) -> tuple[str, dict[str, Any]]:
    """The verb and data of an Action.Submit built as an Execute fallback (verb carried in data)."""
    data = submit_data(message_value)
    verb = data.pop(SUBMIT_VERB_KEY, None)
    if not isinstance(verb, str) or not verb.strip():
        raise PayloadError(_STALE_CARD)
    return verb.strip(), data


def _as_data(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping) or not all(isinstance(k, str) for k in raw):
        raise PayloadError(_STALE_CARD)
    return dict(raw)


def _as_int(raw: Any) -> int | None:
    # bool is an int in Python but never a number a person typed.
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return int(raw) if raw.is_integer() else None
    if isinstance(raw, str):
        s = raw.strip()
        # Input.Number sends "5" or "5.0"; cap the length so a pasted giant number costs nothing.
        if len(s) <= 20 and re.fullmatch(r"[+-]?\d+(?:\.0*)?", s):
            return int(s.split(".")[0])
    return None
