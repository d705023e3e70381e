"""Review cards in chat: the `reviews` list, the review form one section per step, its summary once
submitted, and peer nominations. Results and acknowledgement: review_results.py; nudges: review_nudges.py;
what the buttons send back: review_payloads.py.

A form step shows the section's items with the answers saved so far; every button saves the step first
(Back, Save draft, Next, Submit), so closing Teams half-way loses nothing. The manager's form shows the
reviewee's submitted self review and goal results above each item. Questions, answers, names and section
titles are people's text: they go into TextRuns (plain_text), never markdown. Every button is an
Action.Execute with an Action.Submit fallback carrying the same data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from adaptive_cards.elements import (
    MAX_CARD_BYTES,
    Action,
    CardTooLarge,
    Element,
    card,
    card_size_bytes,
    container,
    execute,
    heading,
    input_choice,
    input_text,
    plain_text,
    rich_text,
    text,
    text_run,
    truncate,
)
from adaptive_cards.review_payloads import (
    BACK,
    CHOICE,
    COMMENT,
    CYCLE_ID,
    GO,
    KEYS,
    LIST,
    NEXT,
    NOMINATE,
    NOMINATIONS,
    OPEN,
    PAGE,
    PEERS,
    PEERS_TYPED_MAX,
    PICK,
    PICKED,
    RATING,
    RESULT,
    REVIEW_ID,
    REVIEWEE_ID,
    SAVE,
    SECTION_ID,
    STAY,
    STEP,
    SUBMIT,
    TEXT,
    VERSION,
    picked_value,
)
from domain.performance.review_views import (
    ANSWER_MAX,
    AnswerConflict,
    AnswerInput,
    AnswerView,
    FormItem,
    FormSection,
    ItemKind,
    MyReviews,
    Phase,
    ReviewerRole,
    ReviewFormView,
    ReviewStatus,
    ReviewTask,
    SubmittedReview,
)

MAX_BUTTONS = 6  # Teams shows at most 6 actions on a card
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ROLE_WHAT = {
    ReviewerRole.SELF: "self review",
    ReviewerRole.MANAGER: "manager review",
    ReviewerRole.PEER: "peer review",
    ReviewerRole.REPORT: "upward review",
}
STATUS_WORDS = {
    ReviewStatus.PENDING: "not started",
    ReviewStatus.DRAFT: "draft saved",
    ReviewStatus.SUBMITTED: "submitted",
}
LABEL_MAX = 120
NAME_SHOWN = 60
# Answers on a summary, tried from the first down until the card fits.
SUMMARY_LIMITS = (1000, 400, 160, 60)
# Room a step page keeps for its header, notices and buttons.
PAGE_RESERVE = 6000


# --- shared pieces ---------------------------------------------------------------------------------------


def day(value: date) -> str:
    """Friday 13 March 2026."""
    return f"{WEEKDAYS[value.weekday()]} {value.day} {value:%B %Y}"


def review_title(role: ReviewerRole, reviewee_name: str) -> str:
    """ "Your self review", "Your manager review of Adele Vance"."""
    if role is ReviewerRole.SELF:
        return "Your self review"
    return f"Your {ROLE_WHAT[role]} of {truncate(reviewee_name, NAME_SHOWN)}"


@dataclass(frozen=True)
class Button:
    """A button a list offers; `picked` is its value in the "more" menu when there are too many."""

    title: str
    verb: str
    data: Mapping[str, Any]
    picked: str


def buttons(entries: Sequence[Button], *, menu_label: str) -> tuple[list[Element], list[Action]]:
    """One button per entry when they fit in Teams' six; otherwise the first five and a menu with the rest
    (a choice and an Open button). Returns what goes in the body (the menu) and the card's actions."""
    if len(entries) <= MAX_BUTTONS:
        return [], [execute(e.title, e.verb, e.data, submit_fallback=True) for e in entries]
    shown, rest = entries[: MAX_BUTTONS - 1], entries[MAX_BUTTONS - 1 :]
    menu = input_choice(PICKED, menu_label, [(truncate(e.title, 80), e.picked) for e in rest])
    actions = [execute(e.title, e.verb, e.data, submit_fallback=True) for e in shown]
    actions.append(execute("Open chosen", PICK, {}, submit_fallback=True))
    return [menu], actions


