"""Who may see and do what. Every read and write of people data asks here first.

The rules are pure functions of an `Actor` and a `Relation` (what the actor is to the subject), so they
can be tested as a matrix; the two async loaders at the bottom are the only parts that touch the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, exists, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Forbidden, NotFound
from domain.performance.feedback_views import FeedbackVisibility
from storage.models import AuditEntry, Person, RoleGrant


class Role(StrEnum):
    EMPLOYEE = "employee"
    MANAGER = "manager"
    HR_ADMIN = "hr_admin"
    TALENT_REVIEWER = "talent_reviewer"


GRANTABLE_ROLES = frozenset({Role.HR_ADMIN, Role.TALENT_REVIEWER})
WHOLE_ORGANIZATION = "*"


@dataclass(frozen=True)
class Actor:
    """A signed-in person and what the organization lets them do."""

    person_id: int
    display_name: str
    tenant_id: str | None
    department: str | None
    roles: frozenset[Role]
    # Departments a talent reviewer covers; WHOLE_ORGANIZATION for all of them.
    talent_scope: frozenset[str] = frozenset()

    def has(self, role: Role) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class Relation:
    """What the actor is to the person a piece of data is about."""

    is_self: bool
    in_line: bool  # the actor is the subject's manager, directly or further up
    subject_department: str | None

    @classmethod
    def to_self(cls, actor: Actor) -> Relation:
        return cls(is_self=True, in_line=False, subject_department=actor.department)


# --- rules -------------------------------------------------------------------------------------------


def may_view_directory(actor: Actor, rel: Relation) -> bool:
    """Name, title, department and manager are visible to everyone in the organization."""
    return True


def may_view_performance(actor: Actor, rel: Relation) -> bool:
    """Goals, check-ins, received feedback, released reviews: the person, their line, and HR."""
    return rel.is_self or rel.in_line or actor.has(Role.HR_ADMIN)


def may_manage(actor: Actor, rel: Relation) -> bool:
    """Write reviews, check-in replies and development plans about someone: their line and HR."""
    return not rel.is_self and (rel.in_line or actor.has(Role.HR_ADMIN))


def may_view_talent(actor: Actor, rel: Relation, *, opened_to_line: bool = False) -> bool:
    """Potential, 9-box, succession, flight risk: never the person themselves, whatever else they are."""
    if rel.is_self:
        return False
    if actor.has(Role.HR_ADMIN):
        return True
    if actor.has(Role.TALENT_REVIEWER) and _in_scope(actor, rel.subject_department):
        return True
    return rel.in_line and opened_to_line


def may_edit_goal(actor: Actor, *, rel: Relation | None, department: str | None) -> bool:
    """Create, update or close a goal. A person's goal (`rel` to its owner): the person, their line and HR.
    A team goal (`rel` None, `department` set): that department's managers and HR. The company's goal
    (both None): HR."""
    if actor.has(Role.HR_ADMIN):
        return True
    if rel is not None:
        return rel.is_self or rel.in_line
    if department is not None:
        return actor.has(Role.MANAGER) and actor.department == department
    return False


def may_view_goal(actor: Actor, *, visibility: str, rel: Relation | None, department: str | None) -> bool:
    """See a goal. Public: everyone. Team: its department (the owner's, or the team goal's; everyone for
    the company's). Private: whoever may edit it (for a person: them, their manager line and HR)."""
    if visibility == "public" or may_edit_goal(actor, rel=rel, department=department):
        return True
    if visibility == "team":
        company_goal = rel is None and department is None
        return company_goal or (department is not None and actor.department == department)
    return False


def may_view_checkin(actor: Actor, rel: Relation) -> bool:
    """A weekly check-in, its talking points and replies: the person, their manager line and HR."""
    return rel.is_self or rel.in_line or actor.has(Role.HR_ADMIN)


def may_reply_to_checkin(actor: Actor, rel: Relation) -> bool:
    """Comment on someone's check-in: their manager line and HR, never the person on their own."""
    return may_manage(actor, rel)


def may_administer(actor: Actor) -> bool:
    """Org-wide settings, imports, role grants, audit log."""
    return actor.has(Role.HR_ADMIN)


# Feedback visibility, as the giver chose it (defined in feedback_views, pure data the cards can import).
RECIPIENT_AND_MANAGER = FeedbackVisibility.RECIPIENT_AND_MANAGER.value
RECIPIENT_ONLY = FeedbackVisibility.RECIPIENT_ONLY.value
MANAGER_ONLY = FeedbackVisibility.MANAGER_ONLY.value
ANONYMOUS = FeedbackVisibility.ANONYMOUS.value


def may_view_feedback(actor: Actor, rel: Relation, *, visibility: str, is_giver: bool) -> bool:
    """See one piece of feedback by itself, with who gave it (`rel` is to its recipient).

    The giver always; HR always, except as the recipient of a private note or of anonymous feedback (an HR
    admin is an employee too); otherwise as the visibility says. Anonymous feedback is never shown by
    itself to anyone else: see may_view_anonymous_aggregate."""
    if is_giver:
        return True
    if visibility in (MANAGER_ONLY, ANONYMOUS) and rel.is_self:
        return False
    if actor.has(Role.HR_ADMIN):
        return True
    if visibility == RECIPIENT_AND_MANAGER:
        return rel.is_self or rel.in_line
    if visibility == RECIPIENT_ONLY:
        return rel.is_self
    if visibility == MANAGER_ONLY:
        return rel.in_line
    return False


def may_view_anonymous_aggregate(actor: Actor, rel: Relation) -> bool:
    """See anonymous answers to a request pooled, without givers, once enough arrived: the person they
    are about and their manager line (whoever asked is one of them)."""
    return rel.is_self or rel.in_line


def audited_feedback_read(actor: Actor, rel: Relation, *, visibility: str, is_giver: bool) -> str | None:
    """The audit action when this read is HR's privilege alone (a private note, an anonymous giver)."""
    if is_giver or not actor.has(Role.HR_ADMIN) or rel.is_self:
        return None
    if visibility == MANAGER_ONLY and not rel.in_line:
        return "feedback.read_private_note"
    if visibility == ANONYMOUS:
        return "feedback.read_anonymous_giver"
    return None


def may_request_feedback(actor: Actor, rel: Relation) -> bool:
    """Ask colleagues for feedback about someone: about oneself, or a manager about their line."""
    return rel.is_self or rel.in_line


def may_give_badge(actor: Actor, *, official: bool) -> bool:
    """Praise with a badge: anyone, except official badges, which only HR gives."""
    return not official or actor.has(Role.HR_ADMIN)


def may_define_badges(actor: Actor) -> bool:
    """Create, change or retire badges: HR."""
    return actor.has(Role.HR_ADMIN)


def may_view_praise(actor: Actor, rel: Relation, *, private: bool, is_giver: bool) -> bool:
    """See praise (`rel` is to its receiver). Public: everyone in the organization. Private: the giver,
    the receiver, the receiver's manager line and HR."""
    return not private or is_giver or rel.is_self or rel.in_line or actor.has(Role.HR_ADMIN)


# Performance reviews. Calibration leads are talent reviewers: PRODUCT.md gives talent reviewers
# "calibration for their scope", and their grant already carries that scope (a department or everyone).


def may_manage_reviews(actor: Actor) -> bool:
    """Define review templates and run cycles (create, launch, move on, add people, the dashboard): HR."""
    return actor.has(Role.HR_ADMIN)


def may_write_review(actor: Actor, *, reviewer_id: int) -> bool:
    """Fill in a review form: its reviewer only (HR neither: a review is its writer's word)."""
    return actor.person_id == reviewer_id


def may_nominate_peers(actor: Actor, rel: Relation) -> bool:
    """Name the peers who review someone in a cycle: the person, their manager line and HR."""
    return rel.is_self or rel.in_line or actor.has(Role.HR_ADMIN)


def may_view_review_results(actor: Actor, rel: Relation, *, released: bool) -> bool:
    """A participant's score, breakdown, manager review and pooled peer and upward answers: the person once
    the cycle is released; their manager line and HR at any time (an HR admin's own review only once
    released, like anyone's)."""
    if rel.is_self:
        return released
    return rel.in_line or actor.has(Role.HR_ADMIN)


def may_view_review_status(actor: Actor, rel: Relation) -> bool:
    """Where someone's reviews stand (statuses, not content): the person, their manager line and HR."""
    return rel.is_self or rel.in_line or actor.has(Role.HR_ADMIN)


def may_identify_reviewers(actor: Actor, rel: Relation) -> bool:
    """Who wrote someone's peer and upward reviews, with their answers (abuse handling): HR, never about
    themselves; every such read is audited."""
    return actor.has(Role.HR_ADMIN) and not rel.is_self


def may_calibrate(actor: Actor, *, department: str | None, is_self: bool) -> bool:
    """See a cycle's manager ratings side by side and adjust them with a reason: HR, and calibration leads
    (talent reviewers) for the departments in their scope; nobody for their own rating."""
    if is_self:
        return False
    return actor.has(Role.HR_ADMIN) or (actor.has(Role.TALENT_REVIEWER) and _in_scope(actor, department))


def may_acknowledge_review(actor: Actor, rel: Relation) -> bool:
    """Acknowledge a released review: the person reviewed, only."""
    return rel.is_self


# Performance improvement plans: whether a plan exists is itself private, so the services answer NotFound
# to anyone these rules leave out.


def may_view_improvement_plan(actor: Actor, rel: Relation, *, draft: bool) -> bool:
    """See someone's improvement plan: their manager line and HR; the person themselves once it is shared
    (never a draft, whatever roles they hold)."""
    if rel.is_self:
        return not draft
    return rel.in_line or actor.has(Role.HR_ADMIN)


def may_manage_improvement_plan(actor: Actor, rel: Relation) -> bool:
    """Open, share, record checkpoints and outcomes of someone's plan: their manager line and HR, never
    the person themselves."""
    return not rel.is_self and (rel.in_line or actor.has(Role.HR_ADMIN))


def may_acknowledge_improvement_plan(actor: Actor, rel: Relation) -> bool:
    """Acknowledge having seen a shared plan: the person it is about, only."""
    return rel.is_self


def audited_improvement_plan_read(actor: Actor, rel: Relation) -> str | None:
    """The audit action when only HR's role lets the actor read this plan (outside their own line)."""
    if actor.has(Role.HR_ADMIN) and not rel.is_self and not rel.in_line:
        return "improvement_plan.read"
    return None


# Competencies and development: a person's assessed levels and development plan are theirs to see, like
# their goals; talent data (below) never is.


def may_define_competencies(actor: Actor) -> bool:
    """Create and change competencies, role profiles and career steps: HR."""
    return actor.has(Role.HR_ADMIN)


def may_assess_competency(actor: Actor, rel: Relation) -> bool:
    """Record someone's assessed level on a competency: their manager line and HR, never themselves."""
    return may_manage(actor, rel)


def may_view_development(actor: Actor, rel: Relation) -> bool:
    """See someone's assessed levels, gaps, career path and development plan: the person, their line, HR."""
    return may_view_performance(actor, rel)


def may_edit_development(actor: Actor, rel: Relation) -> bool:
    """Add to, change and mark progress on someone's development plan: the person, their line and HR."""
    return rel.is_self or rel.in_line or actor.has(Role.HR_ADMIN)


# Talent management. `may_view_talent` above is the rule for one person's potential, placement, risk and
# succession; these are the rules for running the processes. Nobody acts on their own talent data.


def may_manage_talent_reviews(actor: Actor) -> bool:
    """Open, move through calibration, finalize and open-to-managers a talent review: HR."""
    return actor.has(Role.HR_ADMIN)


def may_rate_potential(actor: Actor, rel: Relation) -> bool:
    """Rate someone's potential, risk and impact of loss in a talent review: their manager line, HR and
    talent reviewers in scope; never the person themselves."""
    if rel.is_self:
        return False
    return rel.in_line or actor.has(Role.HR_ADMIN) or _talent_reviewer_for(actor, rel.subject_department)


def may_calibrate_talent(actor: Actor, rel: Relation) -> bool:
    """Move someone between 9-box cells in a calibration session: HR and talent reviewers in scope."""
    if rel.is_self:
        return False
    return actor.has(Role.HR_ADMIN) or _talent_reviewer_for(actor, rel.subject_department)


def may_manage_succession(actor: Actor, *, department: str | None) -> bool:
    """Name critical positions, edit their slates and record how they were filled: HR, and talent reviewers
    for positions in their scope."""
    return actor.has(Role.HR_ADMIN) or _talent_reviewer_for(actor, department)


def may_view_talent_pages(actor: Actor) -> bool:
    """Open the succession board, talent reviews and talent metrics at all (each row still asks
    `may_view_talent`): HR and talent reviewers."""
    return actor.has(Role.HR_ADMIN) or actor.has(Role.TALENT_REVIEWER)


def _talent_reviewer_for(actor: Actor, department: str | None) -> bool:
    return actor.has(Role.TALENT_REVIEWER) and _in_scope(actor, department)


def require(allowed: bool, what: str) -> None:
    """Raise Forbidden with a sentence the person can read."""
    if not allowed:
        raise Forbidden(f"You don't have access to {what}.")


def _in_scope(actor: Actor, department: str | None) -> bool:
    return WHOLE_ORGANIZATION in actor.talent_scope or (
        department is not None and department in actor.talent_scope
    )


# --- loaders -----------------------------------------------------------------------------------------


# Built once: the person, their grants (one row each) and whether anyone active reports to them. Building
# it per call (with an ORM alias) cost more CPU than running it.
_REPORTS = Person.__table__.alias("reports")
_ACTOR = (
    select(
        Person.id,
        Person.display_name,
        Person.tenant_id,
        Person.department,
        exists().where(_REPORTS.c.manager_id == Person.id, _REPORTS.c.active.is_(True)).label("has_reports"),
        RoleGrant.role,
        RoleGrant.scope_department,
    )
    .outerjoin(RoleGrant, RoleGrant.person_id == Person.id)
    .where(Person.active.is_(True))
)
_ACTOR_BY_ID = _ACTOR.where(Person.id == bindparam("person_id"))
# A person imported without a tenant matches any tenant: single-tenant deployments often import before
# they know their tenant id.
_ACTOR_BY_TEAMS_ID = _ACTOR.where(
    Person.aad_object_id == bindparam("aad_object_id"),
    or_(Person.tenant_id == bindparam("tenant_id"), Person.tenant_id.is_(None)),
)


async def load_actor(session: AsyncSession, person_id: int) -> Actor:
    """The Actor for an active person: granted roles plus MANAGER when anyone reports to them."""
    actor = _actor_from(await session.execute(_ACTOR_BY_ID, {"person_id": person_id}))
    if actor is None:
        raise NotFound("That person is not in the directory.")
    return actor


async def actor_for_teams_user(
    session: AsyncSession, *, tenant_id: str | None, aad_object_id: str
) -> Actor | None:
    """The Actor behind a Teams or Entra identity (tenant + object id), or None when not in the directory."""
    params = {"aad_object_id": aad_object_id.lower(), "tenant_id": tenant_id}
    return _actor_from(await session.execute(_ACTOR_BY_TEAMS_ID, params))


def _actor_from(result: Any) -> Actor | None:
    rows = result.all()
    if not rows:
        return None
    first = rows[0]
    granted = [(Role(row.role), row.scope_department) for row in rows if row.role is not None]
    roles = {Role.EMPLOYEE, *(role for role, _ in granted)}
    if first.has_reports:
        roles.add(Role.MANAGER)
    return Actor(
        person_id=first.id,
        display_name=first.display_name,
        tenant_id=first.tenant_id,
        department=first.department,
        roles=frozenset(roles),
        talent_scope=frozenset(
            scope or WHOLE_ORGANIZATION for role, scope in granted if role == Role.TALENT_REVIEWER
        ),
    )


async def relation_to(session: AsyncSession, actor: Actor, subject_id: int) -> Relation:
    """How the actor relates to a subject, walking the subject's chain of managers upward."""
    if subject_id == actor.person_id:
        return Relation.to_self(actor)
    subject = await session.get(Person, subject_id)
    if subject is None:
        raise NotFound("That person is not in the directory.")
    return (await relations_to(session, actor, {subject_id: subject.department}))[subject_id]


async def relations_to(
    session: AsyncSession, actor: Actor, departments: Mapping[int, str | None]
) -> dict[int, Relation]:
    """The actor's relation to many people at once (person id → department): one recursive query."""
    others = [pid for pid in departments if pid != actor.person_id]
    managed: set[int] = set()
    if others:
        up = (
            select(Person.id.label("origin"), Person.manager_id.label("mid"), literal(1).label("depth"))
            .where(Person.id.in_(others))
            .cte("chains", recursive=True)
        )
        step = select(up.c.origin, Person.manager_id, up.c.depth + 1).join(up, Person.id == up.c.mid)
        chains = up.union_all(step.where(up.c.depth < 64))
        managed = set(
            await session.scalars(select(chains.c.origin).where(chains.c.mid == actor.person_id).distinct())
        )
    return {
        pid: Relation.to_self(actor)
        if pid == actor.person_id
        else Relation(is_self=False, in_line=pid in managed, subject_department=department)
        for pid, department in departments.items()
    }


async def manager_chain(session: AsyncSession, person_id: int) -> list[int]:
    """The ids of a person's managers, nearest first (cycle-safe: the org import refuses cycles)."""
    up = (
        select(Person.manager_id.label("id"), literal(1).label("depth"))
        .where(Person.id == person_id)
        .cte("chain", recursive=True)
    )
    step = select(Person.manager_id, up.c.depth + 1).join(up, Person.id == up.c.id).where(up.c.depth < 64)
    chain = up.union_all(step)
    rows = await session.execute(select(chain.c.id).where(chain.c.id.is_not(None)).order_by(chain.c.depth))
    return [row[0] for row in rows]


async def audit(
    session: AsyncSession,
    actor: Actor,
    *,
    action: str,
    subject_type: str,
    subject_id: int | None,
    **detail: object,
) -> None:
    """Record an access to confidential data (in the caller's transaction)."""
    session.add(
        AuditEntry(
            actor_id=actor.person_id,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            detail=detail or None,
        )
    )
