"""Reading what a person typed: strip the @mention of the bot, find the command word."""

from __future__ import annotations

import re
from dataclasses import dataclass

from botbuilder.schema import Activity

_MENTION_TAG = re.compile(r"<at>[^<]*</at>", re.IGNORECASE)
_GREETINGS = frozenset({"hi", "hello", "hey", "hiya", "good morning", "good afternoon"})
_THANKS = frozenset({"thanks", "thank you", "thx", "ty", "cheers"})
_HELP = frozenset({"help", "?", "commands", "what can you do"})


@dataclass(frozen=True)
class Command:
    """A recognised command word and the rest of the text."""

    name: str  # help, greeting, thanks, empty, or unknown
    text: str
    args: str = ""


def bot_text(activity: Activity) -> str:
    """The message text without the bot's own @mention (Teams includes it in channels)."""
    text = activity.text or ""
    bot_id = activity.recipient.id if activity.recipient else None
    for entity in activity.entities or []:
        props = entity.additional_properties or {}
        mentioned = props.get("mentioned") or {}
        if entity.type == "mention" and mentioned.get("id") == bot_id and props.get("text"):
            text = text.replace(props["text"], "")
    return " ".join(text.split())


def parse(text: str) -> Command:
    """Map the text to a command; unknown text stays as typed so the reply can quote it."""
    cleaned = _MENTION_TAG.sub("", text).strip()
    normal = cleaned.lower().strip(" .!?")
    if not normal:
        return Command("empty", cleaned)
    if normal in _HELP or cleaned.strip() == "?":
        return Command("help", cleaned)
    if normal in _GREETINGS:
        return Command("greeting", cleaned)
    if normal in _THANKS:
        return Command("thanks", cleaned)
    word, _, rest = normal.partition(" ")
    if word == "help":
        return Command("help", cleaned, rest)
    return Command("unknown", cleaned)
