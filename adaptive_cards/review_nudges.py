"""Nudge cards: what arrives in a person's 1:1 chat when a review phase opens, is due soon or overdue (the
button opens the review itself, in place), the escalation to a manager, an improvement plan checkpoint
reminder (recorded on the card), and HR's "nudge now".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from adaptive_cards.elements import (
    Element,
    card,
    execute,
    heading,
    input_choice,
    input_text,
    plain_text,
    text,
    truncate,
)
from adaptive_cards.review_payloads import (
    CHECKPOINT,
    CHECKPOINT_CHOICES,
    CHECKPOINT_ID,
    CHECKPOINT_NOTES,
    CHECKPOINT_STATUS,
    CYCLE_CHOICE,
    CYCLE_ID,
    LIST,
    NUDGE_NOW,
    OPEN,
    PLAN_ID,
    RESULT,
    REVIEW_ID,
    TEAM_STATUS,
    picked_value,
)
from adaptive_cards.reviews import NAME_SHOWN, ROLE_WHAT, Button, buttons, day, notices, review_title
from domain.performance.improvement_plan_views import CHECKPOINT_LABELS, NOTES_MAX, ImprovementPlanView
from domain.performance.review_nudges import (
    Delivery,
    NudgeItem,
    NudgePlan,
    ReviewNudge,
    Why,
)
from domain.performance.review_views import (
    PHASE_LABELS,
    DueWhat,
    ReviewerRole,
    ReviewStatus,
    TeamMemberStatus,
)

WHAT_ROLE = {
    DueWhat.SELF_REVIEW: ReviewerRole.SELF,
    DueWhat.PEER_REVIEW: ReviewerRole.PEER,
    DueWhat.UPWARD_REVIEW: ReviewerRole.REPORT,
    DueWhat.MANAGER_REVIEW: ReviewerRole.MANAGER,
}
STATUS_WORDS = {ReviewStatus.PENDING: "not started", ReviewStatus.DRAFT: "draft saved", None: "to do"}
NAMES_LISTED = 20


@dataclass(frozen=True)
class CheckpointFacts:
    """What a checkpoint reminder says: whose plan, which checkpoint, when it is due."""

    plan_id: int
    checkpoint_id: int
    employee_name: str
    due_on: date
    overdue: bool


__all__ = [
    "CheckpointFacts",
    "checkpoint_card",
    "checkpoint_recorded_card",
    "escalation_card",
    "nudge_cycle_card",
    "nudge_now_card",
    "nudge_summary",
    "review_nudge_card",
    "team_status_card",
]


# --- the nudge -------------------------------------------------------------------------------------------


def review_nudge_card(nudge: ReviewNudge) -> Element:
    """The card a nudge brings: what is due, why now, and the button that opens it (the form replaces the
    card in place)."""
    if nudge.escalation:
        return escalation_card(nudge)
    body: list[Element] = [heading(_headline(nudge)), plain_text(nudge.cycle_name, subtle=True)]
    body += [text(line) for line in _why_lines(nudge)]
    entries: list[Button] = []
    if any(i.what is DueWhat.ACKNOWLEDGEMENT for i in nudge.items):
        entries.append(
            Button("See my result", RESULT, {CYCLE_ID: nudge.cycle_id}, picked_value(RESULT, nudge.cycle_id))
        )
    reviews = [i for i in nudge.items if i.review_id is not None]
    if len(reviews) > 1:
        body.append(text("To write", weight="Bolder", spacing="Medium"))
    for item in reviews:
        if len(reviews) > 1:
            body.append(plain_text(f"{_item_name(item).capitalize()} · {STATUS_WORDS.get(item.status, '')}"))
        verb = "Continue" if item.status is ReviewStatus.DRAFT else "Open"
        assert item.review_id is not None
        entries.append(
            Button(
                f"{verb} {_item_name(item)}",
                OPEN,
                {REVIEW_ID: item.review_id},
                picked_value(OPEN, item.review_id),
            )
        )
    menu, actions = buttons(entries, menu_label="More reviews")
    return card([*body, *menu], actions)


def nudge_summary(nudge: ReviewNudge) -> str:
    """The notification's preview line."""
    if nudge.escalation:
        return f"Overdue in your team: {nudge.cycle_name}"
    return f"{_headline(nudge)} ({nudge.cycle_name})"


def _headline(nudge: ReviewNudge) -> str:
    if all(i.what is DueWhat.ACKNOWLEDGEMENT for i in nudge.items):
        if Why.OVERDUE in nudge.reasons:
            return "Please acknowledge your review"
        return "Your review results are ready"
    reviews = [i for i in nudge.items if i.review_id is not None]
    if len(reviews) == 1:
        item = reviews[0]
        what = review_title(WHAT_ROLE[item.what], item.reviewee_name)
    else:
        what = f"Your {len(reviews)} reviews"
    if Why.NOMINATED in nudge.reasons:
        return "You're asked for a peer review"
    if Why.OVERDUE in nudge.reasons:
        return f"{what} {'is' if len(reviews) == 1 else 'are'} overdue"
    if Why.DUE_SOON in nudge.reasons:
        return f"{what} {'is' if len(reviews) == 1 else 'are'} due soon"
    if Why.OPENED in nudge.reasons:
        return f"Time for {what[0].lower()}{what[1:]}"
    return f"A reminder: {what[0].lower()}{what[1:]}"


