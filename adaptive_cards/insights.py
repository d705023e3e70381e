"""The monthly insights digest a manager gets about their line: how many suggestions of each kind, the
strongest few (who, what in our words, how many pieces of evidence of each sort), and where to act on them
(each person's development plan). No verbs: the card only informs.

Names come from the directory, so they go in TextRuns (never markdown).
"""

from __future__ import annotations

from collections.abc import Mapping

from adaptive_cards.elements import (
    Element,
    card,
    container,
    fact_set,
    heading,
    open_url,
    rich_text,
    text,
    text_run,
    truncate,
)
from domain.insight_views import ManagerDigest

NAME_SHOWN = 100
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
MAX_LINKS = 5  # Teams shows at most six actions on a card
PRIVACY = (
    "Suggestions about your line, computed by Trellis from goals, feedback, reviews and development plans. "
    "They are suggestions: you and HR decide. The people they are about don't see them."
)

__all__ = ["digest_card", "digest_summary"]


def digest_card(digest: ManagerDigest, *, plan_links: Mapping[int, str] | None = None) -> Element:
    """The digest; `plan_links` (person id → URL of their development plan) adds a button per listed
    person, when the scheduler knows where the tabs are."""
    month = f"{MONTHS[digest.month.month - 1]} {digest.month.year}"
    people = "1 person" if digest.people == 1 else f"{digest.people} people"
    what = "1 suggestion" if digest.total == 1 else f"{digest.total} suggestions"
    body: list[Element] = [
        heading(f"Growth suggestions for your team · {month}"),
        text(f"Trellis found {what} about {people} in your line."),
        fact_set((count.label, str(count.count)) for count in digest.counts),
    ]
    if digest.items:
        body.append(text("The strongest:", weight="Bolder", spacing="Medium"))
    for item in digest.items:
        body.append(
            container(
                [
                    rich_text(
                        text_run(truncate(item.person_name, NAME_SHOWN), weight="Bolder"), f" {item.what}."
                    ),
                    text(f"{item.kind_label} · based on {item.evidence}", subtle=True),
                ],
                spacing="Medium",
            )
        )
    if digest.total > len(digest.items):
        more = digest.total - len(digest.items)
        body.append(text(f"{more} more in the counts above.", subtle=True))
    body.append(
        text(
            "Talk them over with the people concerned and add what you agree to their development plans, on "
            "the My development tab in Trellis.",
            spacing="Medium",
        )
    )
    body.append(text(PRIVACY, subtle=True))
    actions = []
    listed: list[int] = []
    for item in digest.items:
        if item.person_id not in listed:
            listed.append(item.person_id)
    for person_id in listed[:MAX_LINKS]:
        url = (plan_links or {}).get(person_id)
        if url:
            name = next(i.person_name for i in digest.items if i.person_id == person_id)
            actions.append(open_url(truncate(f"{name}'s plan", 40), url))
    return card(body, actions)


def digest_summary(digest: ManagerDigest) -> str:
    """The notification text of a digest."""
    what = "1 growth suggestion" if digest.total == 1 else f"{digest.total} growth suggestions"
    return f"{what} for your team this month"
