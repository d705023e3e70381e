"""Small hand-made worlds for the bridge's signal tests, built straight from the ORM models.

`SignalWorld` adds people, goals, feedback, review cycles, competencies, role profiles, assessments,
positions, slates, career steps, development actions, talent pools and talent-review entries in a
session (it flushes, never commits). Rows are named: `w.ids["Pia"]` is the person called Pia,
`w.ids["Pia Q1"]` whatever the test named so. Everything happens before TODAY.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Actor, load_actor
from storage.models import (
    CareerStep,
    Competency,
    CompetencyAssessment,
    DevelopmentAction,
    DevelopmentPlan,
    Feedback,
    FeedbackTag,
    Goal,
    Person,
    Position,
    PositionFill,
    ReviewCycle,
    ReviewParticipant,
    ReviewTemplate,
    RoleGrant,
    RoleProfile,
    RoleRequirement,
    Successor,
    SuggestionDecision,
    TalentPool,
    TalentPoolMember,
    TalentReview,
    TalentReviewEntry,
)

TODAY = date(2026, 6, 15)
ENGINEERING, SALES, MARKETING, PRODUCT, FINANCE = "Engineering", "Sales", "Marketing", "Product", "Finance"
LEVELS5 = ["Learning", "Developing", "Proficient", "Advanced", "Expert"]


def at(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=UTC)


@dataclass
class SignalWorld:
    session: AsyncSession
    ids: dict[str, int] = field(default_factory=dict)
    _template_id: int | None = None
    _plans: dict[int, int] = field(default_factory=dict)

    async def _add(self, row: object, name: str | None = None) -> int:
        self.session.add(row)
        await self.session.flush()
        row_id: int = row.id  # type: ignore[attr-defined]
        if name is not None:
            self.ids[name] = row_id
        return row_id

    async def actor(self, name: str) -> Actor:
        return await load_actor(self.session, self.ids[name])

    # --- people ---

    async def person(
        self,
        name: str,
        department: str | None,
        *,
        title: str | None = None,
        manager: str | None = None,
        active: bool = True,
    ) -> int:
        slug = re.sub(r"[^a-z0-9]", "", name.lower())
        return await self._add(
            Person(
                email=f"{slug}@signals.example",
                display_name=name,
                job_title=title,
                department=department,
                manager_id=self.ids[manager] if manager else None,
                active=active,
            ),
            name,
        )

    async def grant(self, name: str, role: str, scope: str | None = None) -> None:
        await self._add(RoleGrant(person_id=self.ids[name], role=role, scope_department=scope))

    # --- goals ---

    async def goal(
        self,
        name: str,
        person: str,
        period: tuple[str, date, date],
        *,
        progress: float,
        final_score: float | None = None,
        weight: float = 1.0,
        kind: str = "business",
    ) -> int:
        label, start, end = period
        return await self._add(
            Goal(
                owner_type="person",
                owner_person_id=self.ids[person],
                title=name,
                period_label=label,
                period_start=start,
                period_end=end,
                visibility="team",
                kind=kind,
                weight=weight,
                progress=progress,
                final_score=final_score,
                closed_at=at(end) if final_score is not None else None,
            ),
            name,
        )

    # --- feedback ---

    async def feedback(
        self,
        name: str,
        recipient: str,
        giver: str,
        on: date,
        tags: dict[str, int | None],
        *,
        visibility: str = "recipient_and_manager",
    ) -> int:
        feedback_id = await self._add(
            Feedback(
                giver_id=self.ids[giver],
                recipient_id=self.ids[recipient],
                text=f"{name}: well done",
                visibility=visibility,
                created_at=at(on),
            ),
            name,
        )
        for tag, rating in tags.items():
            self.session.add(FeedbackTag(feedback_id=feedback_id, tag=tag, rating=rating))
        await self.session.flush()
        return feedback_id

    # --- reviews ---

    async def cycle(self, name: str, start: date, end: date, *, phase: str = "closed") -> int:
        if self._template_id is None:
            self._template_id = await self._add(
                ReviewTemplate(name="Signals template", name_key="signals template", scale_labels=LEVELS5)
            )
        return await self._add(
            ReviewCycle(
                name=name, template_id=self._template_id, period_start=start, period_end=end, phase=phase
            ),
            name,
        )

    async def participant(
        self, name: str, cycle: str, person: str, score: float | None, *, department: str | None = None
    ) -> int:
        return await self._add(
            ReviewParticipant(
                cycle_id=self.ids[cycle],
                person_id=self.ids[person],
                department=department,
                source="launch",
                added_at=at(date(2024, 1, 1)),
                computed_score=score,
                final_score=score,
            ),
            name,
        )

    # --- competencies ---

    async def competency(self, name: str, category: str = "functional") -> int:
        if name in self.ids:  # two worlds in one test may both want it
            return self.ids[name]
        return await self._add(
            Competency(name=name, name_key=name.casefold(), category=category, levels=LEVELS5), name
        )

    async def profile(self, name: str, job_title: str | None, expects: dict[str, int]) -> int:
        profile_id = await self._add(
            RoleProfile(
                name=name, name_key=name.casefold(), job_title_key=job_title.lower() if job_title else None
            ),
            name,
        )
        for competency, level in expects.items():
            self.session.add(
                RoleRequirement(
                    role_profile_id=profile_id, competency_id=self.ids[competency], expected_level=level
                )
            )
        await self.session.flush()
        return profile_id

    async def assess(self, name: str, person: str, competency: str, level: int, on: date) -> int:
        return await self._add(
            CompetencyAssessment(
                person_id=self.ids[person],
                competency_id=self.ids[competency],
                level=level,
                source="manager",
                assessed_on=on,
            ),
            name,
        )

    async def step(self, origin: str, target: str, kind: str) -> None:
        self.session.add(
            CareerStep(from_profile_id=self.ids[origin], to_profile_id=self.ids[target], kind=kind)
        )
        await self.session.flush()

    # --- succession ---

    async def position(
        self,
        title: str,
        department: str | None,
        *,
        profile: str | None = None,
        critical: bool = True,
        incumbent: str | None = None,
    ) -> int:
        return await self._add(
            Position(
                title=title,
                department=department,
                critical=critical,
                role_profile_id=self.ids[profile] if profile else None,
                incumbent_id=self.ids[incumbent] if incumbent else None,
            ),
            title,
        )

    async def successor(self, position: str, person: str, readiness: str) -> int:
        return await self._add(
            Successor(position_id=self.ids[position], person_id=self.ids[person], readiness=readiness),
            f"{person} on {position}",
        )

    async def fill(self, position: str, person: str, on: date, source: str = "internal") -> int:
        return await self._add(
            PositionFill(
                position_id=self.ids[position], person_id=self.ids[person], filled_on=on, source=source
            )
        )

    # --- development ---

    async def action(
        self,
        name: str,
        person: str,
        *,
        kind: str = "stretch",
        status: str = "done",
        completed: date | None = None,
        due: date = date(2026, 3, 1),
        goal: str | None = None,
        competency: str | None = None,
    ) -> int:
        pid = self.ids[person]
        if pid not in self._plans:
            self._plans[pid] = await self._add(DevelopmentPlan(person_id=pid))
        return await self._add(
            DevelopmentAction(
                plan_id=self._plans[pid],
                kind=kind,
                title=name,
                status=status,
                progress=100 if status == "done" else 30,
                due_on=due,
                completed_at=at(completed) if completed else None,
                goal_id=self.ids[goal] if goal else None,
                competency_id=self.ids[competency] if competency else None,
            ),
            name,
        )

    async def pool(self, name: str) -> int:
        return await self._add(TalentPool(name=name, name_key=name.casefold()), name)

    async def member(self, pool: str, person: str) -> None:
        self.session.add(TalentPoolMember(pool_id=self.ids[pool], person_id=self.ids[person]))
        await self.session.flush()

    async def talent_entry(self, person: str, *, high_potential: bool) -> int:
        if "talent review" not in self.ids:
            cycle = await self.cycle("Talent cycle", date(2025, 1, 1), date(2025, 12, 31))
            await self._add(
                TalentReview(
                    name="2025 talent review",
                    performance_cycle_id=cycle,
                    status="finalized",
                    medium_from=2.75,
                    high_from=3.75,
                ),
                "talent review",
            )
        return await self._add(
            TalentReviewEntry(
                talent_review_id=self.ids["talent review"],
                person_id=self.ids[person],
                high_potential=high_potential,
            )
        )

    async def decide(self, kind: str, person: str, target_key: str = "", status: str = "dismissed") -> None:
        await self._add(
            SuggestionDecision(
                kind=kind,
                person_id=self.ids[person],
                target_key=target_key,
                status=status,
                reason="Seen to",
                score=0.5,
                evidence=[],
            )
        )

    async def delete(self, model: type, name: str) -> None:
        row = await self.session.get(model, self.ids[name])
        await self.session.delete(row)
        await self.session.flush()