def _why_lines(nudge: ReviewNudge) -> list[str]:
    lines = []
    phase = PHASE_LABELS[nudge.phase]
    acknowledging = all(i.what is DueWhat.ACKNOWLEDGEMENT for i in nudge.items)
    if Why.OPENED in nudge.reasons:
        lines.append(
            "Your results are released: read your review and acknowledge it."
            if acknowledging
            else f"The {phase} phase has opened."
        )
    elif acknowledging:
        lines.append("Your results are released: read your review and acknowledge it.")
    if nudge.deadline is not None:
        if Why.OVERDUE in nudge.reasons:
            lines.append(f"It was due on {day(nudge.deadline)}: {_days(nudge.days_overdue)} overdue.")
        else:
            lines.append(f"Due on {day(nudge.deadline)}.")
    if Why.NOMINATED in nudge.reasons:
        names = ", ".join(
            truncate(i.reviewee_name, NAME_SHOWN) for i in nudge.items if i.what is DueWhat.PEER_REVIEW
        )
        lines.append(
            f"You were named to review {names}. Your answers reach them only pooled with other "
            "colleagues', without your name."
        )
    if Why.REQUESTED in nudge.reasons:
        lines.append("HR sent this reminder to everyone who still has something to do in this cycle.")
    if any(i.status is ReviewStatus.DRAFT for i in nudge.items) and len(nudge.items) == 1:
        lines.append("Your draft is saved: continue where you left off.")
    return lines


def _item_name(item: NudgeItem) -> str:
    if item.what is DueWhat.SELF_REVIEW:
        return "my self review"
    if item.what is DueWhat.ACKNOWLEDGEMENT:
        return "acknowledgement"
    return f"{ROLE_WHAT[WHAT_ROLE[item.what]]} of {truncate(item.reviewee_name, 40)}"


def _days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


# --- escalation ------------------------------------------------------------------------------------------


def escalation_card(nudge: ReviewNudge) -> Element:
    """To a manager: who in their team is overdue in a cycle, for how long."""
    body: list[Element] = [
        heading("Overdue in your team"),
        plain_text(nudge.cycle_name, subtle=True),
        text(f"These are {_days(nudge.days_overdue)} or more past the {PHASE_LABELS[nudge.phase]} deadline:"),
    ]
    for item in nudge.items[:NAMES_LISTED]:
        what = "acknowledgement" if item.what is DueWhat.ACKNOWLEDGEMENT else _owed(item)
        body.append(
            plain_text(
                f"{truncate(item.person_name, NAME_SHOWN)}: {what}, {_days(item.days_overdue)} overdue"
            )
        )
    if len(nudge.items) > NAMES_LISTED:
        body.append(text(f"And {len(nudge.items) - NAMES_LISTED} more.", subtle=True))
    if nudge.deadline is not None:
        body.append(
            text(f"It was due on {day(nudge.deadline)}. They get a reminder each working day.", subtle=True)
        )
    return card(
        body, [execute("Show team status", TEAM_STATUS, {CYCLE_ID: nudge.cycle_id}, submit_fallback=True)]
    )


def _owed(item: NudgeItem) -> str:
    role = WHAT_ROLE[item.what]
    if role is ReviewerRole.SELF:
        return "self review"
    return f"{ROLE_WHAT[role]} of {truncate(item.reviewee_name, NAME_SHOWN)}"


def team_status_card(cycle_name: str, people: Sequence[TeamMemberStatus]) -> Element:
    """Where each person of the manager's line stands in one cycle (status, never content)."""
    body: list[Element] = [heading("Team status"), plain_text(cycle_name, subtle=True)]
    if not people:
        body.append(text("Nobody in your team is in this cycle any more."))
    for p in people[:40]:
        parts = [f"self review {_status(p.self_review)}", f"manager review {_status(p.manager_review)}"]
        if p.peers_nominated:
            parts.append(f"{p.peers_submitted} of {p.peers_nominated} peer reviews in")
        if p.acknowledged:
            parts.append("acknowledged")
        body.append(plain_text(f"{truncate(p.person_name, NAME_SHOWN)}: {', '.join(parts)}"))
    if len(people) > 40:
        body.append(text(f"And {len(people) - 40} more: see the Team reviews tab.", subtle=True))
    return card(body, [execute("My reviews", LIST, associated_inputs="none", submit_fallback=True)])


def _status(status: ReviewStatus | None) -> str:
    return "none" if status is None else STATUS_WORDS.get(status, status.value)


# --- improvement plan checkpoints ------------------------------------------------------------------------


