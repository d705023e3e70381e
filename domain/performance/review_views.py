"""What performance reviews look like to the transports: choices and inputs in, read-only views out.

Pure data (no store, no SQLAlchemy): cards, tab templates and the nudge planner import these; the services
build them, each for one viewer: review_templates (templates), review_cycles (cycles and their phases),
review_participants (who is reviewed, by whom; peers), review_new_hires (90-day reviews), reviews (the
forms), review_results (results, acknowledgement), calibration, and review_reads (tabs and nudges).

Scores are Decimals rounded to 2 places (ROUND_HALF_UP) for showing; a rating is a whole point of the
template's scale, from 1 to its number of points. A view for the person reviewed carries no score, no
breakdown and no manager answers before the cycle is released; peer and upward answers reach anyone but
HR only pooled (AnonymousReviews), and only from ANONYMITY_THRESHOLD answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

# Re-exported: peer and upward reviews are pooled like anonymous feedback, from the same number of answers.
from domain.performance.feedback_views import ANONYMITY_THRESHOLD as ANONYMITY_THRESHOLD

# --- limits a person may type (the cards set the same ones) ----------------------------------------------

NAME_MAX = 200
DESCRIPTION_MAX = 2000
SECTION_TITLE_MAX = 200
ITEM_TEXT_MAX = 500
SCALE_LABEL_MAX = 60
CHOICE_MAX = 100
CHOICES_MAX = 10
SECTIONS_MAX = 20
ITEMS_MAX = 50
ANSWER_MAX = 4000
REASON_MAX = 2000
COMMENT_MAX = 2000
PEERS_MAX = 10
WEIGHT_MAX = 1000
SCALE_MIN_POINTS = 2
SCALE_MAX_POINTS = 10

# A 5-point scale most organizations start from; a template names its own labels.
FIVE_POINT_SCALE = ("Far below", "Below", "Meets", "Above", "Far above")

# Calibration: the advisory distribution guideline (percent of people per scale point, lowest first),
# shown beside the actual distribution and never enforced. Below GUIDELINE_MIN_PEOPLE it is shown as
# not applying (PRODUCT.md: "never enforced below ~25 people"). Templates of other sizes have none
# unless HR sets one on the cycle.
DEFAULT_GUIDELINES: dict[int, tuple[int, ...]] = {5: (10, 20, 40, 20, 10), 3: (20, 60, 20)}
GUIDELINE_MIN_PEOPLE = 25

# New-hire reviews: one small cycle per person, NEW_HIRE_DAYS after their hire date. The scheduler
# creates them for people whose day came in the last NEW_HIRE_CATCH_UP_DAYS (so switching the feature on
# does not open a review for everyone hired years ago); deadlines are days after that creation.
NEW_HIRE_DAYS = 90
NEW_HIRE_CATCH_UP_DAYS = 30
NEW_HIRE_NAME = "New hire 90-day review"


class Phase(StrEnum):
    DRAFT = "draft"
    SELF_REVIEW = "self_review"
    PEER_REVIEW = "peer_review"  # peer nomination, peer reviews and upward (direct report) reviews
    MANAGER_REVIEW = "manager_review"
    CALIBRATION = "calibration"
    RELEASED = "released"  # results visible to the people reviewed; they acknowledge
    CLOSED = "closed"


# Every phase in order. A cycle whose template has no section for peers or direct reports has no
# PEER_REVIEW phase: it goes from SELF_REVIEW straight to MANAGER_REVIEW.
PHASES = tuple(Phase)
# Phases with a deadline; RELEASED's is the acknowledgement deadline.
DEADLINE_PHASES = (
    Phase.SELF_REVIEW,
    Phase.PEER_REVIEW,
    Phase.MANAGER_REVIEW,
    Phase.CALIBRATION,
    Phase.RELEASED,
)
# A cycle is open from launch until closed.
OPEN_PHASES = frozenset(DEADLINE_PHASES)
# HR may add a person to a launched cycle until its manager reviews are done.
ADD_PHASES = frozenset({Phase.SELF_REVIEW, Phase.PEER_REVIEW, Phase.MANAGER_REVIEW})
# A new-hire cycle's deadlines, in days after the scheduler creates it.
NEW_HIRE_DEADLINE_DAYS = {
    Phase.SELF_REVIEW: 7,
    Phase.PEER_REVIEW: 14,
    Phase.MANAGER_REVIEW: 21,
    Phase.CALIBRATION: 28,
    Phase.RELEASED: 42,
}

# Labels the transports show (in sentences too); configurable by replacing them at start-up.
PHASE_LABELS = {
    Phase.DRAFT: "draft",
    Phase.SELF_REVIEW: "self review",
    Phase.PEER_REVIEW: "peer review",
    Phase.MANAGER_REVIEW: "manager review",
    Phase.CALIBRATION: "calibration",
    Phase.RELEASED: "released",
    Phase.CLOSED: "closed",
}


class ReviewerRole(StrEnum):
    """Who writes a review about the person reviewed (the reviewee)."""

    SELF = "self"
    MANAGER = "manager"  # their manager, frozen at launch
    PEER = "peer"  # a colleague nominated during peer review
    REPORT = "report"  # one of their direct reports (an upward review)


# The phase in which each role's reviews are due. A review can be written from the moment it exists
# until its phase closes.
ROLE_PHASE = {
    ReviewerRole.SELF: Phase.SELF_REVIEW,
    ReviewerRole.PEER: Phase.PEER_REVIEW,
    ReviewerRole.REPORT: Phase.PEER_REVIEW,
    ReviewerRole.MANAGER: Phase.MANAGER_REVIEW,
}
# Peer and upward reviews reach the person reviewed (and their line) only pooled.
ANONYMOUS_ROLES = frozenset({ReviewerRole.PEER, ReviewerRole.REPORT})

ROLE_LABELS = {
    ReviewerRole.SELF: "Self review",
    ReviewerRole.MANAGER: "Manager review",
    ReviewerRole.PEER: "Peer review",
    ReviewerRole.REPORT: "Upward review",
}


class ReviewStatus(StrEnum):
    PENDING = "pending"  # nothing saved yet
    DRAFT = "draft"  # some answers saved
    SUBMITTED = "submitted"


class SectionKind(StrEnum):
    GOALS = "goals"  # the reviewee's goals of the cycle's period, rated one by one
    COMPETENCIES = "competencies"  # named competencies, each rated
    QUESTIONS = "questions"  # free questions: text, rating or choice


class ItemKind(StrEnum):
    TEXT = "text"
    RATING = "rating"  # a point of the scale, with an optional comment
    CHOICE = "choice"  # one of the item's choices


class Recurrence(StrEnum):
    NONE = "none"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    YEARLY = "yearly"


RECURRENCE_MONTHS = {Recurrence.QUARTERLY: 3, Recurrence.HALF_YEARLY: 6, Recurrence.YEARLY: 12}


class CycleKind(StrEnum):
    REGULAR = "regular"
    NEW_HIRE = "new_hire"  # one person's 90-day review, created by the scheduler


class ParticipantSource(StrEnum):
    LAUNCH = "launch"  # resolved from the cycle's rule when it launched
    ADDED = "added"  # added by HR afterwards, explicitly
    NEW_HIRE = "new_hire"


class DueWhat(StrEnum):
    """What a person has to do in a cycle (the nudge engine's vocabulary)."""

    SELF_REVIEW = "self_review"
    PEER_REVIEW = "peer_review"
    UPWARD_REVIEW = "upward_review"
    MANAGER_REVIEW = "manager_review"
    ACKNOWLEDGEMENT = "acknowledgement"


ROLE_DUE = {
    ReviewerRole.SELF: DueWhat.SELF_REVIEW,
    ReviewerRole.PEER: DueWhat.PEER_REVIEW,
    ReviewerRole.REPORT: DueWhat.UPWARD_REVIEW,
    ReviewerRole.MANAGER: DueWhat.MANAGER_REVIEW,
}


# --- what a person sends ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemInput:
    """A question or a competency of a template section. Competencies are rating items; in a competencies
    section, `competency_id` may name an active framework competency (the text then defaults to its name),
    whose level each released review records for its participants."""

    text: str = ""
    kind: ItemKind | str = ItemKind.RATING
    required: bool = True
    choices: tuple[str, ...] = ()
    competency_id: int | None = None


@dataclass(frozen=True)
class SectionInput:
    """A template section. Goals sections take no items: the reviewee's goals of the period are the items,
    and every goal must be rated."""

    kind: SectionKind | str
    title: str
    weight: float
    answered_by: tuple[ReviewerRole | str, ...]
    items: tuple[ItemInput, ...] = ()
    description: str | None = None


@dataclass(frozen=True)
class CycleDeadlines:
    """The last day of each phase (inclusive). `peer_review` is needed only when the template has a section
    for peers or direct reports; `acknowledgement` is the released phase's deadline."""

    self_review: date
    manager_review: date
    calibration: date
    acknowledgement: date
    peer_review: date | None = None

    def by_phase(self) -> dict[Phase, date | None]:
        return {
            Phase.SELF_REVIEW: self.self_review,
            Phase.PEER_REVIEW: self.peer_review,
            Phase.MANAGER_REVIEW: self.manager_review,
            Phase.CALIBRATION: self.calibration,
            Phase.RELEASED: self.acknowledgement,
        }


@dataclass(frozen=True)
class ParticipantRule:
    """Who a cycle reviews, resolved and frozen at launch: a department, everyone below a manager (all
    levels, not the manager), or a list of people. Exactly one of the three."""

    department: str | None = None
    manager_id: int | None = None
    person_ids: tuple[int, ...] = ()

    @classmethod
    def of_department(cls, department: str) -> ParticipantRule:
        return cls(department=department)

    @classmethod
    def below_manager(cls, manager_id: int) -> ParticipantRule:
        return cls(manager_id=manager_id)

    @classmethod
    def people(cls, person_ids: tuple[int, ...] | list[int]) -> ParticipantRule:
        return cls(person_ids=tuple(person_ids))


@dataclass(frozen=True)
class AnswerInput:
    """An answer to one item: a rating (with an optional comment in `text`), a choice, or a text. All None
    clears the answer."""

    rating: int | None = None
    choice: str | None = None
    text: str | None = None


# --- templates -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemView:
    """A question or competency of a template section."""

    key: str  # stable within its section: "q1", "c2", and "goal-<id>" for goals
    kind: ItemKind
    text: str
    required: bool
    choices: tuple[str, ...] = ()
    competency_id: int | None = None


@dataclass(frozen=True)
class SectionView:
    """A template section: what it rates, its weight, who answers it."""

    id: int
    position: int
    kind: SectionKind
    title: str
    description: str | None
    weight: float
    answered_by: tuple[ReviewerRole, ...]
    items: tuple[ItemView, ...]  # empty for goals sections (each reviewee's goals are their items)


@dataclass(frozen=True)
class TemplateView:
    """A review template: its scale and its sections in order."""

    id: int
    name: str
    description: str | None
    scale: tuple[str, ...]  # one label per point, lowest first: rating r is scale[r - 1]
    sections: tuple[SectionView, ...]
    created_at: datetime


# --- cycles ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhaseView:
    """One phase of a cycle: its deadline (inclusive) and when it opened and closed."""

    phase: Phase
    due_on: date | None
    opened_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True)