def notices(notice: str | None, saved: str | None = None) -> list[Element]:
    """A refusal (attention) and what the last press did (good)."""
    found: list[Element] = []
    if notice:
        found.append(container([plain_text(notice, color="Attention", weight="Bolder")], style="attention"))
    if saved:
        found.append(plain_text(saved, color="Good", weight="Bolder"))
    return found


def answer_text(item: FormItem | None, answer: AnswerView | None, scale: Sequence[str], limit: int) -> str:
    """An answer as a sentence reads it: "Above (4): good quarter", a choice, a text, or "no answer"."""
    if answer is None or answer.empty:
        return "no answer"
    parts = []
    if answer.rating is not None:
        label = scale[answer.rating - 1] if 1 <= answer.rating <= len(scale) else ""
        parts.append(f"{label} ({answer.rating})" if label else str(answer.rating))
    if answer.choice is not None:
        parts.append(answer.choice)
    if answer.text:
        parts.append(truncate(answer.text, limit))
    return ": ".join(parts) if answer.rating is not None and answer.text else " ".join(parts)


def _labelled(label: str, value: str, *, subtle: bool = False) -> Element:
    return rich_text(text_run(f"{label}: ", weight="Bolder", subtle=subtle), text_run(value, subtle=subtle))


# --- the `reviews` list ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Nomination:
    """Someone whose peers the person may name now (themselves, or a report whose review they write)."""

    cycle_id: int
    cycle_name: str
    reviewee_id: int
    reviewee_name: str
    own: bool
    peers: tuple[str, ...]
    due_on: date | None


def my_reviews_card(
    reviews: MyReviews,
    *,
    nominations: Sequence[Nomination] = (),
    hr: bool = False,
    notice: str | None = None,
) -> Element:
    """The reviews the person writes (open or continue each), peers they may nominate, and their released
    results (see each, acknowledge)."""
    body: list[Element] = [heading("Your reviews"), *notices(notice)]
    entries: list[Button] = []
    open_tasks = [t for t in reviews.to_write if t.open and t.status is not ReviewStatus.SUBMITTED]
    done = [t for t in reviews.to_write if t.status is ReviewStatus.SUBMITTED]
    if open_tasks:
        body.append(text("To write", weight="Bolder", spacing="Medium"))
        for task in open_tasks:
            body.append(_task_line(task))
            verb_word = "Continue" if task.status is ReviewStatus.DRAFT else "Open"
            entries.append(
                Button(
                    f"{verb_word} {_task_name(task)}",
                    OPEN,
                    {REVIEW_ID: task.review_id},
                    picked_value(OPEN, task.review_id),
                )
            )
    if nominations:
        body.append(text("Peers to nominate", weight="Bolder", spacing="Medium"))
        for n in nominations:
            whose = "your review" if n.own else f"{truncate(n.reviewee_name, NAME_SHOWN)}'s review"
            body.append(
                plain_text(f"{n.cycle_name}: choose colleagues for {whose} ({len(n.peers)} named so far)")
            )
            title = "Nominate my peers" if n.own else f"Nominate peers for {truncate(n.reviewee_name, 40)}"
            entries.append(
                Button(
                    title,
                    NOMINATIONS,
                    {CYCLE_ID: n.cycle_id, REVIEWEE_ID: n.reviewee_id},
                    picked_value(NOMINATIONS, n.cycle_id, n.reviewee_id),
                )
            )
    if reviews.results:
        body.append(text("Your results", weight="Bolder", spacing="Medium"))
        for result in reviews.results:
            score = f"{result.final:.2f}" + (f" ({result.band_label})" if result.band_label else "")
            if result.acknowledged_at is not None:
                state = "acknowledged"
            elif result.phase is Phase.RELEASED:
                state = "to acknowledge" + (
                    f" by {day(result.acknowledge_by)}" if result.acknowledge_by else ""
                )
            else:
                state = "closed"
            shown = score if result.final is not None else "no score"
            body.append(plain_text(f"{result.cycle_name}: {shown}, {state}"))
            wants_ack = result.acknowledged_at is None and result.phase is Phase.RELEASED
            entries.append(
                Button(
                    f"{'Acknowledge' if wants_ack else 'See'} {truncate(result.cycle_name, 40)}",
                    RESULT,
                    {CYCLE_ID: result.cycle_id},
                    picked_value(RESULT, result.cycle_id),
                )
            )
    if done:
        names = ", ".join(_task_name(t) for t in done)
        body.append(plain_text(f"Submitted: {truncate(names, 500)}", subtle=True, spacing="Medium"))
    if not (open_tasks or nominations or reviews.results):
        body.append(text("You have no reviews to write and no results to see right now."))
    if hr:
        body.append(
            text(
                "As HR, type **nudge cycle** and a cycle's name to remind its people now.",
                subtle=True,
                spacing="Medium",
            )
        )
    menu, actions = buttons(_distinct(entries), menu_label="More reviews")
    return card([*body, *menu], actions)