def checkpoint_card(
    nudge: CheckpointFacts,
    *,
    notice: str | None = None,
    typed_status: str | None = None,
    typed_notes: str | None = None,
) -> Element:
    """To the manager: a checkpoint of an improvement plan is due (or overdue); record it here."""
    when = f"was due on {day(nudge.due_on)}" if nudge.overdue else f"is due on {day(nudge.due_on)}"
    body: list[Element] = [
        heading("Improvement plan checkpoint"),
        plain_text(f"{truncate(nudge.employee_name, NAME_SHOWN)}'s improvement plan: a checkpoint {when}."),
        text("Only you, your manager line and HR see this plan.", subtle=True),
        *notices(notice),
        input_choice(
            CHECKPOINT_STATUS,
            "Was it met?",
            [(CHECKPOINT_LABELS[s].capitalize(), s.value) for s in CHECKPOINT_CHOICES],
            required=True,
            expanded=True,
            value=typed_status,
            error_message="Choose whether the checkpoint was met.",
        ),
        input_text(
            CHECKPOINT_NOTES,
            "Notes",
            required=True,
            multiline=True,
            max_length=NOTES_MAX,
            value=typed_notes,
            error_message="Write a note on the checkpoint.",
        ),
    ]
    data = {PLAN_ID: nudge.plan_id, CHECKPOINT_ID: nudge.checkpoint_id}
    return card(
        body, [execute("Record checkpoint", CHECKPOINT, data, style="positive", submit_fallback=True)]
    )


def checkpoint_recorded_card(plan: ImprovementPlanView, checkpoint_id: int) -> Element:
    """The checkpoint as recorded (or, a second time, as it already was)."""
    recorded = next((c for c in plan.checkpoints if c.id == checkpoint_id), None)
    body: list[Element] = [
        heading("Checkpoint recorded" if not plan.already_submitted else "Checkpoint already recorded"),
        plain_text(f"{truncate(plan.employee_name, NAME_SHOWN)}'s improvement plan", subtle=True),
    ]
    if recorded is not None:
        body.append(text(f"Due on {day(recorded.due_on)}: {CHECKPOINT_LABELS[recorded.status]}."))
        if recorded.notes:
            body.append(plain_text(truncate(recorded.notes, 2000)))
    following = plan.next_checkpoint
    if following is not None:
        body.append(text(f"Next checkpoint: {day(following.due_on)}.", subtle=True))
    if plan.already_submitted:
        body.append(text("This was already submitted, so nothing more was changed.", subtle=True))
    return card(body)


# --- HR: nudge now ---------------------------------------------------------------------------------------


def nudge_cycle_card(cycles: Sequence[tuple[int, str, str]], *, notice: str | None = None) -> Element:
    """HR chooses an open cycle to nudge now: (id, name, phase label) each."""
    body: list[Element] = [heading("Nudge a review cycle now"), *notices(notice)]
    if not cycles:
        body.append(text("No review cycle is open right now."))
        return card(body)
    body += [
        text(
            "Everyone with something still to do in the cycle gets a reminder: now if it is working hours "
            "where they are, otherwise when their working day starts. Nobody gets more than one a day.",
            subtle=True,
        ),
        input_choice(
            CYCLE_CHOICE,
            "Cycle",
            [(truncate(f"{name} ({phase})", 100), str(cid)) for cid, name, phase in cycles],
            required=True,
            value=str(cycles[0][0]) if len(cycles) == 1 else None,
            error_message="Choose the cycle to nudge.",
        ),
    ]
    return card(body, [execute("Nudge now", NUDGE_NOW, {}, style="positive", submit_fallback=True)])


def nudge_now_card(cycle_name: str, plan: NudgePlan) -> Element:
    """What HR's "nudge now" did."""
    nudges = [n for n in plan.reviews if not n.escalation]
    counts = {d: sum(1 for n in nudges if n.delivery is d) for d in Delivery}
    escalations = sum(
        1 for n in plan.reviews if n.escalation and n.delivery in (Delivery.NOW, Delivery.LATER)
    )
    body: list[Element] = [heading("Nudged"), plain_text(cycle_name, subtle=True)]
    if not nudges:
        body.append(text("Nobody has anything left to do in this cycle's current phase."))
        return card(body)
    lines = [
        (counts[Delivery.NOW], "reminded now"),
        (counts[Delivery.LATER], "will be reminded when their working day starts"),
        (counts[Delivery.SENT_TODAY], "were already reminded today (one a day)"),
        (counts[Delivery.NO_CHAT], "have no chat with Trellis yet"),
        (counts[Delivery.BLOCKED], "blocked Trellis"),
        (escalations, "managers told about people long overdue"),
    ]
    body += [text(f"{n} {words}") for n, words in lines if n]
    unreachable = [n.person_name for n in nudges if n.delivery in (Delivery.NO_CHAT, Delivery.BLOCKED)]
    if unreachable:
        shown = ", ".join(truncate(name, NAME_SHOWN) for name in unreachable[:NAMES_LISTED])
        more = f" and {len(unreachable) - NAMES_LISTED} more" if len(unreachable) > NAMES_LISTED else ""
        body.append(plain_text(f"Not reachable in Teams: {shown}{more}.", subtle=True))
    return card(body)