class CycleView:
    """A review cycle as HR sees it: period, phase and deadlines, rule, how many participants."""

    id: int
    name: str
    kind: CycleKind
    template_id: int
    template_name: str
    period_start: date
    period_end: date
    phase: Phase
    phases: tuple[PhaseView, ...]  # this cycle's phases in order (no PEER_REVIEW when it has none)
    recurrence: Recurrence
    rule: ParticipantRule
    participants: int
    launched_at: datetime | None
    guideline: tuple[int, ...] | None
    previous_cycle_id: int | None = None
    next_cycle_id: int | None = None  # the draft a recurring cycle's close created
    already_submitted: bool = False  # a second click: nothing was written

    @property
    def next_phase(self) -> Phase | None:
        order = [p.phase for p in self.phases]
        at = order.index(self.phase)
        return order[at + 1] if at + 1 < len(order) else None

    def due_on(self, phase: Phase) -> date | None:
        return next((p.due_on for p in self.phases if p.phase == phase), None)


@dataclass(frozen=True)
class ParticipantView:
    """Someone a cycle reviews, with their manager and department frozen when they joined it."""

    id: int
    cycle_id: int
    person_id: int
    person_name: str
    department: str | None  # frozen at launch (or when added)
    manager_id: int | None  # frozen at launch (or when added): who writes the manager review
    manager_name: str | None
    source: ParticipantSource
    added_at: datetime
    added_by_id: int | None
    already_submitted: bool = False


