"""Review templates: a rating scale and ordered, weighted sections, each answered by some of self, manager,
peers and direct reports. HR defines them; they are fixed once created (cycles and answers point at their
sections and items), so a change is a new template.

Sections: `goals` (the reviewee's own goals whose period overlaps the cycle's, each rated; answered by the
person and their manager only, since goals may be private), `competencies` (a list of names, each rated;
an item may name a framework competency, whose level a released review then records) and `questions`
(text, rating or choice). The final score comes from the manager's ratings
(review_scoring), so at least one section the manager answers must weigh more than 0 and carry ratings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from domain.access import Actor, may_manage_reviews, require
from domain.competencies import load_competencies
from domain.competency_views import CompetencyView
from domain.errors import Invalid, NotFound
from domain.performance.goal_progress import number
from domain.performance.review_records import enum_choice
from domain.performance.review_views import (
    CHOICE_MAX,
    CHOICES_MAX,
    DESCRIPTION_MAX,
    ITEM_TEXT_MAX,
    ITEMS_MAX,
    NAME_MAX,
    SCALE_LABEL_MAX,
    SCALE_MAX_POINTS,
    SCALE_MIN_POINTS,
    SECTION_TITLE_MAX,
    SECTIONS_MAX,
    WEIGHT_MAX,
    ItemInput,
    ItemKind,
    ItemView,
    ReviewerRole,
    SectionInput,
    SectionKind,
    SectionView,
    TemplateView,
)
from domain.text import optional_text, required_text
from storage.models import ReviewItem, ReviewSection, ReviewTemplate

# Goals may be private: only the person and their manager rate them.
GOAL_RATERS = frozenset({ReviewerRole.SELF, ReviewerRole.MANAGER})
_KEY_PREFIX = {SectionKind.COMPETENCIES: "c", SectionKind.QUESTIONS: "q"}


async def create_template(
    session: AsyncSession,
    *,
    actor: Actor,
    name: str,
    scale: Sequence[str],
    sections: Sequence[SectionInput],
    now: datetime,
    description: str | None = None,
) -> TemplateView:
    """Define a review template (HR): a unique name, a scale of 2 to 10 labelled points, its sections."""
    require(may_manage_reviews(actor), "review templates")
    clean_name = required_text(name, NAME_MAX, "The template's name")
    template = ReviewTemplate(
        name=clean_name,
        name_key=clean_name.casefold(),
        description=optional_text(description, DESCRIPTION_MAX, "The description"),
        scale_labels=_scale(scale),
        created_by_id=actor.person_id,
        created_at=now,
        updated_at=now,
    )
    framework = await _framework(session, sections)
    template.sections = _sections(sections, framework)
    if await _name_taken(session, template.name_key):
        raise Invalid(f"A review template named “{clean_name}” already exists: choose another name.")
    try:
        async with session.begin_nested():
            session.add(template)
            await session.flush()
    except IntegrityError:
        if await _name_taken(session, template.name_key):
            raise Invalid(
                f"A review template named “{clean_name}” already exists: choose another name."
            ) from None
        raise
    return await load_template(session, template.id)


async def get_template(session: AsyncSession, *, actor: Actor, template_id: int) -> TemplateView:
    """One template with its sections and items (HR)."""
    require(may_manage_reviews(actor), "review templates")
    return await load_template(session, template_id)


async def list_templates(session: AsyncSession, *, actor: Actor) -> tuple[TemplateView, ...]:
    """Every template, by name (HR)."""
    require(may_manage_reviews(actor), "review templates")
    rows = await session.scalars(_TEMPLATE.order_by(ReviewTemplate.name_key))
    return tuple(template_view(t) for t in rows)


async def load_template(session: AsyncSession, template_id: int) -> TemplateView:
    """A template by id, without an access check (for the other review services, which check theirs)."""
    found = await session.scalar(_TEMPLATE.where(ReviewTemplate.id == template_id))
    if found is None:
        raise NotFound("That review template does not exist.")
    return template_view(found)


def template_view(template: ReviewTemplate) -> TemplateView:
    """A template as the transports see it (its sections and items must be loaded)."""
    return TemplateView(
        id=template.id,
        name=template.name,
        description=template.description,
        scale=tuple(template.scale_labels),
        sections=tuple(
            SectionView(
                id=s.id,
                position=s.position,
                kind=SectionKind(s.kind),
                title=s.title,
                description=s.description,
                weight=s.weight,
                answered_by=tuple(ReviewerRole(r) for r in s.answered_by),
                items=tuple(
                    ItemView(
                        key=i.key,
                        kind=ItemKind(i.kind),
                        text=i.text,
                        required=i.required,
                        choices=tuple(i.choices or ()),
                        competency_id=i.competency_id,
                    )
                    for i in s.items
                ),
            )
            for s in template.sections
        ),
        created_at=template.created_at,
    )


def has_peer_phase(template: TemplateView) -> bool:
    """Whether cycles of this template have a peer review phase: a section for peers or direct reports."""
    return any(
        role in (ReviewerRole.PEER, ReviewerRole.REPORT) for s in template.sections for role in s.answered_by
    )


def asks_reports(template: TemplateView) -> bool:
    """Whether the reviewee's direct reports write an (upward) review."""
    return any(ReviewerRole.REPORT in s.answered_by for s in template.sections)


