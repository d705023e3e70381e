"""Who a typed command names: an @mention, a typed name, or nobody (the actor). Shared by the features."""

from __future__ import annotations

from dataclasses import dataclass

from bot.actions import CommandContext
from domain import people_lookup
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


async def named_person(ctx: CommandContext, typed: str) -> Found | None:
    """The first @mention's person, else the person whose name is `typed`; None when nothing names anyone."""
    typed = typed.strip().lstrip("@").strip()
    if ctx.mentions:
        mention = ctx.mentions[0]
        found = await people_lookup.find_by_teams_identity(
            ctx.session, actor=ctx.actor, aad_object_id=mention.aad_object_id, user_id=mention.id
        )
        if found is not None:
            return found
        typed = mention.name  # someone who never chatted with the bot: fall back to the name Teams showed
    if not typed:
        return None
    matches = await people_lookup.find_by_name(ctx.session, actor=ctx.actor, name=typed)
    if not matches:
        return NoMatch(typed)
    if len(matches) > 1:
        return SeveralMatches(typed, matches)
    return matches[0]


def detail(person: PersonMatch) -> str | None:
    """Job title and department, to tell people of the same name apart."""
    parts = [part for part in (person.job_title, person.department) if part]
    return ", ".join(parts) or None
