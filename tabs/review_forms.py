"""The review forms HR and employees post from the tabs: what was typed, kept as text to show again, and
parsed into domain input with the field each refusal is about.

The domain checks everything again and refuses in its own words; these forms only parse what is
particular to a web page (dates, numbers, the one-item-per-line boxes) and say which field a refusal,
theirs or the domain's, belongs next to.

A template's sections are typed one box per section, one item per line (the page says so too):

    competencies:  one competency per line, each rated on the scale
    questions:     "rating: Overall impact", "text: Highlights of the quarter",
                   "choice: Ready for promotion? | Yes | Not yet"; a line without a kind is a rating
                   question; "(optional)" at the end of a line makes it optional
    goals:         nothing: the person's goals of the cycle's period are the items

A competencies section may also rate competencies of the framework, ticked in its own list of checkboxes
(active competencies by category): each becomes an item naming the competency (ItemInput.competency_id),
rated before the typed ones, so a released review records the person's level on it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from domain.errors import DomainError, Invalid
from domain.performance.review_views import (
    FIVE_POINT_SCALE,
    PHASE_LABELS,
    CycleDeadlines,
    ItemInput,
    ItemKind,
    Phase,
    Recurrence,
    ReviewerRole,
    SectionInput,
    SectionKind,
)

SECTION_ROWS = 6
PEOPLE_TEXT_MAX = 50_000
SECTION_KIND_LABELS = {
    SectionKind.COMPETENCIES: "Competencies",
    SectionKind.QUESTIONS: "Questions",
    SectionKind.GOALS: "Goals (the person's goals of the period)",
}
ANSWERER_LABELS = {
    ReviewerRole.SELF: "The person (self review)",
    ReviewerRole.MANAGER: "Their manager",
    ReviewerRole.PEER: "Peers",
    ReviewerRole.REPORT: "Direct reports (upward)",
}
RECURRENCE_LABELS = {
    Recurrence.NONE: "Once",
    Recurrence.QUARTERLY: "Every quarter",
    Recurrence.HALF_YEARLY: "Every half year",
    Recurrence.YEARLY: "Every year",
}
WHO_LABELS = {
    "department": "Everyone in a department",
    "manager": "Everyone below a manager (all levels)",
    "people": "A list of people",
}
# The deadline fields in phase order, with the words the domain's sentences use for them.
DEADLINES = (
    ("deadline_self_review", "Self review ends", "self review deadline"),
    ("deadline_peer_review", "Peer review ends", "peer review deadline"),
    ("deadline_manager_review", "Manager review ends", "manager review deadline"),
    ("deadline_calibration", "Calibration ends", "calibration deadline"),
    ("deadline_acknowledgement", "Acknowledgement due", "acknowledgement deadline"),
)
_KIND_PREFIX = re.compile(r"^\s*(rating|text|choice)\s*:\s*", re.IGNORECASE)
_OPTIONAL = re.compile(r"\s*\(optional\)\s*$", re.IGNORECASE)


class FieldInvalid(Invalid):
    """Invalid input in one field of a form."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Problem:
    """A refusal to show next to `field`, or above the form's buttons when `field` is None."""

    message: str
    field: str | None = None

    @classmethod
    def of(cls, error: DomainError, field: str | None = None) -> Problem:
        return cls(error.message, getattr(error, "field", None) or field)