_TEMPLATE = select(ReviewTemplate).options(
    selectinload(ReviewTemplate.sections).selectinload(ReviewSection.items)
)


async def _name_taken(session: AsyncSession, key: str) -> bool:
    return await session.scalar(select(ReviewTemplate.id).where(ReviewTemplate.name_key == key)) is not None


def _scale(labels: Sequence[str]) -> list[str]:
    if not SCALE_MIN_POINTS <= len(labels) <= SCALE_MAX_POINTS:
        raise Invalid(
            f"A rating scale has from {SCALE_MIN_POINTS} to {SCALE_MAX_POINTS} points, not {len(labels)}."
        )
    clean = [
        required_text(label, SCALE_LABEL_MAX, f"The label of point {i}") for i, label in enumerate(labels, 1)
    ]
    _distinct(
        clean, lambda label: f"Two points of the scale are both called “{label}”: give each its own label."
    )
    return clean


async def _framework(session: AsyncSession, sections: Sequence[SectionInput]) -> dict[int, CompetencyView]:
    """The framework competencies the items name, by id (checked per item in _items)."""
    ids = {i.competency_id for s in sections for i in s.items if i.competency_id is not None}
    return {c.id: c for c in await load_competencies(session, ids=ids)}


def _sections(
    sections: Sequence[SectionInput], framework: Mapping[int, CompetencyView]
) -> list[ReviewSection]:
    if not sections:
        raise Invalid("A template needs at least one section.")
    if len(sections) > SECTIONS_MAX:
        raise Invalid(f"A template has at most {SECTIONS_MAX} sections (this one has {len(sections)}).")
    rows = [_section(s, position, framework) for position, s in enumerate(sections)]
    if sum(1 for r in rows if r.kind == SectionKind.GOALS) > 1:
        raise Invalid("A template has at most one goals section: each goal is rated once.")
    # A released review records one level per competency per person: the template rates each once.
    linked = [i for r in rows for i in r.items if i.competency_id is not None]
    _distinct(
        [framework[i.competency_id].name for i in linked],
        lambda twice: f"“{twice}” is rated twice in this template: rate each framework competency once.",
    )
    if not any(_scored_by_manager(r) for r in rows):
        raise Invalid(
            "The final score comes from the manager's ratings: at least one section the manager answers "
            "needs a weight above 0 and something to rate (goals, competencies or a rating question)."
        )
    return rows


