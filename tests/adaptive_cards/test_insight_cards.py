"""The managers' monthly insights digest card passes the Teams rules and the real renderer, says what it
counts in our words, and shows names exactly as written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from adaptive_cards import insights as cards
from adaptive_cards.elements import card_size_bytes
from domain.insight_views import DigestItem, KindCount, ManagerDigest
from domain.signal_views import SignalKind
from tests.support.cards import CardValidator, card_validator, validate_card  # noqa: F401

K = SignalKind
TRICKY = '*not bold* [link](https://x.test) {{DATE(2026-03-05T09:00:00Z)}} <b>b</b> "quoted"'


def item(person_id: int, name: str, kind: SignalKind, **more: Any) -> DigestItem:
    fields: dict[str, Any] = {
        "person_id": person_id,
        "person_name": name,
        "kind": kind,
        "target_label": None,
        "evidence": "3 goals, 1 review score",
        "score": 0.8,
    }
    return DigestItem(**(fields | more))


def digest(items: tuple[DigestItem, ...], total: int | None = None, **more: Any) -> ManagerDigest:
    counts: dict[SignalKind, int] = {}
    for i in items:
        counts[i.kind] = counts.get(i.kind, 0) + 1
    fields: dict[str, Any] = {
        "manager_id": 1,
        "manager_name": "Alex Wilber",
        "month": date(2026, 6, 1),
        "counts": tuple(KindCount(k, n) for k, n in counts.items()),
        "items": items,
        "total": total if total is not None else len(items),
        "people": len({i.person_id for i in items}),
    }
    return ManagerDigest(**(fields | more))


FIVE = (
    item(3, "Adele Vance", K.PROMOTION_READINESS, score=0.9),
    item(
        4,
        "Isaiah Langer",
        K.CAREER_PATH,
        target_label="Senior Engineer",
        evidence="1 development action, 1 goal",
    ),
    item(3, "Adele Vance", K.CROSS_FUNCTIONAL, evidence="2 feedback items"),
    item(5, "Grady Archie", K.DEVELOPMENT_OBJECTIVE, evidence="1 competency assessment"),
    item(6, "Lidia Holloway", K.FLIGHT_RISK, evidence="1 review score, 3 figures"),
)

CARDS: dict[str, Callable[[], dict[str, Any]]] = {
    "one": lambda: cards.digest_card(digest(FIVE[:1])),
    "five-with-more": lambda: cards.digest_card(digest(FIVE, total=23)),
    "links": lambda: cards.digest_card(
        digest(FIVE),
        plan_links={i.person_id: f"https://trellis.example/tabs/development/{i.person_id}" for i in FIVE},
    ),
    "tricky-names": lambda: cards.digest_card(
        digest((item(7, TRICKY, K.DEVELOPMENT_PROGRAM), item(8, "x" * 300, K.PROMOTION_READINESS)))
    ),
}


@pytest.mark.parametrize("name", CARDS)
async def test_card_passes_rules_and_renders(name: str, card_validator: CardValidator) -> None:
    card = CARDS[name]()
    report = await validate_card(card)
    assert report["texts"]
    assert card_size_bytes(card) < 80_000


async def test_the_digest_counts_lists_the_strongest_and_says_who_sees_it(
    card_validator: CardValidator,
) -> None:
    card = cards.digest_card(digest(FIVE, total=23))
    texts = (await validate_card(card))["texts"]
    assert "Growth suggestions for your team · June 2026" in texts
    assert "Trellis found 23 suggestions about 4 people in your line." in texts
    assert (
        "Isaiah Langer did well on stretch assignments: a next step on their career path (Senior Engineer)."
        in texts
    )
    assert "Career path · based on 1 development action, 1 goal" in texts
    assert "18 more in the counts above." in texts
    assert any("The people they are about don't see them." in t for t in texts)
    facts = next(el for el in card["body"] if el["type"] == "FactSet")["facts"]
    assert facts[0] == {"title": "Promotion readiness", "value": "1"}
    assert "actions" not in card  # no links without the tabs' address, and no verbs at all
    assert cards.digest_summary(digest(FIVE, total=23)) == "23 growth suggestions for your team this month"
    assert cards.digest_summary(digest(FIVE[:1])) == "1 growth suggestion for your team this month"


def test_links_go_to_each_listed_persons_development_plan_once() -> None:
    links = {i.person_id: f"https://trellis.example/tabs/development/{i.person_id}" for i in FIVE}
    card = cards.digest_card(digest(FIVE), plan_links=links)
    assert [(a["type"], a["title"], a["url"]) for a in card["actions"]] == [
        ("Action.OpenUrl", "Adele Vance's plan", links[3]),
        ("Action.OpenUrl", "Isaiah Langer's plan", links[4]),
        ("Action.OpenUrl", "Grady Archie's plan", links[5]),
        ("Action.OpenUrl", "Lidia Holloway's plan", links[6]),
    ]


async def test_names_show_exactly_as_written(card_validator: CardValidator) -> None:
    report = await validate_card(cards.digest_card(digest((item(7, TRICKY, K.DEVELOPMENT_PROGRAM),))))
    assert any(TRICKY in t.replace("\u2060", "") for t in report["texts"])
