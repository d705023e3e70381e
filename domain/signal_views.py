"""What the bridge's signals return: suggestions a person can check, each with the evidence it came from.

A suggestion is about one person (a calibration bias flag: about a manager) and proposes one talent
outcome (PRODUCT.md, "Performance signals → talent outcomes"). It is identified by (kind, person,
target_key), which is also the key its decision is stored under (storage.models.SuggestionDecision).
Pure data: cards and templates import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class SignalKind(StrEnum):
    # consistent goal achievement across periods → a promotion-readiness assessment (a talent-review note)
    PROMOTION_READINESS = "promotion_readiness"
    # feedback trends showing growth on named competencies → a development-program (talent pool) nomination
    DEVELOPMENT_PROGRAM = "development_program"
    # review history across several roles → a succession-slate candidate for a position whose profile fits
    SUCCESSION_CANDIDATE = "succession_candidate"
    # leadership-competency ratings → high potential, for the talent review to confirm
    HIGH_POTENTIAL = "high_potential"
    # performance during stretch assignments → a career-path recommendation (a next role)
    CAREER_PATH = "career_path"
    # peer feedback on collaboration → a cross-functional leadership opportunity (a stretch action)
    CROSS_FUNCTIONAL = "cross_functional"
    # the reverse: a succession gap, or a competency gap on a slate → a development objective (a goal)
    DEVELOPMENT_OBJECTIVE = "development_objective"
    # a high performer or high potential showing signs of leaving → the risk-of-loss field, once accepted
    FLIGHT_RISK = "flight_risk"
    # a manager rating more leniently or severely than the organization → shown in calibration
    RATING_BIAS = "rating_bias"


class EvidenceKind(StrEnum):
    GOAL = "goal"
    KEY_RESULT_UPDATE = "key_result_update"
    REVIEW_SCORE = "review_score"
    FEEDBACK = "feedback"
    ASSESSMENT = "assessment"
    DEVELOPMENT_ACTION = "development_action"
    CHECKIN = "checkin"
    TALENT_ENTRY = "talent_entry"
    POSITION = "position"
    ROLE_PROFILE = "role_profile"
    FIGURE = "figure"  # a computed figure (a distribution, a count), with how it was computed


@dataclass(frozen=True)
class Evidence:
    """One fact a suggestion rests on: what it is, which row (None for a computed figure), what it says."""

    kind: EvidenceKind
    ref_id: int | None
    label: str
    detail: str
    on: date | None = None


@dataclass(frozen=True)
class Suggestion:
    """A suggested talent outcome for a person, its strength (0 to 1) and its evidence."""

    kind: SignalKind
    person_id: int
    person_name: str
    department: str | None
    target_key: str  # what it proposes: "position:12", "pool:3", "role:7", or ""
    target_label: str | None
    score: float
    summary: str
    evidence: tuple[Evidence, ...]

    @property
    def key(self) -> tuple[str, int, str]:
        """The identity its decision is stored under."""
        return (self.kind.value, self.person_id, self.target_key)
