"""A small competency framework built as HR would, through the domain services, for the competency and
career tests.

Competencies: Communication (behaviours, 5 levels), Delivery (functional, 4 levels), Coaching (leadership,
3 levels). Role profiles: Senior engineer (the job title "Senior Software Engineer", Adele's), expecting
Communication 3 (weight 2), Delivery 4, Coaching 2; Staff engineer, expecting Communication 4, Delivery 4
(weight 2), Coaching 3; Engineering manager, expecting Coaching 3 (weight 3), Communication 4.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from domain import competencies
from domain.access import Actor
from domain.competency_views import CompetencyView, RequirementInput, RoleProfileView

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday
COMMUNICATION_LEVELS = (
    "Listens",
    "Explains clearly",
    "Adapts to the audience",
    "Persuades",
    "Shapes the conversation",
)
DELIVERY_LEVELS = ("Delivers with help", "Delivers alone", "Delivers for the team", "Delivers for the org")
COACHING_LEVELS = ("Shares what they know", "Coaches a peer", "Grows a team")


@dataclass(frozen=True)
class Framework:
    communication: CompetencyView
    delivery: CompetencyView
    coaching: CompetencyView
    senior: RoleProfileView
    staff: RoleProfileView
    manager: RoleProfileView


async def build_framework(session: AsyncSession, hr: Actor) -> Framework:
    """The framework above, defined by `hr`."""
    communication = await competencies.create_competency(
        session, actor=hr, name="Communication", category="Behaviours", levels=COMMUNICATION_LEVELS
    )
    delivery = await competencies.create_competency(
        session, actor=hr, name="Delivery", category="Functional", levels=DELIVERY_LEVELS
    )
    coaching = await competencies.create_competency(
        session,
        actor=hr,
        name="Coaching",
        category="Leadership",
        levels=COACHING_LEVELS,
        description="Helping others grow",
    )
    senior = await competencies.create_role_profile(
        session,
        actor=hr,
        name="Senior engineer",
        job_title="  Senior Software Engineer ",
        requirements=[
            RequirementInput(communication.id, 3, 2),
            RequirementInput(delivery.id, 4),
            RequirementInput(coaching.id, 2),
        ],
    )
    staff = await competencies.create_role_profile(
        session,
        actor=hr,
        name="Staff engineer",
        requirements=[
            RequirementInput(communication.id, 4),
            RequirementInput(delivery.id, 4, 2),
            RequirementInput(coaching.id, 3),
        ],
    )
    manager = await competencies.create_role_profile(
        session,
        actor=hr,
        name="Engineering manager",
        requirements=[RequirementInput(coaching.id, 3, 3), RequirementInput(communication.id, 4)],
    )
    return Framework(communication, delivery, coaching, senior, staff, manager)