@dataclass(frozen=True)
class NominationView:
    """The peers reviewing someone, as the person who nominates them sees it (not their answers)."""

    cycle_id: int
    reviewee_id: int
    peers: tuple[tuple[int, str], ...]  # (person id, name), in nomination order
    added: tuple[int, ...]  # nominated by this call (none on a repeat)


# --- review forms ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalResult:
    """One of the reviewee's goals of the period, with its result so far."""

    goal_id: int
    title: str
    progress: float  # 0..1
    final_score: float | None  # 0..1, once closed
    status: str
    period_start: date
    period_end: date


@dataclass(frozen=True)
class AnswerView:
    """An answer as saved: a rating (and comment in `text`), a choice, or a text."""

    rating: int | None
    choice: str | None
    text: str | None

    @property
    def empty(self) -> bool:
        return self.rating is None and self.choice is None and self.text is None


BLANK_ANSWER = AnswerView(None, None, None)


@dataclass(frozen=True)
class FormItem:
    """One item of a form step, with the answer saved so far (None: not answered)."""

    key: str
    kind: ItemKind
    text: str
    required: bool
    choices: tuple[str, ...]
    answer: AnswerView | None
    goal: GoalResult | None = None  # for the items of a goals section


@dataclass(frozen=True)
class FormSection:
    """One step of a form: a section the reviewer's role answers."""

    id: int
    step: int  # its index among the sections this review's role answers
    kind: SectionKind
    title: str
    description: str | None
    items: tuple[FormItem, ...]


