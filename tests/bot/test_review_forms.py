"""The review form's cards when things go wrong: a rating outside the scale (forged), a required question
left empty (the card names it and opens its step), submitting after the phase closed, someone else's
review id, a card gone stale in another window; and the cards' limits (long sections split into parts,
every card under 80 KB and rendered by the real renderer). Nothing is written on a refusal.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from adaptive_cards.elements import MAX_CARD_BYTES, card_size_bytes
from adaptive_cards.review_nudges import review_nudge_card
from adaptive_cards.review_payloads import Picked, parse_picked
from adaptive_cards.review_results import review_result_card
from adaptive_cards.reviews import my_reviews_card, review_step_card, step_pages
from domain.nudges import nudge_time
from domain.performance.review_nudges import Delivery, NudgeItem, ReviewNudge, Why
from domain.performance.review_views import (
    FIVE_POINT_SCALE,
    AnonymousReviews,
    AnswerView,
    DueWhat,
    FormItem,
    FormSection,
    ItemAggregate,
    ItemKind,
    MyReviews,
    Phase,
    ReviewerRole,
    ReviewFormView,
    ReviewResultView,
    ReviewStatus,
    ReviewTask,
    ScoreView,
    SectionAggregate,
    SectionKind,
    SectionScore,
    SubmittedReview,
)
from storage import demo
from storage.models import Review, ReviewAnswer
from tests.conftest import RunningTrellis, serving
from tests.support import reviews as kit
from tests.support.cards import card_validator, validate_card  # noqa: F401
from tests.support.clock import Clock
from tests.support.teams import Card, TeamsUser
from trellis.app import create_app

pytestmark = [pytest.mark.usefixtures("demo_org"), pytest.mark.parametrize("backend", ["sqlite"])]

UTC_ZONE = ZoneInfo("UTC")
NOW = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)  # Monday 10:00 in Los Angeles
DEADLINES = kit.Deadlines(date(2026, 3, 13), date(2026, 3, 27), date(2026, 4, 3), date(2026, 4, 17))


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest_asyncio.fixture
async def trellis(settings, engine, sessions, clock: Clock) -> AsyncIterator[RunningTrellis]:
    app = create_app(settings, clock=clock, engine=engine, sessions=sessions, run_sender=False)
    async with serving(app) as running:
        yield running


@pytest_asyncio.fixture
async def cycle(sessions, demo_org):
    return await kit.launch_cycle(sessions, people=(demo.ADELE,), deadlines=DEADLINES, now=NOW)


async def open_step(user: TeamsUser, step: int) -> Card:
    """`reviews` → Open, then Next until the step (1-based) shows (Adele has no goals: step 1 is empty)."""
    [listing] = await user.say("reviews")
    card = await user.press("Open my self review", card=listing.card)
    for _ in range(step - 1):
        card = await user.press("Next", card=card)
    return card


async def state(sessions, review_id: int) -> tuple:
    async with sessions() as session:
        review = await session.get(Review, review_id, populate_existing=True)
        answers = await session.scalar(
            select(func.count()).select_from(ReviewAnswer).where(ReviewAnswer.review_id == review_id)
        )
        return review.status, review.version, review.submitted_at, answers


async def test_a_rating_outside_the_scale_is_refused_by_name_and_nothing_is_saved(
    adele: TeamsUser, cycle, sessions
) -> None:
    step = await open_step(adele, 2)
    review_id = await kit.review_id(sessions, cycle.id, demo.ADELE, ReviewerRole.SELF)
    before = await state(sessions, review_id)
    refused = await adele.press("Next", card=step, inputs={"rating_c1": "9", "rating_c2": "4"})
    assert "Nothing was saved. Rate “Communication” with one of the 5 points of the scale offered." in (
        refused.texts()
    )
    assert "Step 2 of 3: Competencies" in refused.texts(), "the same step, to fix it"
    assert refused.inputs()["rating_c2"]["value"] == "4", "what was typed correctly is kept on the card"
    assert await state(sessions, review_id) == before
    last = await adele.press("Next", card=refused, inputs={"rating_c1": "3"})
    forged_choice = await adele.press("Save draft", card=last, inputs={"choice_q3": "Maybe"})
    assert "Nothing was saved. Choose one of the options offered for “Ready for promotion?”." in (
        forged_choice.texts()
    )


async def test_a_required_question_left_empty_is_named_and_its_step_shown(
    adele: TeamsUser, cycle, sessions
) -> None:
    step = await open_step(adele, 2)
    review_id = await kit.review_id(sessions, cycle.id, demo.ADELE, ReviewerRole.SELF)
    last = await adele.press("Next", card=step, inputs={"rating_c1": "4"})  # Delivery left empty
    missing = await adele.press("Submit", card=last, inputs={"rating_q1": "4", "text_q2": "Shipped search"})
    assert "Answer “Delivery” in “Competencies” (step 2 of 3) before you submit." in missing.texts()
    assert "Step 2 of 3: Competencies" in missing.texts(), "the card opens the step with the question"
    assert missing.inputs()["rating_c1"]["value"] == "4"
    status, *_ = await state(sessions, review_id)
    assert status == ReviewStatus.DRAFT, "not submitted; the answers typed stay saved as a draft"
    last = await adele.press("Next", card=missing, inputs={"rating_c2": "5"})
    assert last.inputs()["text_q2"]["value"] == "Shipped search"
    blank = await adele.press("Submit", card=last, inputs={"text_q2": ""})
    assert "Answer “Highlights of the quarter” in “Overall” (step 3 of 3) before you submit." in blank.texts()
    assert (await state(sessions, review_id))[0] == ReviewStatus.DRAFT


async def test_submitting_after_the_phase_closed_changes_nothing(
    adele: TeamsUser, cycle, sessions, clock
) -> None:
    last = await open_step(adele, 3)
    review_id = await kit.review_id(sessions, cycle.id, demo.ADELE, ReviewerRole.SELF)
    clock.set(datetime(2026, 3, 16, 17, tzinfo=UTC))
    await kit.advance(sessions, cycle.id, Phase.MANAGER_REVIEW, clock())
    before = await state(sessions, review_id)
    closed = await adele.press("Submit", card=last, inputs={"rating_q1": "4", "text_q2": "Late"})
    assert (
        "Nothing was saved. The self review phase of this cycle has closed (it was due on 13 March 2026): "
        "this review can't change any more." in closed.texts()
    )
    assert "Submit" not in closed.texts(), "the form is read-only now"
    assert await state(sessions, review_id) == before


async def test_someone_elses_review_id_reads_as_no_such_review_and_nothing_is_written(
    adele: TeamsUser, isaiah: TeamsUser, cycle, sessions
) -> None:
    hers = await open_step(adele, 2)
    review_id = await kit.review_id(sessions, cycle.id, demo.ADELE, ReviewerRole.SELF)
    before = await state(sessions, review_id)
    for title in ("Next", "Save draft", "Back"):
        refused = await isaiah.press(
            title, card=Card(copy.deepcopy(hers.content), None), inputs={"rating_c1": "1"}
        )
        assert "That review does not exist." in refused.texts()
    forged = copy.deepcopy(hers.content)
    forged["actions"][0]["data"]["review_id"] = review_id
    forged["actions"][0]["verb"] = "review.open"
    opened = await isaiah.press(forged["actions"][0]["title"], card=Card(forged, None))
    assert "That review does not exist." in opened.texts()
    assert await state(sessions, review_id) == before


async def test_a_card_gone_stale_in_another_window_shows_the_latest_answers_and_what_was_sent(
    adele: TeamsUser, cycle, sessions
) -> None:
    window_a = await open_step(adele, 2)
    window_b = Card(copy.deepcopy(window_a.content), window_a.activity_id)
    await adele.press("Save draft", card=window_a, inputs={"rating_c1": "4"})
    stale = await adele.press("Save draft", card=window_b, inputs={"rating_c1": "2"})
    assert any("“Communication” was changed meanwhile" in t for t in stale.texts())
    assert "Below (2)" in stale.texts() and "Above (4)" in stale.texts()
    assert stale.inputs()["rating_c1"]["value"] == "4", "the latest value is on the card"
    again = await adele.press("Save draft", card=stale, inputs={"rating_c1": "2"})
    assert "Saved “Competencies”." in again.texts(), "from the fresh card the change goes through"
    assert again.inputs()["rating_c1"]["value"] == "2"


async def test_the_submit_fallback_does_what_the_universal_action_does(adele: TeamsUser, cycle) -> None:
    """Clients without Universal Actions send the Action.Submit fallback as a message; the card is
    replaced in place the same way."""
    step = await open_step(adele, 2)
    older = copy.deepcopy(step.content)
    older["actions"] = [action["fallback"] for action in older["actions"]]
    assert all(a["type"] == "Action.Submit" for a in older["actions"])
    saved = await adele.press(
        "Next", card=Card(older, "1795000000000"), inputs={"rating_c1": "3", "rating_c2": "3"}
    )
    assert "Saved “Competencies”." in saved.texts() and "Step 3 of 3: Overall" in saved.texts()


# --- the cards' limits (pure builders, the real renderer) ------------------------------------------------

LONG = "A long answer with “quotes”, *stars* and [links](https://x.test) {{DATE(2026-01-01)}} " * 60


def big_form(items: int, *, role: ReviewerRole = ReviewerRole.MANAGER) -> ReviewFormView:
    """A 50-item section whose every answer (and the self review beside it) is 4,000 characters."""
    answer = AnswerView(4, None, LONG[:4000])
    section_items = tuple(
        FormItem(f"c{n}", ItemKind.RATING, f"Competency {n} " + "x" * 480, True, (), answer)
        for n in range(items)
    )
    section = FormSection(7, 0, SectionKind.COMPETENCIES, "Competencies", "d" * 2000, section_items)
    return ReviewFormView(
        review_id=3,
        cycle_id=1,
        cycle_name="2026-Q1 review",
        role=role,
        reviewee_id=2,
        reviewee_name="Adele Vance",
        status=ReviewStatus.DRAFT,
        version=4,
        resume_step=0,
        editable=True,
        due_on=date(2026, 3, 27),
        scale=FIVE_POINT_SCALE,
        sections=(section,),
        submitted_at=None,
        beside_self_review=SubmittedReview(ReviewerRole.SELF, NOW, (section,)),
    )


async def test_a_long_section_is_split_into_parts_that_each_fit_and_render(card_validator) -> None:
    form = big_form(50)
    parts = step_pages(form, 0)
    assert parts > 1
    seen = []
    for page in range(parts):
        card = review_step_card(form, step=0, page=page)
        assert card_size_bytes(card) < MAX_CARD_BYTES
        report = await validate_card(card)
        seen += [i for i in report["inputIds"] if i.startswith("rating_")]
        assert f"Step 1 of 1: Competencies (part {page + 1} of {parts})" in report["texts"]
    assert seen == [f"rating_c{n}" for n in range(50)], "every item once, in order"
    shown = Card(review_step_card(form, step=0, page=0), None).texts()
    assert not any("{{DATE(" in t for t in shown), "typed text shown is never evaluated by the host"


async def test_a_result_with_long_pooled_answers_fits_and_renders(card_validator) -> None:
    items = tuple(
        ItemAggregate(f"q{n}", f"Question {n}", ItemKind.TEXT, 12, True, None, (LONG,) * 12, ())
        for n in range(10)
    )
    pooled = AnonymousReviews(ReviewerRole.PEER, 12, (SectionAggregate(9, "Working together", items),))
    score = ScoreView(
        Decimal("3.90"),
        Decimal("3.90"),
        False,
        4,
        "Above",
        (SectionScore(7, "Competencies", Decimal(30), Decimal("3.9"), 3, Decimal("3.90")),),
    )
    view = ReviewResultView(
        participant_id=1,
        cycle_id=1,
        cycle_name="2026-Q1 review",
        person_id=2,
        person_name="Adele Vance",
        phase=Phase.RELEASED,
        released=True,
        self_review=None,
        score=score,
        manager_review=SubmittedReview(ReviewerRole.MANAGER, NOW, big_form(50).sections),
        peers=pooled,
        reports=None,
        acknowledged_at=None,
        acknowledgement_comment=None,
    )
    card = review_result_card(view, scale=FIVE_POINT_SCALE)
    assert card_size_bytes(card) < MAX_CARD_BYTES
    report = await validate_card(card)
    assert "Acknowledge" in report["texts"]


async def test_lists_longer_than_six_buttons_offer_the_rest_in_a_menu(card_validator) -> None:
    tasks = tuple(
        ReviewTask(
            review_id=10 + n,
            cycle_id=1,
            cycle_name="2026-Q1 review",
            role=ReviewerRole.MANAGER,
            reviewee_id=100 + n,
            reviewee_name=f"Report {n}",
            status=ReviewStatus.DRAFT if n % 2 else ReviewStatus.PENDING,
            due_on=date(2026, 3, 27),
            open=True,
            overdue=False,
        )
        for n in range(8)
    )
    listing = my_reviews_card(MyReviews(to_write=tasks, results=()), hr=True)
    report = await validate_card(listing)
    buttons = [a["title"] for a in listing["actions"]]
    assert len(buttons) == 6 and buttons[-1] == "Open chosen"
    assert (
        buttons[0] == "Open manager review of Report 0"
        and buttons[1] == "Continue manager review of Report 1"
    )
    [menu] = [i for i in report["inputIds"] if i == "picked"]
    choices = next(el for el in listing["body"] if el.get("id") == menu)["choices"]
    assert [c["title"] for c in choices] == [
        f"{'Continue' if n % 2 else 'Open'} manager review of Report {n}" for n in (5, 6, 7)
    ]
    assert parse_picked({"picked": choices[0]["value"]}) == Picked("review.open", (15,))

    when = nudge_time(NOW, time_zone="America/Los_Angeles", default_zone=UTC_ZONE)
    items = tuple(
        NudgeItem(
            DueWhat.MANAGER_REVIEW, 1, "Alex Wilber", t.review_id, t.reviewee_id, t.reviewee_name, t.status
        )
        for t in tasks
    )
    nudge = ReviewNudge(
        "review.nudge",
        1,
        "Alex Wilber",
        1,
        "2026-Q1 review",
        Phase.MANAGER_REVIEW,
        date(2026, 3, 27),
        (Why.OPENED,),
        items,
        when,
        "nudge:1:2026-03-02:review:1:manager_review",
        Delivery.NOW,
    )
    card = review_nudge_card(nudge)
    report = await validate_card(card)
    assert "Time for your 8 reviews" in report["texts"] and len(card["actions"]) == 6