def _task_name(task: ReviewTask) -> str:
    if task.role is ReviewerRole.SELF:
        return "my self review"
    return f"{ROLE_WHAT[task.role]} of {truncate(task.reviewee_name, 40)}"


def _task_line(task: ReviewTask) -> Element:
    due = f", due {day(task.due_on)}" if task.due_on else ""
    late = " (overdue)" if task.overdue else ""
    what = "Self review" if task.role is ReviewerRole.SELF else _task_name(task).capitalize()
    return plain_text(f"{what} · {task.cycle_name}{due}{late} · {STATUS_WORDS[task.status]}")


def _distinct(entries: list[Button]) -> list[Button]:
    """Buttons are found by their title: the same title twice (two cycles) gets its entry's number."""
    seen: dict[str, int] = {}
    for e in entries:
        seen[e.title] = seen.get(e.title, 0) + 1
    counts: dict[str, int] = {}
    result = []
    for e in entries:
        if seen[e.title] > 1:
            counts[e.title] = counts.get(e.title, 0) + 1
            e = Button(f"{e.title} ({counts[e.title]})", e.verb, e.data, e.picked)
        result.append(e)
    return result


# --- the form, one section per step ----------------------------------------------------------------------


def review_step_card(
    form: ReviewFormView,
    *,
    step: int | None = None,
    page: int = 0,
    notice: str | None = None,
    saved: str | None = None,
    conflicts: Sequence[AnswerConflict] = (),
    typed: Mapping[str, AnswerInput] | None = None,
) -> Element:
    """One step (a section) of the form with the answers saved so far, or what was `typed` on the card
    refused; a submitted review shows its summary instead. A section too long for one card is shown in
    parts ("page")."""
    if form.status is ReviewStatus.SUBMITTED or form.already_submitted:
        return review_summary_card(form)
    if not form.sections:
        return _nothing_to_answer(form, notice)
    at = min(max(step if step is not None else form.resume_step, 0), form.steps - 1)
    section = form.sections[at]
    bounds = _page_bounds(form, section, typed)
    page = min(max(page, 0), len(bounds) - 1)
    start, end = bounds[page]
    items = section.items[start:end]
    body: list[Element] = [*_form_header(form), *notices(notice, saved)]
    part = f" (part {page + 1} of {len(bounds)})" if len(bounds) > 1 else ""
    body.append(
        plain_text(
            f"Step {at + 1} of {form.steps}: {section.title}{part}",
            size="Medium",
            weight="Bolder",
            spacing="Medium",
        )
    )
    if section.description:
        body.append(plain_text(section.description, subtle=True))
    if form.role is ReviewerRole.MANAGER and form.beside_self_review is None:
        body.append(
            plain_text(
                f"{truncate(form.reviewee_name, NAME_SHOWN)} has not submitted a self review.", subtle=True
            )
        )
    if not items:
        body.append(text("Nothing to answer in this step.", subtle=True))
    beside = _beside(form, section)
    clashes = {c.item_key: c for c in conflicts if c.section_id == section.id}
    for item in items:
        body.append(_item_block(form, item, beside.get(item.key), clashes.get(item.key), typed))
    if not form.editable:
        return card(body, [_list_action()])
    data = {
        REVIEW_ID: form.review_id,
        SECTION_ID: section.id,
        VERSION: form.version,
        STEP: at,
        PAGE: page,
        KEYS: [item.key for item in items],
    }
    last = at == form.steps - 1 and page == len(bounds) - 1
    actions = []
    if at > 0 or page > 0:
        actions.append(execute("Back", SAVE, {**data, GO: BACK}, submit_fallback=True))
    actions.append(execute("Save draft", SAVE, {**data, GO: STAY}, submit_fallback=True))
    if last:
        actions.append(execute("Submit", SUBMIT, {**data, GO: STAY}, style="positive", submit_fallback=True))
    else:
        actions.append(execute("Next", SAVE, {**data, GO: NEXT}, style="positive", submit_fallback=True))
    return card(body, actions)


