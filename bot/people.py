"""Who a typed command names: an @mention, a typed name, or nobody (the actor). Shared by the features."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adaptive_cards import person_forms
from adaptive_cards.payloads import PayloadError
from bot.actions import ActionContext, CommandContext, Mention, MessageActionContext
from domain import people_lookup
from domain.errors import DomainError, NotFound
from domain.people_lookup import PersonMatch


@dataclass(frozen=True)
class NoMatch:
    """Nobody in the directory matches what was typed."""

    typed: str


@dataclass(frozen=True)
class SeveralMatches:
    """More than one person matches what was typed: the feature asks which one."""

    typed: str
    people: list[PersonMatch]


Found = PersonMatch | NoMatch | SeveralMatches
Card = dict[str, Any]
FULL_NAME_WORDS = 4  # the longest name typed without @ that is looked up whole


async def named_person(ctx: CommandContext, typed: str) -> Found | None:
    """The first @mention's person, else the person whose name is `typed`; None when nothing names anyone."""
    if ctx.mentions:
        return await mentioned_person(ctx, ctx.mentions[0])
    return await person_called(ctx, typed)


async def mentioned_person(ctx: CommandContext, mention: Mention) -> Found:
    """The person @mentioned; someone who never chatted with the bot is found by the name Teams showed."""
    found = await people_lookup.find_by_teams_identity(
        ctx.session, actor=ctx.actor, aad_object_id=mention.aad_object_id, user_id=mention.id
    )
    return found if found is not None else await person_called(ctx, mention.name) or NoMatch(mention.name)


async def person_called(
    ctx: CommandContext | ActionContext | MessageActionContext, typed: str
) -> Found | None:
    """The one active person whose name is `typed` (an @ before it is ignored); None when nothing is typed."""
    typed = typed.strip().lstrip("@").strip()
    if not typed:
        return None
    matches = await people_lookup.find_by_name(ctx.session, actor=ctx.actor, name=typed)
    if not matches:
        return NoMatch(typed)
    if len(matches) > 1:
        return SeveralMatches(typed, matches)
    return matches[0]


def not_found_card(found: NoMatch | SeveralMatches, *, command: str) -> Card:
    """The card for a name that matches nobody, or several people."""
    if isinstance(found, NoMatch):
        return person_forms.no_person_card(typed=found.typed, command=command)
    names = [m.display_name + (f" ({d})" if (d := detail(m)) else "") for m in found.people]
    return person_forms.several_people_card(typed=found.typed, names=names, command=command)


def detail(person: PersonMatch) -> str | None:
    """Job title and department, to tell people of the same name apart."""
    parts = [part for part in (person.job_title, person.department) if part]
    return ", ".join(parts) or None


# --- the colleague a feedback or praise command is for -------------------------------------------------


async def recipient(ctx: CommandContext, *, command: str) -> tuple[PersonMatch, str] | Card:
    """The colleague the command names and the text after the name, or a card saying what went wrong."""
    typed, text = _split(ctx, command)
    whole = await _full_name_typed(ctx)
    found = whole[0] if whole else await named_person(ctx, typed)
    text = whole[1] if whole else text
    if found is None:
        raise PayloadError(f"Say who it's for: type “{command} @Name” and what you want to say.")
    if not isinstance(found, PersonMatch):
        return not_found_card(found, command=command)
    if found.id == ctx.actor.person_id:
        raise PayloadError(f"{command.capitalize()} is for someone else: you can't {command} yourself.")
    return found, text


async def _full_name_typed(ctx: CommandContext) -> tuple[PersonMatch, str] | None:
    """Someone's whole name typed without @ ("feedback Adele Vance great demo"): the person and the rest.

    Without it the first word alone would be the name and "Vance great demo" the text."""
    words = ctx.args.split()
    if ctx.mentions or len(words) < 2:
        return None
    for size in range(min(FULL_NAME_WORDS, len(words)), 1, -1):
        typed = " ".join(words[:size]).lstrip("@")
        found = await person_called(ctx, typed)
        if isinstance(found, PersonMatch) and found.display_name.casefold() == typed.casefold():
            return found, " ".join(words[size:])
    return None


def _split(ctx: CommandContext, command: str) -> tuple[str, str]:
    """(the name typed, the text after it). With an @mention, Teams put the person's name in the text."""
    args = ctx.args.strip()
    if ctx.mentions:
        name = ctx.mentions[0].name
        at = args.lower().find(name.lower()) if name else -1
        if at >= 0:
            args = (args[:at] + args[at + len(name) :]).strip()
        # A typed "@Adele" left before the mention (the chat had not turned it into one yet) is the name.
        first, _, rest = args.partition(" ")
        if first.startswith("@") and name.lower().startswith(first[1:].lower()):
            args = rest.strip()
        return name, args
    first, _, rest = args.partition(" ")
    return first, rest.strip()


async def person_by_id(ctx: ActionContext, person_id: int) -> PersonMatch:
    person = await people_lookup.get_person(ctx.session, actor=ctx.actor, person_id=person_id)
    if person is None:
        raise NotFound("That person is not in the directory.")
    return person


def refused(error: DomainError | PayloadError) -> str:
    message = error.message if isinstance(error, DomainError) else str(error)
    return f"Nothing was sent. {message}"