@dataclass(frozen=True)
class SubmittedReview:
    """A submitted review's answers, section by section (the self review beside the manager's form, the
    manager review in released results)."""

    role: ReviewerRole
    submitted_at: datetime
    sections: tuple[FormSection, ...]


@dataclass(frozen=True)
class ReviewFormView:
    """Everything a card or page needs to show any step of one review form, to its reviewer."""

    review_id: int
    cycle_id: int
    cycle_name: str
    role: ReviewerRole
    reviewee_id: int
    reviewee_name: str
    status: ReviewStatus
    version: int  # send it back with save_step: a change made meanwhile is then detected
    resume_step: int  # the step to open: after the one last saved
    editable: bool  # the review's phase is still open and it is not submitted
    due_on: date | None
    scale: tuple[str, ...]
    sections: tuple[FormSection, ...]
    submitted_at: datetime | None
    # For the manager's form only: the reviewee's submitted self review (None until submitted) and their
    # goals of the period with results, to read beside it.
    beside_self_review: SubmittedReview | None = None
    beside_goals: tuple[GoalResult, ...] = ()
    already_submitted: bool = False  # a second submit: nothing was written

    @property
    def steps(self) -> int:
        return len(self.sections)


@dataclass(frozen=True)
class AnswerConflict:
    """An item someone else changed since the form was shown, to a value other than the one sent."""

    section_id: int
    item_key: str
    item_text: str
    yours: AnswerView
    theirs: AnswerView