def step_pages(form: ReviewFormView, step: int, typed: Mapping[str, AnswerInput] | None = None) -> int:
    """How many parts a step is shown in (1 unless its section is too long for one card)."""
    return len(_page_bounds(form, form.sections[step], typed))


def _form_header(form: ReviewFormView) -> list[Element]:
    title = review_title(form.role, form.reviewee_name)
    due = f" · due {day(form.due_on)}" if form.due_on else ""
    return [
        plain_text(title, size="Large", weight="Bolder"),
        plain_text(f"{form.cycle_name}{due}", subtle=True),
    ]


def _nothing_to_answer(form: ReviewFormView, notice: str | None) -> Element:
    body = [*_form_header(form), *notices(notice), text("This review has no questions for you: submit it.")]
    data = {REVIEW_ID: form.review_id, SECTION_ID: 1, VERSION: form.version, STEP: 0, PAGE: 0, KEYS: []}
    actions = [execute("Submit", SUBMIT, {**data, GO: STAY}, style="positive", submit_fallback=True)]
    return card(body, actions if form.editable else [_list_action()])


def _beside(form: ReviewFormView, section: FormSection) -> dict[str, FormItem]:
    """The reviewee's self-review answers to this section's items (the manager's form only)."""
    if form.role is not ReviewerRole.MANAGER or form.beside_self_review is None:
        return {}
    for theirs in form.beside_self_review.sections:
        if theirs.id == section.id:
            return {item.key: item for item in theirs.items}
    return {}


def _item_block(
    form: ReviewFormView,
    item: FormItem,
    theirs: FormItem | None,
    clash: AnswerConflict | None,
    typed: Mapping[str, AnswerInput] | None,
    *,
    limit: int = ANSWER_MAX,
) -> Element:
    required = "" if item.required else " (optional)"
    parts: list[Element] = [plain_text(item.text + required, weight="Bolder")]
    if item.goal is not None:
        goal = item.goal
        result = f"{round(goal.progress * 100)} %" + (
            f", final score {round(goal.final_score * 100)} %" if goal.final_score is not None else ""
        )
        parts.append(_labelled("Goal result", f"{result} · {goal.status.replace('_', ' ')}", subtle=True))
    if theirs is not None:
        who = f"{truncate(form.reviewee_name, NAME_SHOWN)}'s self review"
        parts.append(_labelled(who, answer_text(theirs, theirs.answer, form.scale, limit)))
    if clash is not None:
        parts.append(
            container(
                [
                    _labelled("Saved meanwhile", answer_text(item, clash.theirs, form.scale, limit)),
                    _labelled("You had sent", answer_text(item, clash.yours, form.scale, limit)),
                ],
                style="attention",
            )
        )
    value = _shown_answer(item, typed)
    quoted = f"“{truncate(item.text, LABEL_MAX)}”"
    if item.kind is ItemKind.RATING:
        choices = [(f"{name} ({n})", str(n)) for n, name in enumerate(form.scale, 1)]
        parts.append(
            input_choice(
                RATING + item.key,
                f"Your rating for {quoted}",
                choices,
                value=str(value.rating) if value and value.rating is not None else None,
                expanded=len(form.scale) <= 5,
            )
        )
        parts.append(
            input_text(
                COMMENT + item.key,
                f"Your comment on {quoted} (optional)",
                multiline=True,
                max_length=ANSWER_MAX,
                value=value.text if value and value.text else None,
            )
        )
    elif item.kind is ItemKind.CHOICE:
        parts.append(
            input_choice(
                CHOICE + item.key,
                f"Your choice for {quoted}",
                [(truncate(c, 80), c) for c in item.choices],
                value=value.choice if value and value.choice else None,
                expanded=len(item.choices) <= 4,
            )
        )
    else:
        parts.append(
            input_text(
                TEXT + item.key,
                f"Your answer to {quoted}",
                multiline=True,
                max_length=ANSWER_MAX,
                value=value.text if value and value.text else None,
            )
        )
    return container(parts, spacing="Medium")


def _shown_answer(item: FormItem, typed: Mapping[str, AnswerInput] | None) -> AnswerInput | None:
    if typed is not None and item.key in typed:
        return typed[item.key]
    if item.answer is None:
        return None
    return AnswerInput(rating=item.answer.rating, choice=item.answer.choice, text=item.answer.text)