def _text(form: Mapping[str, object], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _all(form: Mapping[str, object], name: str) -> tuple[str, ...]:
    getall = getattr(form, "getall", None)
    values = getall(name, []) if getall is not None else [form.get(name)]
    return tuple(v for v in values if isinstance(v, str))


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _day(text: str, field_name: str, label: str, *, required: bool = True) -> date | None:
    value = text.strip()
    if not value:
        if required:
            raise FieldInvalid(field_name, f"Choose the “{label}” date.")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FieldInvalid(
            field_name, f"The “{label}” must be a date like 2026-11-23 (year-month-day), not “{value}”."
        ) from None


# --- New template --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionRow:
    """One section of the New template form as typed."""

    title: str = ""
    kind: str = SectionKind.QUESTIONS.value
    weight: str = ""
    answered_by: tuple[str, ...] = (ReviewerRole.SELF.value, ReviewerRole.MANAGER.value)
    items: str = ""
    competencies: tuple[str, ...] = ()  # the framework competencies ticked, their ids as posted

    @property
    def blank(self) -> bool:
        return not (self.title.strip() or self.weight.strip() or self.items.strip() or self.competencies)

    def picked(self, competency_id: int) -> bool:
        return str(competency_id) in self.competencies

    def parse(self, n: int) -> SectionInput:
        """The section as domain input; FieldInvalid names the box that is wrong."""
        weight_text = self.weight.strip() or "0"
        try:
            weight = float(weight_text.replace(",", "."))
        except ValueError:
            raise FieldInvalid(
                f"s{n}_weight", f"The weight of section {n + 1} is a number (like 50), not “{self.weight}”."
            ) from None
        return SectionInput(
            kind=self.kind,
            title=self.title,
            weight=weight,
            answered_by=self.answered_by,
            items=self.parse_items(n),
        )

    def parse_items(self, n: int) -> tuple[ItemInput, ...]:
        items = list(self.framework_items(n))
        for line in _lines(self.items):
            text, required = _OPTIONAL.sub("", line), not _OPTIONAL.search(line)
            kind = ItemKind.RATING
            prefix = _KIND_PREFIX.match(text)
            if prefix:
                kind, text = ItemKind(prefix.group(1).lower()), text[prefix.end() :]
            choices: tuple[str, ...] = ()
            if "|" in text:
                text, *rest = (part.strip() for part in text.split("|"))
                choices = tuple(rest)
            if not text.strip():
                raise FieldInvalid(f"s{n}_items", f"A line of section {n + 1} has no question: “{line}”.")
            items.append(ItemInput(text=text, kind=kind, required=required, choices=choices))
        return tuple(items)

    def framework_items(self, n: int) -> tuple[ItemInput, ...]:
        """The ticked framework competencies as items (worded as the framework names them); the domain
        checks each exists and is active."""
        if not self.competencies:
            return ()
        if self.kind != SectionKind.COMPETENCIES.value:
            raise FieldInvalid(
                f"s{n}_competencies",
                f"Only a competencies section rates framework competencies: make section {n + 1} a "
                "competencies section, or untick them.",
            )
        ids = []
        for value in self.competencies:
            text = value.strip()
            if not text.isdigit() or len(text) > 18:
                raise FieldInvalid(
                    f"s{n}_competencies", "Tick the framework competencies from the list shown."
                )
            ids.append(int(text))
        return tuple(ItemInput(competency_id=cid) for cid in ids)


@dataclass(frozen=True)
class TemplateForm:
    """The New template form as typed."""

    name: str = ""
    description: str = ""
    scale: str = "\n".join(FIVE_POINT_SCALE)
    sections: tuple[SectionRow, ...] = field(
        default_factory=lambda: tuple(SectionRow() for _ in range(SECTION_ROWS))
    )

    @classmethod
    def posted(cls, form: Mapping[str, object]) -> TemplateForm:
        """The form from a POST body; missing fields read as empty."""
        return cls(
            name=_text(form, "name"),
            description=_text(form, "description"),
            scale=_text(form, "scale"),
            sections=tuple(
                SectionRow(
                    title=_text(form, f"s{n}_title"),
                    kind=_text(form, f"s{n}_kind") or SectionKind.QUESTIONS.value,
                    weight=_text(form, f"s{n}_weight"),
                    answered_by=_all(form, f"s{n}_answered_by"),
                    items=_text(form, f"s{n}_items"),
                    competencies=_all(form, f"s{n}_competency"),
                )
                for n in range(SECTION_ROWS)
            ),
        )

    def scale_labels(self) -> list[str]:
        return _lines(self.scale)

    def section_inputs(self) -> list[SectionInput]:
        """The filled-in sections as domain input; empty rows are left out."""
        return [row.parse(n) for n, row in enumerate(self.sections) if not row.blank]

    def problem(self, error: DomainError, competency_names: Mapping[int, str] | None = None) -> Problem:
        """Where a refusal belongs: the box it names, a section it quotes, the framework competencies ticked
        (by `competency_names`, id → name), or above the buttons."""
        if getattr(error, "field", None):
            return Problem.of(error)
        message = error.message
        if "framework" in message:
            ticked = [(n, row) for n, row in enumerate(self.sections) if row.competencies]
            names = competency_names or {}
            for n, row in ticked:
                title = " ".join(row.title.split())
                quoted = {f"“{names[int(c)]}”" for c in row.competencies if c.isdigit() and int(c) in names}
                if (title and f"“{title}”" in message) or any(q in message for q in quoted):
                    return Problem(message, f"s{n}_competencies")
            if ticked:
                return Problem(message, f"s{ticked[-1][0]}_competencies")
        if "template's name" in message or "review template named" in message:
            return Problem(message, "name")
        if "description" in message.lower() and "“" not in message:
            return Problem(message, "description")
        if "scale" in message or "point " in message:
            return Problem(message, "scale")
        for n, row in enumerate(self.sections):
            title = " ".join(row.title.split())
            if row.blank:
                continue
            if title and f"“{title}”" in message:
                if "weight" in message:
                    return Problem(message, f"s{n}_weight")
                if "Choose who answers" in message or "rated by the person and their manager" in message:
                    return Problem(message, f"s{n}_answered_by")
                return Problem(message, f"s{n}_items")
            # Refusals about one question quote the question, not its section.
            if any(f"“{item.text.strip()}”" in message for item in row.parse_items(n) if item.text.strip()):
                return Problem(message, f"s{n}_items")
        return Problem(message, "sections")


# --- New cycle -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CycleForm:
    """The New cycle form as typed."""

    name: str = ""
    template_id: str = ""
    period_start: str = ""
    period_end: str = ""
    who: str = "department"
    department: str = ""
    manager: str = ""
    people: str = ""
    deadlines: tuple[str, ...] = ("",) * len(DEADLINES)
    recurrence: str = Recurrence.NONE.value
    launch: bool = False

    @classmethod
    def posted(cls, form: Mapping[str, object]) -> CycleForm:
        """The form from a POST body; missing fields read as empty."""
        return cls(
            name=_text(form, "name"),
            template_id=_text(form, "template_id"),
            period_start=_text(form, "period_start"),
            period_end=_text(form, "period_end"),
            who=_text(form, "who"),
            department=_text(form, "department").strip(),
            manager=_text(form, "manager"),
            people=_text(form, "people"),
            deadlines=tuple(_text(form, name) for name, _, _ in DEADLINES),
            recurrence=_text(form, "recurrence") or Recurrence.NONE.value,
            launch=_text(form, "launch") == "1",
        )

    def deadline(self, field_name: str) -> str:
        return self.deadlines[[name for name, _, _ in DEADLINES].index(field_name)]

    def template(self) -> int:
        text = self.template_id.strip()
        if not text.isdigit() or len(text) > 18:
            raise FieldInvalid("template_id", "Choose the template the cycle's reviews use.")
        return int(text)

    def period(self) -> tuple[date, date]:
        start = _day(self.period_start, "period_start", "Period starts")
        end = _day(self.period_end, "period_end", "Period ends")
        assert start is not None and end is not None
        return start, end

    def cycle_deadlines(self) -> CycleDeadlines:
        due = {
            name: _day(self.deadline(name), name, label, required=name != "deadline_peer_review")
            for name, label, _ in DEADLINES
        }
        return CycleDeadlines(
            self_review=due["deadline_self_review"],  # type: ignore[arg-type]
            peer_review=due["deadline_peer_review"],
            manager_review=due["deadline_manager_review"],  # type: ignore[arg-type]
            calibration=due["deadline_calibration"],  # type: ignore[arg-type]
            acknowledgement=due["deadline_acknowledgement"],  # type: ignore[arg-type]
        )

    def people_lines(self) -> list[str]:
        if len(self.people) > PEOPLE_TEXT_MAX:
            raise FieldInvalid("people", "The list of people is too long: choose a department instead.")
        lines = _lines(self.people)
        if not lines:
            raise FieldInvalid("people", "Type the people to review, one email address or name per line.")
        return lines

    def manager_line(self) -> str:
        text = " ".join(self.manager.split())
        if not text:
            raise FieldInvalid("manager", "Type the manager's email address or full name.")
        return text

    def problem(self, error: DomainError, *, who_field: str | None = None) -> Problem:
        """Where a refusal belongs: its field, the deadline or part it names, or above the buttons."""
        if getattr(error, "field", None):
            return Problem.of(error)
        message = error.message
        lowered = message.lower()
        named = [(lowered.find(words), name) for name, _, words in DEADLINES if words in lowered]
        if named:
            return Problem(message, min(named)[1])
        if "cycle's name" in message:
            return Problem(message, "name")
        if "period ends" in message:
            return Problem(message, "period_end")
        if "template" in lowered and "does not exist" in lowered:
            return Problem(message, "template_id")
        if "recurrence" in lowered:
            return Problem(message, "recurrence")
        if "reviews" in lowered or "nobody would be reviewed" in lowered or "directory" in lowered:
            return Problem(message, who_field or "who")
        return Problem(message, None)


# --- calibration, acknowledgement, moving a cycle on ------------------------------------------------------


@dataclass(frozen=True)
class CalibrationForm:
    """One person's Adjust form on the calibration page as typed."""

    person_id: str = ""
    score: str = ""
    reason: str = ""

    @classmethod
    def posted(cls, form: Mapping[str, object]) -> CalibrationForm:
        return cls(
            person_id=_text(form, "person_id"),
            score=_text(form, "score"),
            reason=_text(form, "reason"),
        )

    def person(self) -> int | None:
        text = self.person_id.strip()
        return int(text) if text.isdigit() and len(text) <= 18 else None

    def checked_score(self) -> str:
        if not self.score.strip():
            raise FieldInvalid("score", "Type the new score, like 3.5.")
        return self.score.strip()

    def problem(self, error: DomainError) -> Problem:
        if getattr(error, "field", None):
            return Problem.of(error)
        return Problem(error.message, "reason" if "reason" in error.message.lower() else "score")


@dataclass(frozen=True)
class GuidelineForm:
    """The guideline form: percent per point of the scale, lowest first ("10-20-40-20-10")."""

    text: str = ""

    @classmethod
    def posted(cls, form: Mapping[str, object]) -> GuidelineForm:
        return cls(_text(form, "guideline"))

    def percentages(self) -> list[int]:
        parts = [p for p in re.split(r"[\s,;/-]+", self.text.strip()) if p]
        if not parts:
            raise FieldInvalid(
                "guideline", "Type one percentage per point of the scale, like 10-20-40-20-10."
            )
        if not all(p.isdigit() and len(p) <= 3 for p in parts):
            raise FieldInvalid(
                "guideline",
                f"Type whole percentages separated by dashes, like 10-20-40-20-10, not “{self.text}”.",
            )
        return [int(p) for p in parts]


def move_label(phase: Phase) -> str:
    """The button that moves a cycle into `phase`."""
    if phase is Phase.SELF_REVIEW:
        return "Launch the cycle"
    if phase is Phase.RELEASED:
        return "Release the results"
    if phase is Phase.CLOSED:
        return "Close the cycle"
    return f"Move on to {PHASE_LABELS[phase]}"


def phase_choice(value: str) -> Phase | None:
    try:
        return Phase(value)
    except ValueError:
        return None
