"""The Edit goal and Close goal forms: what was typed, kept as text to show again, and parsed into domain
input with the field each refusal is about.

Parsing reuses the domain's validators (the service checks again), so the tab refuses what a card
refuses with the same words; the form adds which field to show the message next to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.errors import DomainError, Invalid
from domain.performance.goal_progress import CUSTOM, Period, number, validate_title, validate_weight
from domain.performance.goal_views import GoalView, Kind, Visibility
from domain.performance.goals import DESCRIPTION_MAX
from tabs import goal_display
from tabs.goal_template_forms import KIND_LABELS, VISIBILITY_LABELS, PeriodChoice, period_choices

__all__ = ["KIND_LABELS", "VISIBILITY_LABELS", "CloseForm", "EditForm", "FieldInvalid", "Problem"]


class FieldInvalid(Invalid):
    """Invalid input in one field of a form."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Problem:
    """A refusal to show: next to `field`, or above the form when no one field is to blame."""

    message: str
    field: str | None = None

    @classmethod
    def of(cls, error: DomainError) -> Problem:
        return cls(error.message, getattr(error, "field", None))


def _text(form: Mapping[str, object], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _in_field(field: str, check: Any, *args: Any) -> Any:
    """Run a domain validator, naming the field its refusal is about."""
    try:
        return check(*args)
    except Invalid as invalid:
        raise FieldInvalid(field, invalid.message) from None


@dataclass(frozen=True)
class EditForm:
    """The Edit goal form as typed (start and end count only when the period is "custom")."""

    title: str = ""
    description: str = ""
    period: str = ""
    start: str = ""
    end: str = ""
    visibility: str = ""
    kind: str = ""
    weight: str = ""

    @classmethod
    def of(cls, goal: GoalView) -> EditForm:
        """The form filled with the goal as it is; the dates start from the goal's own."""
        return cls(
            title=goal.title,
            description=goal.description or "",
            period=goal.period.label,
            start=goal.period.start.isoformat(),
            end=goal.period.end.isoformat(),
            visibility=goal.visibility,
            kind=goal.kind,
            weight=goal_display.field_value(goal.weight),
        )

    @classmethod
    def posted(cls, form: Mapping[str, object]) -> EditForm:
        """The form from a POST body; missing fields read as empty."""
        names = ("title", "description", "period", "start", "end", "visibility", "kind", "weight")
        return cls(**{name: _text(form, name) for name in names})

    @property
    def custom(self) -> bool:
        return self.period.strip().lower() == CUSTOM

    def changes(self) -> dict[str, Any]:
        """The keyword arguments for goals.edit_goal, or FieldInvalid for the first wrong field."""
        title = _in_field("title", validate_title, self.title, "goal")
        return {
            "title": title,
            "description": self._description(),
            "period": self._period(),
            "visibility": _choice("visibility", Visibility, self.visibility, VISIBILITY_LABELS),
            "kind": _choice("kind", Kind, self.kind, KIND_LABELS),
            "weight": self._weight(),
        }

    def _description(self) -> str:
        text = self.description.strip()
        if len(text) > DESCRIPTION_MAX:
            message = f"Keep the description to {DESCRIPTION_MAX} characters (it has {len(text)})."
            raise FieldInvalid("description", message)
        return text

    def _weight(self) -> float:
        if not self.weight.strip():
            raise FieldInvalid(
                "weight", "Give the weight: 1 is the usual, 0 leaves the goal out of its parent."
            )
        return _in_field("weight", validate_weight, self.weight.strip())

    def _period(self) -> Period:
        if not self.custom:
            return _in_field("period", Period.of, self.period)
        start, end = _date(self.start, "start"), _date(self.end, "end")
        return _in_field("period", Period.custom, start, end)


def _choice(field: str, enum: type, value: str, labels: Mapping[str, str]) -> str:
    # The selects only offer listed values: anything else came from a stale or hand-made form.
    try:
        return enum(value).value
    except ValueError:
        listed = ", ".join(f"“{label}”" for label in labels.values())
        raise FieldInvalid(field, f"“{value}” is not one of the choices: pick {listed}.") from None


def _date(text: str, which: str) -> date:
    if not text.strip():
        raise FieldInvalid("period", f"Give the custom period's {which} date.")
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise FieldInvalid(
            "period", f"“{text.strip()}” is not a date: write the {which} date as YYYY-MM-DD."
        ) from None


def period_options(today: date, entered: EditForm, current: Period) -> dict[str, list[PeriodChoice]]:
    """The templates page's periods, with the goal's own first when it is not among them."""
    offered = period_choices(today)
    listed = {choice.value for choices in offered.values() for choice in choices}
    extra = {current.label, entered.period.strip().upper()} - listed - {"", CUSTOM.upper(), CUSTOM}
    if not extra:
        return offered
    # A period the form came back with is kept even when it is not one a goal may have: the message
    # next to the field says why, and the person sees what they chose.
    own = [PeriodChoice(label, _period_text(label)) for label in sorted(extra)]
    return {"Current": own, **offered}


def _period_text(label: str) -> str:
    try:
        return goal_display.period(Period.of(label))
    except Invalid:
        return label


@dataclass(frozen=True)
class CloseForm:
    """The Close goal form as typed: a final score in percent and the confirmation box."""

    score: str = ""
    confirmed: bool = False

    @classmethod
    def posted(cls, form: Mapping[str, object]) -> CloseForm:
        return cls(score=_text(form, "final_score"), confirmed=_text(form, "confirm") == "yes")

    def final_score(self) -> float:
        """The score as the service takes it (0..1), or FieldInvalid."""
        text = self.score.strip().removesuffix("%").strip()
        if not text:
            raise FieldInvalid("final_score", "Give the final score, from 0 to 100 %.")
        percent = _in_field("final_score", number, text, "The final score")
        if not 0 <= percent <= 100:
            raise FieldInvalid("final_score", f"The final score is from 0 to 100 %, not {percent:g} %.")
        # Closing can't be undone, so it takes a deliberate second step (Teams: destructive actions confirm).
        if not self.confirmed:
            raise FieldInvalid("confirm", "Tick the box to confirm: a closed goal can't change any more.")
        return percent / 100
