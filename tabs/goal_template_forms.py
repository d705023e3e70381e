"""The goal-template forms: what was typed, kept as text to show again, and parsed into domain input.

Parsing reuses the domain's own validators, so a tab form and a card refuse the same things with the same
words; the form only adds which key-result row a message is about.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from domain.errors import Invalid
from domain.performance.goal_progress import Metric, Period, number, validate_key_result, validate_title
from domain.performance.goal_views import KeyResultInput, Kind, Visibility
from tabs import goal_display

KEY_RESULT_ROWS = 5
PEOPLE_TEXT_MAX = 50_000

METRIC_LABELS = {
    Metric.NUMBER: "Number",
    Metric.PERCENT: "Percent",
    Metric.CURRENCY: "Currency",
    Metric.BOOLEAN: "Yes / no",
    Metric.MILESTONE: "Milestones",
}
VISIBILITY_LABELS = {
    Visibility.TEAM: "Team: the person's department",
    Visibility.PUBLIC: "Public: everyone",
    Visibility.PRIVATE: "Private: the person, their managers and HR",
}
KIND_LABELS = {Kind.BUSINESS: "Business", Kind.DEVELOPMENT: "Development"}


def _text(form: Mapping[str, object], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class KeyResultRow:
    """One key-result row as typed."""

    title: str = ""
    metric: str = Metric.NUMBER.value
    start: str = ""
    target: str = ""
    unit: str = ""

    @property
    def blank(self) -> bool:
        return not (self.title.strip() or self.start.strip() or self.target.strip() or self.unit.strip())

    def parse(self, position: int) -> KeyResultInput:
        """The key result, or Invalid saying which row is wrong and why."""
        try:
            if not self.target.strip():
                raise Invalid("give it a target.")
            title = validate_title(self.title, "key result")
            start = number(self.start.strip() or 0, "The start value")
            metric, start, target = validate_key_result(self.metric, start, self.target.strip())
        except Invalid as invalid:
            raise Invalid(f"Key result {position}: {_lower_first(invalid.message)}") from None
        return KeyResultInput(title, target, start, metric, self.unit.strip() or None)


def _lower_first(message: str) -> str:
    return message[:1].lower() + message[1:]


@dataclass(frozen=True)
class TemplateForm:
    """The New template form as typed."""

    title: str = ""
    description: str = ""
    visibility: str = Visibility.TEAM.value
    kind: str = Kind.BUSINESS.value
    rows: tuple[KeyResultRow, ...] = tuple(KeyResultRow() for _ in range(KEY_RESULT_ROWS))

    @classmethod
    def posted(cls, form: Mapping[str, object]) -> TemplateForm:
        """The form from a POST body; missing fields read as empty."""
        rows = tuple(
            KeyResultRow(
                title=_text(form, f"kr{i}_title"),
                metric=_text(form, f"kr{i}_metric") or Metric.NUMBER.value,
                start=_text(form, f"kr{i}_start"),
                target=_text(form, f"kr{i}_target"),
                unit=_text(form, f"kr{i}_unit"),
            )
            for i in range(KEY_RESULT_ROWS)
        )
        return cls(
            title=_text(form, "title"),
            description=_text(form, "description"),
            visibility=_text(form, "visibility"),
            kind=_text(form, "kind"),
            rows=rows,
        )

    def key_results(self) -> list[KeyResultInput]:
        """The filled-in rows as domain input; empty rows are left out."""
        return [row.parse(i + 1) for i, row in enumerate(self.rows) if not row.blank]


@dataclass(frozen=True)
class AssignForm:
    """The Assign form as typed."""

    template_id: str = ""
    period: str = ""
    department: str = ""
    people: str = ""

    @classmethod
    def posted(cls, form: Mapping[str, object]) -> AssignForm:
        """The form from a POST body; missing fields read as empty."""
        return cls(
            template_id=_text(form, "template_id"),
            period=_text(form, "period"),
            department=_text(form, "department").strip(),
            people=_text(form, "people"),
        )

    def template(self) -> int:
        """The chosen template's id, or Invalid."""
        text = self.template_id.strip()
        if not text.isdigit() or len(text) > 18:
            raise Invalid("Choose the template to assign.")
        return int(text)

    def people_lines(self) -> list[str]:
        """The non-empty lines of the people box."""
        if len(self.people) > PEOPLE_TEXT_MAX:
            raise Invalid("The list of people is too long: choose a department instead, or split the list.")
        return [line.strip() for line in self.people.splitlines() if line.strip()]


@dataclass(frozen=True)
class PeriodChoice:
    """A period offered in the select: its label ("2026-Q4") and how it reads."""

    value: str
    text: str


def period_choices(today: date) -> dict[str, list[PeriodChoice]]:
    """This and the next three quarters, this and the next half, this and next year, grouped."""
    quarter, half = (today.month - 1) // 3, (today.month - 1) // 6
    quarters = [f"{today.year + (quarter + i) // 4}-Q{(quarter + i) % 4 + 1}" for i in range(4)]
    halves = [f"{today.year + (half + i) // 2}-H{(half + i) % 2 + 1}" for i in range(2)]
    years = [str(today.year + i) for i in range(2)]
    return {
        group: [PeriodChoice(label, goal_display.period(Period.of(label))) for label in labels]
        for group, labels in (("Quarters", quarters), ("Halves", halves), ("Years", years))
    }


def current_quarter(today: date) -> str:
    """The period the Assign form starts on."""
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"