def _section(given: SectionInput, position: int, framework: Mapping[int, CompetencyView]) -> ReviewSection:
    kind = enum_choice(SectionKind, given.kind, "kind of section")
    title = required_text(given.title, SECTION_TITLE_MAX, "A section's title")
    weight = number(given.weight, f"The weight of “{title}”")
    if not 0 <= weight <= WEIGHT_MAX:
        raise Invalid(f"The weight of “{title}” is from 0 to {WEIGHT_MAX}, not {weight:g}.")
    roles = list(dict.fromkeys(enum_choice(ReviewerRole, r, "reviewer") for r in given.answered_by))
    if not roles:
        raise Invalid(f"Choose who answers “{title}”: the person, their manager, peers or direct reports.")
    if kind is SectionKind.GOALS and not set(roles) <= GOAL_RATERS:
        raise Invalid(
            f"Goals are rated by the person and their manager only (“{title}”): goals may be private."
        )
    items = _items(kind, title, given.items, framework)
    return ReviewSection(
        position=position,
        kind=kind.value,
        title=title,
        description=optional_text(given.description, DESCRIPTION_MAX, f"The description of “{title}”"),
        weight=weight,
        answered_by=[r.value for r in roles],
        items=items,
    )


def _items(
    kind: SectionKind, title: str, items: Sequence[ItemInput], framework: Mapping[int, CompetencyView]
) -> list[ReviewItem]:
    if kind is SectionKind.GOALS:
        if items:
            raise Invalid(
                f"A goals section takes no questions (“{title}”): the reviewee's goals are its items."
            )
        return []
    what = "competency" if kind is SectionKind.COMPETENCIES else "question"
    if not items:
        raise Invalid(f"“{title}” needs at least one {what}.")
    if len(items) > ITEMS_MAX:
        raise Invalid(f"A section has at most {ITEMS_MAX} items (“{title}” has {len(items)}).")
    rows = []
    for position, item in enumerate(items):
        competency = _linked(kind, title, item, framework)
        # An item naming a framework competency reads as its name unless the template words it otherwise.
        given_text = item.text if (item.text or "").strip() or competency is None else competency.name
        text = required_text(given_text, ITEM_TEXT_MAX, f"A {what} of “{title}”")
        item_kind = enum_choice(ItemKind, item.kind, "kind of question")
        if kind is SectionKind.COMPETENCIES and item_kind is not ItemKind.RATING:
            raise Invalid(f"Competencies are rated: “{text}” can't be a {item_kind.value} question.")
        rows.append(
            ReviewItem(
                position=position,
                key=f"{_KEY_PREFIX[kind]}{position + 1}",
                kind=item_kind.value,
                text=text,
                required=bool(item.required),
                choices=_choices(item_kind, text, item.choices),
                competency_id=item.competency_id,
            )
        )
    _distinct([r.text for r in rows], lambda twice: f"“{twice}” is in “{title}” twice: each {what} once.")
    return rows


def _linked(
    kind: SectionKind, title: str, item: ItemInput, framework: Mapping[int, CompetencyView]
) -> CompetencyView | None:
    """The framework competency an item names (None if it names none): existing and active."""
    if item.competency_id is None:
        return None
    if kind is not SectionKind.COMPETENCIES:
        raise Invalid(f"Only a competencies section rates framework competencies: “{title}” is not one.")
    competency = framework.get(item.competency_id)
    if competency is None:
        raise Invalid(f"“{title}” names a competency that is not in the framework: choose one that is.")
    if not competency.active:
        raise Invalid(f"“{competency.name}” is retired from the competency framework: choose an active one.")
    return competency


def _choices(kind: ItemKind, text: str, choices: Sequence[str]) -> list[str] | None:
    if kind is not ItemKind.CHOICE:
        if choices:
            raise Invalid(f"Only a choice question offers choices: “{text}” is a {kind.value} question.")
        return None
    if not 2 <= len(choices) <= CHOICES_MAX:
        raise Invalid(f"“{text}” offers from 2 to {CHOICES_MAX} choices, not {len(choices)}.")
    clean = [required_text(c, CHOICE_MAX, f"A choice of “{text}”") for c in choices]
    _distinct(clean, lambda twice: f"“{twice}” is offered twice by “{text}”.")
    return clean


def _scored_by_manager(section: ReviewSection) -> bool:
    rates = section.kind != SectionKind.QUESTIONS or any(i.kind == ItemKind.RATING for i in section.items)
    return section.weight > 0 and ReviewerRole.MANAGER in section.answered_by and rates


def _distinct(values: Sequence[str], message: Callable[[str], str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value.casefold() in seen:
            raise Invalid(message(value))
        seen.add(value.casefold())
