"""A released review in chat: the score with its breakdown (section, weight, score, contribution), the
manager's answers, peer and upward answers pooled, and the acknowledgement (once, with a comment).

Pooled answers carry no name and no order of arrival (review_views.AnonymousReviews); the calibration
reason is never on it. Names, titles and answers are people's text, shown through plain_text.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from adaptive_cards.elements import (
    Element,
    card,
    container,
    execute,
    heading,
    input_text,
    plain_text,
    rich_text,
    text,
    text_run,
    truncate,
)
from adaptive_cards.review_payloads import ACK_COMMENT, ACKNOWLEDGE, CYCLE_ID, LIST
from adaptive_cards.reviews import SUMMARY_LIMITS, _fitting, day, notices, submitted_sections
from domain.performance.review_views import (
    ANONYMITY_THRESHOLD,
    COMMENT_MAX,
    AnonymousReviews,
    ItemKind,
    Phase,
    ReviewResultView,
    ScoreView,
)

POOLED_TEXTS = 10  # answers shown per pooled text question

__all__ = ["SUMMARY_LIMITS", "review_result_card", "score_text"]


def review_result_card(
    view: ReviewResultView,
    *,
    scale: Sequence[str] = (),
    notice: str | None = None,
    acknowledged_now: bool = False,
    typed_comment: str | None = None,
) -> Element:
    """The person's own review once released: score, breakdown, answers, and Acknowledge."""
    return _fitting(lambda limit: _result(view, scale, notice, acknowledged_now, typed_comment, limit))


def score_text(score: Decimal | None) -> str:
    """3.90: every score shows with two decimals."""
    return "\u2013" if score is None else f"{score:.2f}"


def _result(
    view: ReviewResultView,
    scale: Sequence[str],
    notice: str | None,
    acknowledged_now: bool,
    typed_comment: str | None,
    limit: int,
) -> Element:
    body: list[Element] = [heading("Your review"), plain_text(view.cycle_name, subtle=True), *notices(notice)]
    if not view.released:
        body.append(
            text(
                "Your results aren't released yet: your manager's review and your score appear here once HR "
                "releases this cycle's results."
            )
        )
        return card(body, [_list_action()])
    if view.score is None:
        body.append(text("No score: your manager's review was not submitted."))
    else:
        body += _score(view.score)
    if view.manager_review is not None:
        body.append(text("Your manager's review", size="Medium", weight="Bolder", spacing="Large"))
        body += submitted_sections(view.manager_review.sections, scale, limit)
    for pooled, title in ((view.peers, "Peer reviews"), (view.reports, "Upward reviews")):
        if pooled is not None:
            body += _pooled(pooled, title, limit)
    if view.peers is None and view.reports is None:
        body.append(
            text(
                f"Peer and upward answers are shown only pooled, once at least {ANONYMITY_THRESHOLD} people "
                "answered.",
                subtle=True,
                spacing="Medium",
            )
        )
    actions = [_list_action()]
    body.append(text("Acknowledgement", size="Medium", weight="Bolder", spacing="Large"))
    if view.acknowledged_at is not None:
        if view.already_submitted:
            body.append(text("You had already acknowledged this review: nothing changed.", weight="Bolder"))
        elif acknowledged_now:
            body.append(text("Thank you: you acknowledged this review.", color="Good", weight="Bolder"))
        body.append(text(f"You acknowledged this review on {day(view.acknowledged_at.date())}."))
        if view.acknowledgement_comment:
            body.append(plain_text(truncate(view.acknowledgement_comment, limit)))
    elif view.phase is Phase.RELEASED and view.score is not None:
        body.append(
            text(
                "Acknowledging says you have read your review, not that you agree with it. You can "
                "acknowledge once.",
                subtle=True,
            )
        )
        body.append(
            input_text(
                ACK_COMMENT,
                "Comment (optional)",
                multiline=True,
                max_length=COMMENT_MAX,
                value=typed_comment,
            )
        )
        actions.insert(
            0,
            execute(
                "Acknowledge", ACKNOWLEDGE, {CYCLE_ID: view.cycle_id}, style="positive", submit_fallback=True
            ),
        )
    elif view.score is None:
        body.append(text("There is nothing to acknowledge: the manager review was not submitted."))
    else:
        body.append(text("This cycle is closed: it takes no acknowledgements any more."))
    return card(body, actions)


def _score(score: ScoreView) -> list[Element]:
    band = f" · {score.band_label}" if score.band_label else ""
    parts: list[Element] = [
        rich_text(
            text_run("Score ", size="Medium"),
            text_run(score_text(score.final), size="ExtraLarge", weight="Bolder"),
            text_run(band, size="Medium"),
        )
    ]
    if score.calibrated and score.final != score.computed:
        parts.append(
            text(
                f"The manager's ratings come to {score_text(score.computed)}; the final score was adjusted "
                "in calibration, where ratings are compared across teams.",
                subtle=True,
            )
        )
    rows: list[Element] = [text("How the score is made up", weight="Bolder")]
    for s in score.sections:
        rows.append(
            rich_text(
                text_run(f"{s.title}: ", weight="Bolder"),
                f"weight {_number(s.weight)} · score {score_text(s.score)} · contribution "
                f"{score_text(s.contribution)}",
            )
        )
    rows.append(
        rich_text(text_run("From the ratings: ", weight="Bolder"), score_text(score.computed)),
    )
    rows.append(
        text(
            "A section's score is the mean of the manager's ratings in it; its contribution is its weight "
            "times that score, divided by the weights of all sections with ratings.",
            subtle=True,
        )
    )
    parts.append(container(rows, style="emphasis", spacing="Medium"))
    return parts


def _pooled(pooled: AnonymousReviews, title: str, limit: int) -> list[Element]:
    body: list[Element] = [
        text(title, size="Medium", weight="Bolder", spacing="Large"),
        text(f"{pooled.reviews} people answered; their answers are shown together, unnamed.", subtle=True),
    ]
    for section in pooled.sections:
        body.append(plain_text(section.title, weight="Bolder", spacing="Medium"))
        for item in section.items:
            if not item.shown:
                body.append(
                    rich_text(
                        text_run(f"{truncate(item.text, 120)}: ", weight="Bolder"),
                        text_run(f"too few answers to show ({item.count})", subtle=True),
                    )
                )
                continue
            if item.kind is ItemKind.RATING and item.mean is not None:
                value = f"mean {score_text(item.mean)} from {item.count} answers"
            elif item.kind is ItemKind.CHOICE:
                value = ", ".join(f"{choice}: {n}" for choice, n in item.choices)
            else:
                value = f"{item.count} answers"
            body.append(rich_text(text_run(f"{truncate(item.text, 120)}: ", weight="Bolder"), value))
            for answer in item.texts[:POOLED_TEXTS]:
                body.append(plain_text(f"“{truncate(answer, limit)}”"))
    return body


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _list_action() -> dict:
    return execute("My reviews", LIST, associated_inputs="none", submit_fallback=True)