# --- scores and results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionScore:
    """One section's part of the final score. Contribution = weight · score / Σ weights of the sections
    that have ratings (0 for a section without ratings or weight)."""

    section_id: int
    title: str
    weight: Decimal
    score: Decimal | None  # mean of the section's ratings; None when it has none
    ratings: int
    contribution: Decimal


@dataclass(frozen=True)
class ScoreView:
    """The final score of a participant, and how the manager's ratings make it up.

    `computed` is Σ(weight · section score) / Σ weights over the scored sections; `final` is computed, or
    what calibration set it to (`calibrated`; the reason is HR's and the calibration leads' only)."""

    final: Decimal | None
    computed: Decimal | None
    calibrated: bool
    band: int | None  # the final score rounded to a point of the scale
    band_label: str | None
    sections: tuple[SectionScore, ...]


@dataclass(frozen=True)
class ItemAggregate:
    """The pooled answers to one item: counts, the mean rating and the texts sorted (no order of arrival).
    Values are withheld (`shown` False) when fewer than ANONYMITY_THRESHOLD people answered the item."""

    key: str
    text: str
    kind: ItemKind
    count: int
    shown: bool
    mean: Decimal | None
    texts: tuple[str, ...]
    choices: tuple[tuple[str, int], ...]  # (choice, how many chose it)


@dataclass(frozen=True)
class SectionAggregate:
    """A section's items, pooled."""

    section_id: int
    title: str
    items: tuple[ItemAggregate, ...]


@dataclass(frozen=True)
class AnonymousReviews:
    """Peer or upward reviews of one person pooled; only ever built from ANONYMITY_THRESHOLD submitted
    reviews (the viewer's own left out)."""

    role: ReviewerRole
    reviews: int
    sections: tuple[SectionAggregate, ...]


@dataclass(frozen=True)
class ReviewResultView:
    """A participant's review as one viewer may see it. For the person reviewed before release: their own
    self review only (score, manager_review, peers and reports are None)."""

    participant_id: int
    cycle_id: int
    cycle_name: str
    person_id: int
    person_name: str
    phase: Phase
    released: bool
    self_review: SubmittedReview | None
    score: ScoreView | None
    manager_review: SubmittedReview | None
    peers: AnonymousReviews | None
    reports: AnonymousReviews | None
    acknowledged_at: datetime | None
    acknowledgement_comment: str | None
    already_submitted: bool = False


@dataclass(frozen=True)
class AuthoredReview:
    """A peer or upward review with its writer: for HR handling abuse (every read is audited)."""

    review_id: int
    role: ReviewerRole
    reviewer_id: int
    reviewer_name: str
    status: ReviewStatus
    sections: tuple[FormSection, ...]


# --- calibration -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalibrationRow:
    """One participant in calibration: manager review status, computed and final score."""

    participant_id: int
    person_id: int
    person_name: str
    department: str | None
    manager_id: int | None
    manager_name: str | None
    manager_review: ReviewStatus | None  # None when they have no manager
    computed: Decimal | None
    final: Decimal | None
    band: int | None
    calibrated: bool


@dataclass(frozen=True)
class Distribution:
    """How many people got each point of the scale (rounded final score), lowest first."""

    label: str  # a manager's name, a department, or "Everyone"
    counts: tuple[int, ...]
    unscored: int

    @property
    def scored(self) -> int:
        return sum(self.counts)

    @property
    def shares(self) -> tuple[float, ...]:
        total = self.scored
        return tuple(100 * c / total if total else 0.0 for c in self.counts)


@dataclass(frozen=True)
class GuidelineView:
    """The advisory distribution: percent per scale point and what that means in people. Never enforced;
    `applies` is False below GUIDELINE_MIN_PEOPLE scored people."""

    percentages: tuple[int, ...]
    expected: tuple[float, ...]
    applies: bool


