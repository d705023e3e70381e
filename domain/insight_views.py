"""What the Insights tab, the talent review and the managers' monthly digest show of the bridge's suggestions,
and what deciding one returns.

Cards and tab templates import these; domain/insights.py builds them. Nothing here reads the store, so
adaptive_cards may import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain.nudges import NudgeTime
from domain.signal_views import EvidenceKind, SignalKind, Suggestion

REASON_MAX = 2000
# What the Insights tab lists: every signal about people. Rating-bias flags are about a cycle's managers and
# are shown beside them in calibration (domain.signal_risks.calibration_flags).
LISTED_KINDS = tuple(kind for kind in SignalKind if kind is not SignalKind.RATING_BIAS)
KIND_LABELS = {
    SignalKind.PROMOTION_READINESS: "Promotion readiness",
    SignalKind.DEVELOPMENT_PROGRAM: "Development program",
    SignalKind.SUCCESSION_CANDIDATE: "Succession candidate",
    SignalKind.HIGH_POTENTIAL: "High potential",
    SignalKind.CAREER_PATH: "Career path",
    SignalKind.CROSS_FUNCTIONAL: "Cross-functional leadership",
    SignalKind.DEVELOPMENT_OBJECTIVE: "Development objective",
    SignalKind.FLIGHT_RISK: "Flight risk",
    SignalKind.RATING_BIAS: "Rating bias",
}
# What accepting a suggestion of each kind does, said before the person presses Accept.
ACCEPT_EFFECTS = {
    SignalKind.PROMOTION_READINESS: "Accepting adds a note to their entry in the open talent review.",
    SignalKind.DEVELOPMENT_PROGRAM: "Accepting adds them to the talent pool.",
    SignalKind.SUCCESSION_CANDIDATE: "Accepting names them on the position's succession slate.",
    SignalKind.HIGH_POTENTIAL: (
        "Accepting adds a note to their entry in the open talent review, for the review to confirm."
    ),
    SignalKind.CAREER_PATH: "Accepting adds a stretch assignment to their development plan, due in 90 days.",
    SignalKind.CROSS_FUNCTIONAL: (
        "Accepting adds a cross-functional project to their development plan, due in 90 days."
    ),
    SignalKind.DEVELOPMENT_OBJECTIVE: "Accepting adds a private development goal to their goals.",
    SignalKind.FLIGHT_RISK: "Accepting sets their risk of loss to high in the open talent review.",
    SignalKind.RATING_BIAS: "Accepting records that it was seen; nothing is changed.",
}
EVIDENCE_LABELS = {
    EvidenceKind.GOAL: ("goal", "goals"),
    EvidenceKind.KEY_RESULT_UPDATE: ("key result update", "key result updates"),
    EvidenceKind.REVIEW_SCORE: ("review score", "review scores"),
    EvidenceKind.FEEDBACK: ("feedback item", "feedback items"),
    EvidenceKind.ASSESSMENT: ("competency assessment", "competency assessments"),
    EvidenceKind.DEVELOPMENT_ACTION: ("development action", "development actions"),
    EvidenceKind.CHECKIN: ("check-in", "check-ins"),
    EvidenceKind.TALENT_ENTRY: ("talent review entry", "talent review entries"),
    EvidenceKind.POSITION: ("position", "positions"),
    EvidenceKind.ROLE_PROFILE: ("role profile", "role profiles"),
    EvidenceKind.FIGURE: ("figure", "figures"),
}

# The digest a manager gets about their line: development-oriented kinds, which their line may act on;
# flight risk only where HR opened the talent review's placements to managers. Never high potential,
# succession or rating bias (talent data HR keeps), and never the signal's own summary or evidence details:
# only our words for the kind and how many pieces of evidence of each sort it rests on.
DIGEST_KINDS = (
    SignalKind.DEVELOPMENT_PROGRAM,
    SignalKind.CAREER_PATH,
    SignalKind.CROSS_FUNCTIONAL,
    SignalKind.DEVELOPMENT_OBJECTIVE,
    SignalKind.PROMOTION_READINESS,
)
DIGEST_WORDS = {
    SignalKind.DEVELOPMENT_PROGRAM: "is growing: a development program could suit them",
    SignalKind.CAREER_PATH: "did well on stretch assignments: a next step on their career path",
    SignalKind.CROSS_FUNCTIONAL: "is valued by peers for collaboration: a cross-functional opportunity",
    SignalKind.DEVELOPMENT_OBJECTIVE: "could take on a development objective in their goals",
    SignalKind.PROMOTION_READINESS: "met their goals consistently: worth a promotion-readiness conversation",
    SignalKind.FLIGHT_RISK: "shows signs of a flight risk: a conversation about their growth could help",
}
# The evidence a digest counts: performance data the manager line sees anyway. Positions and talent-review
# entries are left out, so a count can't hint at a slate or a placement.
DIGEST_EVIDENCE = frozenset(
    {
        EvidenceKind.GOAL,
        EvidenceKind.KEY_RESULT_UPDATE,
        EvidenceKind.REVIEW_SCORE,
        EvidenceKind.FEEDBACK,
        EvidenceKind.ASSESSMENT,
        EvidenceKind.DEVELOPMENT_ACTION,
        EvidenceKind.CHECKIN,
        EvidenceKind.FIGURE,
    }
)
KIND_DIGEST = "insights.digest"


def evidence_summary(suggestion: Suggestion, kinds: frozenset[EvidenceKind] | None = None) -> str:
    """How many pieces of evidence of each sort a suggestion rests on: "3 goals, 1 review score" (only
    those of `kinds` when given)."""
    counts: dict[EvidenceKind, int] = {}
    for item in suggestion.evidence:
        if kinds is None or item.kind in kinds:
            counts[item.kind] = counts.get(item.kind, 0) + 1
    parts = [
        f"{n} {EVIDENCE_LABELS[kind][0] if n == 1 else EVIDENCE_LABELS[kind][1]}"
        for kind, n in counts.items()
    ]
    return ", ".join(parts) if parts else "no evidence rows"


@dataclass(frozen=True)
class KindCount:
    """How many suggestions of one kind."""

    kind: SignalKind
    count: int

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass(frozen=True)
class InsightGroup:
    """The suggestions of one kind on the page: `suggestions` from `start` (0-based) of `count` in all."""

    kind: SignalKind
    count: int
    start: int
    suggestions: tuple[Suggestion, ...]

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def more(self) -> int:
        """How many follow the ones shown."""
        return max(self.count - self.start - len(self.suggestions), 0)


@dataclass(frozen=True)
class InsightsView:
    """The Insights tab: counts per kind (after the department and score filters), then the groups."""

    counts: tuple[KindCount, ...]
    groups: tuple[InsightGroup, ...]
    total: int
    kind: SignalKind | None
    department: str | None
    min_score: float | None
    departments: tuple[str, ...]  # of every suggestion the reader may see, for the filter
    page: int
    pages: int
    per_page: int


@dataclass(frozen=True)
class PersonInsights:
    """One person's open suggestions, best first (for the talent review's 9-box chips)."""

    person_id: int
    suggestions: tuple[Suggestion, ...]

    @property
    def count(self) -> int:
        return len(self.suggestions)

    @property
    def kinds(self) -> tuple[SignalKind, ...]:
        """Each kind once, in the order of its best suggestion."""
        return tuple(dict.fromkeys(s.kind for s in self.suggestions))

    @property
    def label(self) -> str:
        """Like "2 suggestions: Promotion readiness, Flight risk"."""
        what = "1 suggestion" if self.count == 1 else f"{self.count} suggestions"
        return f"{what}: {', '.join(KIND_LABELS[k] for k in self.kinds)}"


@dataclass(frozen=True)
class DecisionView:
    """A decision on a suggestion: accepted (with what it created) or dismissed, and why."""

    id: int
    kind: SignalKind
    person_id: int
    person_name: str
    target_key: str
    target_label: str | None
    accepted: bool
    reason: str
    score: float
    outcome: (
        str | None
    )  # "successor:41", "development_action:9", "goal:77", "talent_entry:5", "pool_member:3:12"
    outcome_label: str  # the outcome in words
    decided_by: str | None
    decided_at: datetime
    already: bool = False  # this submit found the decision made before (a second click): nothing written

    @property
    def status(self) -> str:
        return "accepted" if self.accepted else "dismissed"

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass(frozen=True)
class DigestItem:
    """One suggestion in a manager's digest, in our words (never the signal's details)."""

    person_id: int
    person_name: str
    kind: SignalKind
    target_label: str | None  # the role of a career-path suggestion; None for the others
    evidence: str  # evidence_summary
    score: float

    @property
    def what(self) -> str:
        words = DIGEST_WORDS[self.kind]
        if self.kind is SignalKind.CAREER_PATH and self.target_label:
            words += f" ({self.target_label})"
        return words

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass(frozen=True)
class ManagerDigest:
    """A manager's monthly digest: counts per kind about their line, and the strongest items."""

    manager_id: int
    manager_name: str
    month: date  # its first day
    counts: tuple[KindCount, ...]
    items: tuple[DigestItem, ...]  # the strongest, at most DIGEST_ITEMS
    total: int
    people: int  # how many people of their line the suggestions are about


@dataclass(frozen=True)
class DigestNudge:
    """A digest that may go now, with the one-per-month outbox key it goes under."""

    digest: ManagerDigest
    when: NudgeTime
    key: str


@dataclass(frozen=True)
class DigestPlan:
    """What a scheduler pass would do with each manager's digest this month."""

    nudges: tuple[DigestNudge, ...]  # may go now
    waiting: int = 0  # outside their working hours: a later pass decides again
    already: int = 0  # this month's digest was queued before
    nothing: int = 0  # their line has no suggestion for them this pass
    no_chat: tuple[int, ...] = ()  # managers with no chat with the bot yet
    blocked: int = 0
