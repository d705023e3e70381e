"""Goal templates as the transports read them: the templates, and whom they can be assigned to.

The writes are goals.create_template and goals.assign_template; everything here only reads, so a tab or
a card can show the choices and the outcome of an assignment with names rather than ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from domain.access import Actor, Role, require
from domain.errors import Invalid, NotFound
from domain.people_lookup import PersonMatch, find_by_name
from domain.performance.goal_views import AssignmentReport, TemplateView
from domain.performance.goals import template_view
from storage.models import GoalTemplate, Person

# Enough for a large team pasted from a spreadsheet; beyond it, assign a department instead.
PEOPLE_LINES_MAX = 500
# How many unmatched lines a message names before it says "and N more".
NAMED_IN_MESSAGE = 8
UNKNOWN_PERSON = "Someone no longer in the directory"


@dataclass(frozen=True)
class NamedAssignment:
    """An AssignmentReport with display names in place of ids, each list in name order."""

    created: tuple[str, ...]
    already_assigned: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]  # (name, why)


def may_use_templates(actor: Actor) -> bool:
    """Define and assign goal templates: HR and managers (the same rule goals.create_template enforces)."""
    return actor.has(Role.HR_ADMIN) or actor.has(Role.MANAGER)


async def list_templates(session: AsyncSession, *, actor: Actor) -> list[TemplateView]:
    """Every goal template with its key results, by title (HR and managers)."""
    require(may_use_templates(actor), "goal templates")
    rows = await session.scalars(
        select(GoalTemplate)
        .options(selectinload(GoalTemplate.key_results))
        .order_by(func.lower(GoalTemplate.title), GoalTemplate.id)
    )
    return [template_view(t) for t in rows.all()]


async def get_template(session: AsyncSession, *, actor: Actor, template_id: int) -> TemplateView:
    """One goal template with its key results (HR and managers)."""
    require(may_use_templates(actor), "goal templates")
    template = await session.scalar(
        select(GoalTemplate)
        .options(selectinload(GoalTemplate.key_results))
        .where(GoalTemplate.id == template_id)
    )
    if template is None:
        raise NotFound("That goal template does not exist.")
    return template_view(template)


async def departments(session: AsyncSession, *, actor: Actor) -> list[str]:
    """The departments active people belong to, to assign a template to one (HR and managers)."""
    require(may_use_templates(actor), "goal templates")
    rows = await session.scalars(
        select(Person.department)
        .where(Person.active.is_(True), Person.department.is_not(None), Person.department != "")
        .distinct()
    )
    return sorted(rows.all(), key=str.casefold)


async def resolve_people(session: AsyncSession, *, actor: Actor, lines: Iterable[str]) -> list[int]:
    """Person ids for typed lines, one person each: an email (exact, any case) or a name.

    Every line must name exactly one active person, or nothing is resolved: Invalid names the lines that
    match no one and those that match several, so the person can fix them all at once."""
    require(may_use_templates(actor), "goal templates")
    wanted = [text for text in (" ".join(line.split()) for line in lines) if text]
    if len(wanted) > PEOPLE_LINES_MAX:
        raise Invalid(
            f"That is {len(wanted)} people: assign at most {PEOPLE_LINES_MAX} at once, "
            "or choose a department instead."
        )
    by_email = await _ids_by_email(session, [text for text in wanted if "@" in text])
    found: list[int] = []
    unknown: list[str] = []
    ambiguous: list[tuple[str, list[PersonMatch]]] = []
    for text in wanted:
        if "@" in text:
            person_id = by_email.get(text.lower())
            if person_id is None:
                unknown.append(text)
            else:
                found.append(person_id)
            continue
        matches = await find_by_name(session, actor=actor, name=text)
        if len(matches) == 1:
            found.append(matches[0].id)
        elif matches:
            ambiguous.append((text, matches))
        else:
            unknown.append(text)
    if unknown or ambiguous:
        raise Invalid(_unresolved_message(unknown, ambiguous))
    return list(dict.fromkeys(found))


async def name_report(session: AsyncSession, *, actor: Actor, report: AssignmentReport) -> NamedAssignment:
    """The outcome of an assignment with people's names (directory data, shown to whoever assigned)."""
    require(may_use_templates(actor), "goal templates")
    ids = {*report.created, *report.already_assigned, *report.skipped}
    names: dict[int, str] = {}
    if ids:
        rows = await session.execute(select(Person.id, Person.display_name).where(Person.id.in_(ids)))
        names = dict(rows.all())

    def named(person_ids: Iterable[int]) -> tuple[str, ...]:
        return tuple(sorted((names.get(pid, UNKNOWN_PERSON) for pid in person_ids), key=str.casefold))

    skipped = sorted(
        ((names.get(pid, UNKNOWN_PERSON), why) for pid, why in report.skipped.items()),
        key=lambda pair: pair[0].casefold(),
    )
    return NamedAssignment(named(report.created), named(report.already_assigned), tuple(skipped))


async def _ids_by_email(session: AsyncSession, emails: list[str]) -> dict[str, int]:
    if not emails:
        return {}
    lowered = {email.lower() for email in emails}
    rows = await session.execute(
        select(func.lower(Person.email), Person.id).where(
            func.lower(Person.email).in_(lowered), Person.active.is_(True)
        )
    )
    return dict(rows.all())


def _unresolved_message(unknown: list[str], ambiguous: list[tuple[str, list[PersonMatch]]]) -> str:
    parts = []
    if unknown:
        parts.append(f"No one in the directory matches {_quoted(unknown)}.")
    for text, matches in ambiguous[:NAMED_IN_MESSAGE]:
        names = ", ".join(m.display_name for m in matches[:NAMED_IN_MESSAGE])
        parts.append(f"“{text}” matches several people ({names}): type the full name or the email.")
    if len(ambiguous) > NAMED_IN_MESSAGE:
        parts.append(f"{len(ambiguous) - NAMED_IN_MESSAGE} more lines match several people.")
    return " ".join(parts)


def _quoted(texts: list[str]) -> str:
    shown = ", ".join(f"“{text}”" for text in texts[:NAMED_IN_MESSAGE])
    rest = len(texts) - NAMED_IN_MESSAGE
    return f"{shown} and {rest} more" if rest > 0 else shown
