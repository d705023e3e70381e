"""Goals in Teams chat: `goals`, `goals @Name`, `new goal`, and the buttons on the cards they send.

Each handler parses the card's payload, calls one goal service, and answers with the card that replaces
the one pressed. A refusal on a form (a bad value, a target equal to the start) comes back on the same
form with the message, so nothing typed is lost; the savepoint around the service call makes sure that
nothing of a refused attempt is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from adaptive_cards import goal_payloads as payloads
from adaptive_cards import goals as goal_cards
from adaptive_cards.payloads import PayloadError
from bot import people
from bot.actions import ActionContext, ActionRouter, CommandContext
from domain import people_lookup
from domain.access import Actor, may_edit_goal, relation_to
from domain.errors import DomainError, NotFound
from domain.people_lookup import PersonMatch
from domain.performance import goals
from domain.performance.goal_views import GoalView, Owner
from domain.performance.goals import KeyResultChanged

Card = dict[str, Any]


def register(router: ActionRouter) -> None:
    """Add the goal commands and card verbs to the bot's router."""
    router.command("goals", _goals_command)
    router.command("new goal", _new_goal_command)
    router.register(payloads.VERB_SHOW, _show)
    router.register(payloads.VERB_UPDATE, _update)
    router.register(payloads.VERB_NEW, _new_goal_action)
    router.register(payloads.VERB_CREATE, _create)


# --- seeing goals --------------------------------------------------------------------------------------


async def _goals_command(ctx: CommandContext) -> Card:
    """`goals` (mine), `goals Adele` or `goals @Adele Vance` (theirs, as far as I may see them)."""
    found = await _whose(ctx)
    if not isinstance(found, PersonMatch):
        return found
    return await _goals_card(ctx, found)


async def _show(ctx: ActionContext) -> Card:
    """A button naming whose goals to show (the person picker, All goals, a goal's title)."""
    wanted = payloads.parse_show_goals(ctx.data)
    person = await _person(ctx.session, ctx.actor, wanted.person_id)
    return await _goals_card(ctx, person, focus_goal_id=wanted.goal_id)


async def _whose(ctx: CommandContext) -> PersonMatch | Card:
    """The person a command names: an @mention, a typed name, or nobody (the actor)."""
    found = await people.named_person(ctx, ctx.args)
    if found is None:
        return await _person(ctx.session, ctx.actor, None)
    if isinstance(found, people.NoMatch):
        return goal_cards.no_person_card(typed=found.typed)
    if isinstance(found, people.SeveralMatches):
        options = [goal_cards.PersonOption(m.id, m.display_name, people.detail(m)) for m in found.people]
        return goal_cards.pick_person_card(typed=found.typed, people=options)
    return found


async def _person(session: AsyncSession, actor: Actor, person_id: int | None) -> PersonMatch:
    person = await people_lookup.get_person(
        session, actor=actor, person_id=actor.person_id if person_id is None else person_id
    )
    if person is None:
        raise NotFound("That person is not in the directory.")
    return person


async def _goals_card(
    ctx: ActionContext | CommandContext,
    person: PersonMatch,
    *,
    notice: goal_cards.Notice | None = None,
    focus_goal_id: int | None = None,
) -> Card:
    """The person's goals as the actor may see them, with Update controls if the actor may change them."""
    session, actor, today = ctx.session, ctx.actor, ctx.now.date()
    own = person.id == actor.person_id
    if own:
        views = await goals.my_goals(session, actor=actor, today=today)
    else:
        views = await goals.goals_of(session, actor=actor, person_id=person.id, today=today)
    if focus_goal_id is not None and not _contains(views, focus_goal_id, person.id):
        raise NotFound("That goal is not among the goals you can see here.")
    return goal_cards.goals_card(
        goals=views,
        person_id=person.id,
        person_name=person.display_name,
        own=own,
        editable=own or await _may_edit(session, actor, person.id),
        home_url=ctx.home_url,
        notice=notice,
        focus_goal_id=focus_goal_id,
    )


async def _may_edit(session: AsyncSession, actor: Actor, person_id: int) -> bool:
    # The same rule the goal service applies on update, asked first so the card offers no dead buttons.
    return may_edit_goal(actor, rel=await relation_to(session, actor, person_id), department=None)