def _page_bounds(
    form: ReviewFormView, section: FormSection, typed: Mapping[str, AnswerInput] | None
) -> list[tuple[int, int]]:
    """The section's items split into parts that each fit on a card, in order (most sections: one part)."""
    beside = _beside(form, section)
    budget = MAX_CARD_BYTES - PAGE_RESERVE
    bounds: list[tuple[int, int]] = []
    start, used = 0, 0
    for at, item in enumerate(section.items):
        size = card_size_bytes(_item_block(form, item, beside.get(item.key), None, typed))
        if at > start and used + size > budget:
            bounds.append((start, at))
            start, used = at, 0
        used += size
    bounds.append((start, len(section.items)))
    return bounds


def _list_action() -> Action:
    return execute("My reviews", LIST, associated_inputs="none", submit_fallback=True)


# --- after submitting ------------------------------------------------------------------------------------


def review_summary_card(form: ReviewFormView, *, notice: str | None = None) -> Element:
    """A submitted review's answers (the card the form becomes), or a closed one's, read-only."""
    return _fitting(lambda limit: _summary(form, notice, limit))


def _summary(form: ReviewFormView, notice: str | None, limit: int) -> Element:
    submitted = form.status is ReviewStatus.SUBMITTED
    if submitted:
        what = review_title(form.role, form.reviewee_name).removeprefix("Your ")
        title = f"{what[:1].upper()}{what[1:]} submitted"
    else:
        title = review_title(form.role, form.reviewee_name)
    body: list[Element] = [
        plain_text(title, size="Large", weight="Bolder"),
        plain_text(form.cycle_name, subtle=True),
        *notices(notice),
    ]
    if submitted and form.submitted_at is not None:
        body.append(text(f"Submitted on {day(form.submitted_at.date())}.", subtle=True))
    body += submitted_sections(form.sections, form.scale, limit)
    if form.already_submitted:
        body.append(text("This was already submitted, so nothing more was changed.", weight="Bolder"))
    return card(body, [_list_action()])


def submitted_sections(sections: Sequence[FormSection], scale: Sequence[str], limit: int) -> list[Element]:
    """Each section's title and its answers, one line per item."""
    body: list[Element] = []
    for section in sections:
        body.append(plain_text(section.title, weight="Bolder", spacing="Medium"))
        for item in section.items:
            body.append(_labelled(truncate(item.text, 120), answer_text(item, item.answer, scale, limit)))
    return body


def submitted_review(review: SubmittedReview, scale: Sequence[str], limit: int) -> list[Element]:
    """A submitted review's sections (the manager review on a result)."""
    return submitted_sections(review.sections, scale, limit)


def _fitting(build: Callable[[int], Element]) -> Element:
    """The card with answers as long as fit: each limit of SUMMARY_LIMITS tried in turn."""
    for limit in SUMMARY_LIMITS[:-1]:
        try:
            return build(limit)
        except CardTooLarge:
            continue
    return build(SUMMARY_LIMITS[-1])


# --- peer nominations ------------------------------------------------------------------------------------


def nomination_card(
    nomination: Nomination, *, notice: str | None = None, typed: str | None = None, added: Sequence[str] = ()
) -> Element:
    """Name the colleagues who review someone (oneself, or a report) during the peer review phase."""
    whose = "your review" if nomination.own else f"{truncate(nomination.reviewee_name, NAME_SHOWN)}'s review"
    body: list[Element] = [
        heading("Nominate peers"),
        plain_text(f"{nomination.cycle_name}: colleagues to write a peer review for {whose}.", subtle=True),
        *notices(notice, f"Asked {', '.join(added)}." if added else None),
    ]
    if nomination.due_on:
        body.append(text(f"Peer reviews are due on {day(nomination.due_on)}.", subtle=True))
    if nomination.peers:
        body.append(_labelled("Named so far", truncate(", ".join(nomination.peers), 1000)))
    else:
        body.append(text("Nobody is named yet.", subtle=True))
    body.append(
        text(
            "Their answers reach the person reviewed only pooled, once enough of them answered.", subtle=True
        )
    )
    body.append(
        input_text(
            PEERS,
            "Colleagues to ask (names, separated by commas)",
            max_length=PEERS_TYPED_MAX,
            placeholder="Isaiah Langer, Patti Fernandez",
            value=typed,
        )
    )
    data = {CYCLE_ID: nomination.cycle_id, REVIEWEE_ID: nomination.reviewee_id}
    return card(
        body,
        [execute("Nominate", NOMINATE, data, style="positive", submit_fallback=True), _list_action()],
    )