@dataclass(frozen=True)
class AdjustmentView:
    """A calibration change: before, after, why, who and when."""

    id: int
    participant_id: int
    person_name: str
    before: Decimal | None
    after: Decimal
    reason: str
    by_id: int | None
    by_name: str
    at: datetime


@dataclass(frozen=True)
class CalibrationView:
    """A cycle's manager ratings side by side, for HR and calibration leads (within their scope)."""

    cycle_id: int
    cycle_name: str
    phase: Phase
    editable: bool  # the cycle is in calibration
    scale: tuple[str, ...]
    rows: tuple[CalibrationRow, ...]
    overall: Distribution
    by_manager: tuple[Distribution, ...]
    by_department: tuple[Distribution, ...]
    guideline: GuidelineView | None
    adjustments: tuple[AdjustmentView, ...]  # newest first
    already_submitted: bool = False


# --- reads for the tabs and the nudges -------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewTask:
    """A review the person has to write (or wrote) in an open cycle."""

    review_id: int
    cycle_id: int
    cycle_name: str
    role: ReviewerRole
    reviewee_id: int
    reviewee_name: str
    status: ReviewStatus
    due_on: date | None
    open: bool  # its phase has not closed yet
    overdue: bool


@dataclass(frozen=True)
class ResultSummary:
    """One of the person's own released reviews."""

    participant_id: int
    cycle_id: int
    cycle_name: str
    period_start: date
    period_end: date
    phase: Phase
    final: Decimal | None
    band_label: str | None
    acknowledged_at: datetime | None
    acknowledge_by: date | None  # while the cycle is in its released phase


@dataclass(frozen=True)
class MyReviews:
    """What the signed-in person writes and what they received (my_reviews)."""

    to_write: tuple[ReviewTask, ...]  # soonest due first
    results: tuple[ResultSummary, ...]  # newest period first


@dataclass(frozen=True)
class TeamMemberStatus:
    """Where one person of a manager's line stands in an open cycle (status, not content)."""

    participant_id: int
    cycle_id: int
    cycle_name: str
    phase: Phase
    person_id: int
    person_name: str
    department: str | None
    manager_id: int | None
    self_review: ReviewStatus | None
    peers_submitted: int
    peers_nominated: int
    manager_review: ReviewStatus | None
    acknowledged: bool


@dataclass(frozen=True)
class Completion:
    """How many of one kind of task are done, of how many."""

    what: DueWhat
    done: int
    total: int


@dataclass(frozen=True)
class DepartmentCompletion:
    """Completion within one department (as frozen at launch)."""

    department: str | None
    completion: tuple[Completion, ...]


@dataclass(frozen=True, slots=True)
class DueItem:
    """Something a person has to do now in an open cycle (due_items, the nudge engine's input)."""

    person_id: int
    what: DueWhat
    cycle_id: int
    phase: Phase
    review_id: int | None  # None for an acknowledgement
    participant_id: int
    reviewee_id: int
    deadline: date | None
    phase_opened_at: datetime | None


@dataclass(frozen=True)
class CycleDashboard:
    """HR's view of one cycle: completion per phase and department, and who is overdue now."""

    cycle: CycleView
    completion: tuple[Completion, ...]
    by_department: tuple[DepartmentCompletion, ...]
    overdue: tuple[DueItem, ...]  # the first `limit`, by deadline
    overdue_total: int
    names: dict[int, str] = field(default_factory=dict)  # person id → name, for the overdue list


@dataclass(frozen=True)
class NudgeRecord:
    """A review nudge or escalation queued for a cycle, and what became of it (HR's nudge history)."""

    person_name: str
    escalation: bool  # sent to a manager about their overdue people
    status: str  # pending, sent, or dead (given up: error says why)
    queued_at: datetime
    sent_at: datetime | None
    error: str | None