# --- updating a key result -----------------------------------------------------------------------------


async def _update(ctx: ActionContext) -> Card:
    """Update under a key result: save the value (once, even on a double click) and show the goals again."""
    try:
        update = payloads.parse_key_result_update(ctx.data)
    except PayloadError as error:
        # With whose card it was, show that card again with the message; without, an error card.
        person_id = payloads.require_id(ctx.data, payloads.PERSON_ID, what="whose goals it showed")
        person = await _person(ctx.session, ctx.actor, person_id)
        return await _goals_card(ctx, person, notice=_refused(error))
    focus = update.goal_id if update.focus else None
    owner_id: int | None = None
    try:
        async with ctx.session.begin_nested():
            view = await goals.update_key_result(
                ctx.session,
                actor=ctx.actor,
                key_result_id=update.key_result_id,
                value=update.value,
                expected_version=update.version,
                comment=update.comment,
                confidence=update.confidence,
                now=ctx.now,
            )
            if view.id != update.goal_id:
                # A key result id edited into someone else's card: undo, whatever the service allowed.
                raise PayloadError("This card is out of date: type “goals” for a fresh one.")
        owner_id, notice = view.owner_person_id, goal_cards.saved_notice(view, update.key_result_id)
    except KeyResultChanged as changed:
        owner_id = changed.latest.owner_person_id
        notice = goal_cards.stale_notice(changed.latest, update.key_result_id)
    except (DomainError, PayloadError) as error:
        notice = _refused(error)
    # The goal's owner's goals: the person the card showed, unless the card was edited.
    person = await _person(ctx.session, ctx.actor, owner_id or update.person_id)
    return await _goals_card(ctx, person, notice=notice, focus_goal_id=focus)


# --- setting a goal ------------------------------------------------------------------------------------


async def _new_goal_command(ctx: CommandContext) -> Card:
    """`new goal`: the form, with the goals the actor may align it to."""
    return await _new_goal_form(ctx)


async def _new_goal_action(ctx: ActionContext) -> Card:
    """The Set a goal / Set another goal buttons."""
    return await _new_goal_form(ctx)


async def _new_goal_form(
    ctx: ActionContext | CommandContext,
    *,
    request_id: str | None = None,
    notice: goal_cards.Notice | None = None,
    values: Mapping[str, Any] | None = None,
) -> Card:
    today = ctx.now.date()
    parents = await goals.alignable_goals(ctx.session, actor=ctx.actor, today=today)
    return goal_cards.new_goal_card(
        today=today,
        parents=parents,
        request_id=request_id or uuid.uuid4().hex,
        notice=notice,
        values=values,
    )


async def _create(ctx: ActionContext) -> Card:
    """Create on the form: one goal per form however often it is pressed, then the goal as saved."""
    request_id = payloads.parse_request_id(ctx.data)  # without it a retry could duplicate: error card
    try:
        new = payloads.parse_new_goal(ctx.data)
        async with ctx.session.begin_nested():
            view = await goals.create_goal(
                ctx.session,
                actor=ctx.actor,
                owner=Owner.person(ctx.actor.person_id),
                title=new.title,
                description=new.description,
                period=new.period,
                visibility=new.visibility,
                kind=new.kind,
                parent_id=new.parent_id,
                weight=new.weight,
                key_results=new.key_results,
                request_id=request_id,
                now=ctx.now,
            )
    except (DomainError, PayloadError) as error:
        return await _new_goal_form(ctx, request_id=request_id, notice=_refused(error), values=ctx.data)
    return goal_cards.goal_created_card(goal=view, person_id=ctx.actor.person_id, home_url=ctx.home_url)


# --- small helpers -------------------------------------------------------------------------------------


def _refused(error: DomainError | PayloadError) -> goal_cards.Notice:
    message = error.message if isinstance(error, DomainError) else str(error)
    return goal_cards.Notice(f"Nothing was saved. {message}", "attention")


def _contains(views: list[GoalView], goal_id: int, person_id: int) -> bool:
    stack = list(views)
    while stack:
        view = stack.pop()
        if view.id == goal_id and view.owner_person_id == person_id:
            return True
        stack.extend(view.children)
    return False
