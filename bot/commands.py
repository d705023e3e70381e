"""Reading what a person typed: strip the @mention of the bot, find the command word."""

from __future__ import annotations

import re
from dataclasses import dataclass

from botbuilder.schema import Activity

from bot.actions import Mention

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


def plain_text(text: str) -> str:
    """The text with each <at>Name</at> mention written as the plain name."""
    return " ".join(re.sub(r"<at>([^<]*)</at>", r"\1", text, flags=re.IGNORECASE).split())


def mentions(activity: Activity) -> tuple[Mention, ...]:
    """The people @mentioned in the message, the bot itself left out."""
    bot_id = activity.recipient.id if activity.recipient else None
    found = []
    for entity in activity.entities or []:
        props = entity.additional_properties or {}
        mentioned = props.get("mentioned") or {}
        if entity.type == "mention" and mentioned.get("id") and mentioned.get("id") != bot_id:
            found.append(
                Mention(
                    id=str(mentioned["id"]),
                    name=str(mentioned.get("name") or ""),
                    aad_object_id=mentioned.get("aadObjectId"),
                )
            )
    return tuple(found)
