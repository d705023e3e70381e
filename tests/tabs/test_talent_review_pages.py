"""The Talent review tab over HTTP: the list (and HR's form opening a review), the 9-box, moving people with
a reason in calibration (the no-JavaScript Move form), HR's buttons, and the ratings page; who sees what
(never oneself), refusals and bad input with what was typed kept.

The small organization of conftest.py (Patti → Alex → Adele, Isaiah; Lee reports to Patti; the QA tester,
whose name is markup, reports to Megan, who is HR), in its own SQLite file. One performance cycle,
"2026-H1 review", reviewed Adele, Isaiah, Alex, Lee and the tester and is closed, with final scores
Adele 4.50, Isaiah 2.00, Alex 3.00, Lee 3.50, the tester 4.00; a second cycle is still in calibration.
Lee is a talent reviewer for Engineering. The server's clock is fixed at NOW.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.access import load_actor
from domain.performance import calibration, review_cycles, review_templates, reviews
from domain.performance.review_views import (
    FIVE_POINT_SCALE,
    AnswerInput,
    CycleDeadlines,
    ItemInput,
    ItemKind,
    ParticipantRule,
    Phase,
    ReviewerRole,
    SectionInput,
    SectionKind,
)
from domain.talent import talent_reviews
from storage.models import (
    AuditEntry,
    Review,
    RoleGrant,
    TalentReview,
    TalentReviewEntry,
    TalentReviewMove,
)
from storage.uow import unit_of_work
from tabs import talent_review_pages
from tabs.settings import TabSettings
from tests.support.reviews import MANAGER_AND_SELF

from .conftest import (
    ISAIAH,
    LEAVER,
    PATTI,
    PERSONAS,
    TENANT,
    XSS_NAME,
    SignIn,
    get_page,
    person_ids,
    persona_clients,
    post_form,
    tab_server,
    world_store,
)
from .conftest import visible_text as _text

NOW = datetime(2026, 9, 1, 9, tzinfo=UTC)
BUILD = datetime(2026, 5, 1, 9, tzinfo=UTC)
PEOPLE_PERSONAS = {
    **PERSONAS,
    "isaiah": (TENANT, ISAIAH),
    "lee": (TENANT, LEAVER),
    "patti": (TENANT, PATTI),
}
SECTIONS = (
    SectionInput(
        SectionKind.COMPETENCIES,
        "Competencies",
        100,
        MANAGER_AND_SELF,
        (ItemInput("Communication"), ItemInput("Delivery")),
    ),
    SectionInput(
        SectionKind.QUESTIONS, "Summary", 0, MANAGER_AND_SELF, (ItemInput("What went well?", ItemKind.TEXT),)
    ),
)
# Final scores of the closed cycle: with thresholds 2.5 and 4, Adele and the tester are high performers,
# Alex and Lee medium, Isaiah low.
SCORES = {"adele": "4.5", "isaiah": "2", "alex": "3", "lee": "3.5", "tester": "4"}


@dataclass(frozen=True)
class TalentWorld:
    """A tab server (dev sign-in, clock at NOW) on the cycles above; person and cycle ids by name."""

    base_url: str
    sessions: async_sessionmaker[AsyncSession]
    people: dict[str, int]
    closed_cycle: int
    open_cycle: int


async def _manager_review(db: AsyncSession, cycle_id: int, reviewee: int, reviewer) -> None:
    review_id = await db.scalar(
        select(Review.id).where(
            Review.cycle_id == cycle_id,
            Review.reviewee_id == reviewee,
            Review.role == ReviewerRole.MANAGER.value,
        )
    )
    form = await reviews.review_form(db, actor=reviewer, review_id=review_id, now=BUILD)
    for section in form.sections:
        answers = {
            i.key: AnswerInput(rating=3) if i.kind is ItemKind.RATING else AnswerInput(text="Fine")
            for i in section.items
        }
        form = await reviews.save_step(
            db,
            actor=reviewer,
            review_id=review_id,
            section_id=section.id,
            answers=answers,
            expected_version=form.version,
            now=BUILD,
        )
    await reviews.submit_review(db, actor=reviewer, review_id=review_id, now=BUILD)


async def _build(sessions: async_sessionmaker[AsyncSession]) -> tuple[dict[str, int], int, int]:
    async with unit_of_work(sessions) as db:
        people = await person_ids(db)
        who = {name: await load_actor(db, pid) for name, pid in people.items()}
        megan = who["megan"]
        db.add(RoleGrant(person_id=people["lee"], role="talent_reviewer", scope_department="Engineering"))
        template = await review_templates.create_template(
            db, actor=megan, name="Half-year review", scale=FIVE_POINT_SCALE, sections=SECTIONS, now=BUILD
        )
        cycles = []
        for name, start in (("2026-H1 review", date(2026, 1, 1)), ("2026-Q3 check", date(2026, 7, 1))):
            cycle = await review_cycles.create_cycle(
                db,
                actor=megan,
                name=name,
                template_id=template.id,
                period_start=start,
                period_end=date(start.year, start.month + 2, 28),
                deadlines=CycleDeadlines(
                    self_review=date(2026, 5, 8),
                    manager_review=date(2026, 5, 15),
                    calibration=date(2026, 5, 22),
                    acknowledgement=date(2026, 5, 29),
                ),
                participants=ParticipantRule.people([people[k] for k in SCORES]),
                now=BUILD,
            )
            await review_cycles.launch_cycle(db, actor=megan, cycle_id=cycle.id, now=BUILD)
            await review_cycles.advance(
                db, actor=megan, cycle_id=cycle.id, to=Phase.MANAGER_REVIEW, now=BUILD
            )
            managers = {"adele": "alex", "isaiah": "alex", "alex": "patti", "lee": "patti", "tester": "megan"}
            for reviewee, manager in managers.items():
                await _manager_review(db, cycle.id, people[reviewee], who[manager])
            await review_cycles.advance(db, actor=megan, cycle_id=cycle.id, to=Phase.CALIBRATION, now=BUILD)
            cycles.append(cycle.id)
        for key, score in SCORES.items():
            if score != "3":
                await calibration.calibrate(
                    db,
                    actor=megan,
                    cycle_id=cycles[0],
                    person_id=people[key],
                    score=score,
                    reason="Calibrated",
                    now=BUILD,
                )
        for phase in (Phase.RELEASED, Phase.CLOSED):
            await review_cycles.advance(db, actor=megan, cycle_id=cycles[0], to=phase, now=BUILD)
    return people, cycles[0], cycles[1]


@pytest.fixture(scope="module")
async def talent_world(
    tmp_path_factory: pytest.TempPathFactory, tab_settings: TabSettings
) -> AsyncIterator[TalentWorld]:
    """A tab server on its own database of the cycles above."""
    async with world_store(tmp_path_factory, "talent") as sessions:
        people, closed, still_open = await _build(sessions)
        async with tab_server(
            sessions, tab_settings, personas=PEOPLE_PERSONAS, clock=lambda: NOW
        ) as base_url:
            yield TalentWorld(base_url, sessions, people, closed, still_open)


async def new_review(
    world: TalentWorld,
    name: str,
    *,
    ratings: dict[str, tuple[int, int, int, int, int]] | None = None,
    to: str = "rating",
    opened: bool = False,
) -> int:
    """A talent review over the closed cycle, built by Megan (HR) through the service; Alex rates his line
    and Megan everyone else as `ratings` says (ability, aspiration, engagement, risk, impact)."""
    async with unit_of_work(world.sessions) as db:
        megan = await load_actor(db, world.people["megan"])
        alex = await load_actor(db, world.people["alex"])
        summary = await talent_reviews.open_talent_review(
            db,
            actor=megan,
            name=name,
            performance_cycle_id=world.closed_cycle,
            medium_from="2.5",
            high_from="4",
            now=NOW,
        )
        for key, levels in (ratings or {}).items():
            await talent_reviews.rate(
                db,
                actor=alex if key in ("adele", "isaiah") else megan,
                talent_review_id=summary.id,
                person_id=world.people[key],
                ability=levels[0],
                aspiration=levels[1],
                engagement=levels[2],
                risk_of_loss=levels[3],
                impact_of_loss=levels[4],
                version=0,
                now=NOW,
            )
        if to in ("calibration", "finalized"):
            await talent_reviews.start_calibration(db, actor=megan, talent_review_id=summary.id, now=NOW)
        if to == "finalized":
            await talent_reviews.finalize(db, actor=megan, talent_review_id=summary.id, now=NOW)
        if opened:
            await talent_reviews.set_opened_to_managers(
                db, actor=megan, talent_review_id=summary.id, opened=True, now=NOW
            )
    return summary.id


# Adele: 3+3+3 → high potential, high performance: Star, a high potential. Isaiah 2+2+2 → medium, low
# performance: Dilemma. Alex 1+1+2 → low, medium performance: Effective. Lee 3+3+2 → high, medium: Growth.
# The tester is not rated: not placed.
RATED = {
    "adele": (3, 3, 3, 2, 3),
    "isaiah": (2, 2, 2, 1, 1),
    "alex": (1, 1, 2, 1, 2),
    "lee": (3, 3, 2, 3, 3),
}


@pytest.fixture
async def signed_in(talent_world: TalentWorld) -> AsyncIterator[SignIn]:
    """Sign in as a persona: `client = await signed_in("hr")`."""
    async with persona_clients(talent_world.base_url) as sign_in:
        yield sign_in


def _cells(html: str) -> dict[str, list[str]]:
    """Cell label → the names on its chips, from the 9-box page."""
    cells = {}
    for match in re.finditer(
        r'<section class="nb-cell[^"]*" id="cell-[^"]+"[^>]*data-label="([^"]*)"(.*?)</section>', html, re.S
    ):
        names = re.findall(r'<span class="nb-chip__name">([^<]*)</span>', match.group(2))
        cells[htmllib.unescape(match.group(1))] = [htmllib.unescape(n) for n in names]
    return cells


def _without_tokens(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", html)


def _section(html: str, section_id: str) -> str:
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', html, re.S)
    assert match, f"no section {section_id}"
    return match.group(0)


async def _count(world: TalentWorld, model, *where) -> int:
    async with world.sessions() as db:
        return await db.scalar(select(func.count()).select_from(model).where(*where))


# --- the list and opening a review --------------------------------------------------------------------------


async def test_hr_opens_a_talent_review_from_the_list(talent_world: TalentWorld, signed_in) -> None:
    megan = await signed_in("hr")
    status, html = await get_page(megan, "/tabs/talent/reviews")
    assert status == 200
    form = _section(html, "open")
    assert "2026-H1 review (scale 1 to 5)" in form
    assert "2026-Q3 check" not in form, "only closed cycles can be read"
    assert 'aria-current="page"' in html and "Talent reviews</a>" in html

    status, _, location = await post_form(
        megan,
        "/tabs/talent/reviews",
        {
            "name": "Opened from the tab",
            "cycle": str(talent_world.closed_cycle),
            "medium_from": "2.5",
            "high_from": "4",
            **{f"label_{i}": label for i, label in enumerate(talent_reviews.DEFAULT_BOX_LABELS)},
        },
    )
    assert status == 303, _
    async with talent_world.sessions() as db:
        review = await db.scalar(select(TalentReview).where(TalentReview.name == "Opened from the tab"))
    assert location == f"/tabs/talent/reviews/{review.id}"
    assert review.box_labels is None, "the default names are not stored"
    status, html = await get_page(megan, location)
    assert status == 200
    assert list(_cells(html)) == [
        "Enigma",
        "Growth",
        "Star",
        "Dilemma",
        "Core",
        "High impact",
        "Underperformer",
        "Effective",
        "Trusted pro",
    ]
    assert "Not placed (5)" in _text(html), "nobody rated yet"


@pytest.mark.parametrize(
    ("changes", "field_id", "words"),
    [
        ({"name": " "}, "tr-name", "Name the talent review"),
        ({"cycle": ""}, "tr-cycle", "Choose the closed performance cycle it reads."),
        ({"cycle": "open"}, "tr-cycle", "is in calibration: a talent review reads a closed cycle's results"),
        ({"cycle": "999999"}, "tr-cycle", "That review cycle does not exist."),
        ({"medium_from": "4", "high_from": "3"}, "tr-high", "The thresholds are out of order"),
        ({"high_from": "6"}, "tr-high", "1 to 5: 6 is outside it"),
        ({"label_4": "  "}, "tr-label-4", "Cell name 5 is empty: name every cell."),
    ],
)
async def test_bad_input_opening_a_review_is_shown_next_to_its_field(
    talent_world: TalentWorld, signed_in, changes, field_id, words
) -> None:
    megan = await signed_in("hr")
    before = await _count(talent_world, TalentReview)
    data = {
        "name": "Typed <b>name</b>",
        "cycle": str(talent_world.closed_cycle),
        "medium_from": "2.5",
        "high_from": "4",
        **{f"label_{i}": label for i, label in enumerate(talent_reviews.DEFAULT_BOX_LABELS)},
    } | changes
    if data["cycle"] == "open":
        data["cycle"] = str(talent_world.open_cycle)
    status, html, _ = await post_form(megan, "/tabs/talent/reviews", data)
    assert status == 400
    assert words in htmllib.unescape(html)
    field = re.search(rf'<(input|select) id="{field_id}"[^>]*>', html, re.S)
    assert field and 'aria-invalid="true"' in field.group(0), field_id
    if changes.get("name") != " ":
        assert 'value="Typed &lt;b&gt;name&lt;/b&gt;"' in html, "what was typed is kept"
    assert await _count(talent_world, TalentReview) == before


async def test_only_hr_opens_a_review(talent_world: TalentWorld, signed_in) -> None:
    alex = await signed_in("manager")
    _, html = await get_page(alex, "/tabs/talent/reviews")
    assert 'id="open"' not in html
    status, _, _ = await post_form(
        alex,
        "/tabs/talent/reviews",
        {"name": "Mine", "cycle": str(talent_world.closed_cycle), "medium_from": "2", "high_from": "4"},
    )
    assert status == 403
    megan = await signed_in("hr")
    status, _, _ = await post_form(megan, "/tabs/talent/reviews", {"name": "x"}, csrf_from=None)
    assert status == 403, "no CSRF token"
    assert await _count(talent_world, TalentReview, TalentReview.name.in_(["Mine", "x"])) == 0


async def test_the_list_as_each_person_sees_it(talent_world: TalentWorld, signed_in) -> None:
    review_id = await new_review(talent_world, "Listed review", ratings={"adele": RATED["adele"]})
    alex = await signed_in("manager")
    _, html = await get_page(alex, "/tabs/talent/reviews")
    item = re.search(r'<li class="rv-item tr-review">(?:(?!</li>).)*Listed review.*?</li>', html, re.S).group(
        0
    )
    assert f'href="/tabs/talent/reviews/{review_id}/ratings"' in item, "the 9-box is not opened to him"
    assert "You rate 2: 1 rated so far." in _text(item)
    adele = await signed_in("employee")
    status, html = await get_page(adele, "/tabs/talent/reviews")
    assert status == 200
    assert "There is no talent review for you to take part in." in html
    assert "Listed review" not in html


# --- the 9-box ----------------------------------------------------------------------------------------------


async def test_the_9_box_places_people_as_chips(talent_world: TalentWorld, signed_in) -> None:
    review_id = await new_review(talent_world, "Placed review", ratings=RATED)
    megan = await signed_in("hr")
    async with megan.get(f"/tabs/talent/reviews/{review_id}", allow_redirects=False) as response:
        assert response.status == 200
        csp = response.headers["Content-Security-Policy"]
        html = await response.text()
    assert "style-src 'self'" in csp
    assert " style=" not in html and "<style" not in html, "no inline style under the CSP"
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "no inline script"
    cells = _cells(html)
    assert cells["Star"] == ["Adele Vance"]
    assert cells["Dilemma"] == ["Isaiah Langer"]
    assert cells["Effective"] == ["Alex Wilber"]
    assert cells["Growth"] == ["Lee Leaving"]
    assert sum(len(names) for names in cells.values()) == 4
    unplaced = _section(html, "unplaced")
    assert "Not placed (1)" in _text(unplaced)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in unplaced and XSS_NAME not in html
    star = re.search(r'id="cell-3-3".*?</section>', html, re.S).group(0)
    assert "High potential" in _text(star), "the marker is text, not colour alone"
    assert "Score 4.50 · risk of loss medium · impact high" in _text(star)
    assert "Senior Software Engineer" in star
    # In rating nothing is movable yet; no drag and drop script either.
    assert "nb-move" not in html and "ninebox.js" not in html and 'draggable="true"' not in html
    assert "Start calibration" in html and "Open to managers" in html
    audited = await _count(
        talent_world,
        AuditEntry,
        AuditEntry.action == "talent.review.view",
        AuditEntry.subject_id == review_id,
    )
    assert audited >= 1


async def test_one_cell_in_full_is_paged(talent_world: TalentWorld, signed_in, monkeypatch) -> None:
    monkeypatch.setattr(talent_review_pages, "EXPANDED_PER_PAGE", 2)
    review_id = await new_review(talent_world, "Paged review", to="calibration")  # all five not placed
    megan = await signed_in("hr")
    page = f"/tabs/talent/reviews/{review_id}"
    seen: list[str] = []
    for number, shown in ((1, "1\u20132 by name"), (2, "3\u20134 by name"), (3, "5 by name")):
        status, html = await get_page(megan, page, cell="unplaced", page=number)
        assert status == 200
        text = _text(html)
        assert f"Showing everyone in “Not placed”, {shown}." in text
        assert f"Page {number} of 3" in text
        assert ("Previous" in text) == (number > 1) and ("Next" in text) == (number < 3)
        unplaced = _section(html, "unplaced")
        names = [
            htmllib.unescape(n) for n in re.findall(r'<span class="nb-chip__name">([^<]*)</span>', unplaced)
        ]
        assert len(names) == (2 if number < 3 else 1)
        assert "more" not in _text(unplaced), "no link to the cell it already shows"
        # A move from a later page comes back to it.
        assert ('<input type="hidden" name="page" value="2">' in unplaced) == (number == 2)
        seen += names
    assert sorted(seen) == sorted(["Adele Vance", "Isaiah Langer", "Alex Wilber", "Lee Leaving", XSS_NAME]), (
        "each person on one page"
    )
    status, html = await get_page(megan, page, cell="unplaced", page=9)
    assert status == 200 and "nobody on this page" in _text(html) and "Page 9 of 3" in _text(html)


async def test_moving_a_chip_with_the_form_lands_it_in_the_cell_with_the_history_line(
    talent_world: TalentWorld, signed_in
) -> None:
    review_id = await new_review(talent_world, "Move review", ratings=RATED, to="calibration")
    megan = await signed_in("hr")
    page = f"/tabs/talent/reviews/{review_id}"
    _, html = await get_page(megan, page)
    assert 'draggable="true"' in html and "/tabs/static/ninebox.js" in html
    isaiah = talent_world.people["isaiah"]
    options = re.search(rf'<select id="box-{isaiah}".*?</select>', html, re.S).group(0)
    assert "Dilemma" not in options and ">Core (medium potential, medium performance)<" in options

    status, _, location = await post_form(
        megan,
        f"{page}/move",
        {"person_id": isaiah, "box": "2-2", "reason": "Carried the migration <b>alone</b>"},
    )
    assert status == 303
    assert location == f"{page}?moved={isaiah}#history"
    _, html = await get_page(megan, location.split("#")[0])
    assert "Moved Isaiah Langer to Core." in _text(html)
    cells = _cells(html)
    assert cells["Core"] == ["Isaiah Langer"] and cells["Dilemma"] == []
    history = _section(html, "history")
    assert "Isaiah Langer Dilemma → Core" in _text(history)
    assert "by Megan Bowen" in _text(history)
    assert "Carried the migration &lt;b&gt;alone&lt;/b&gt;" in history
    assert await _count(talent_world, TalentReviewMove, TalentReviewMove.reason.like("Carried%")) == 1


@pytest.mark.parametrize(
    ("data", "field_id", "words"),
    [
        (
            {"box": "2-2", "reason": "   "},
            "reason",
            "A move needs a reason: say why Isaiah Langer belongs in Core.",
        ),
        ({"box": "", "reason": "Because"}, "box", "Choose the cell to move them to."),
        (
            {"box": "1-2", "reason": "Because"},
            "box",
            "Isaiah Langer is in Dilemma already: choose another cell.",
        ),
        ({"box": "4-2", "reason": "Because"}, "box", "Performance must be 1 (low), 2 (medium) or 3 (high)"),
    ],
)
async def test_a_refused_move_is_shown_in_that_persons_form_with_what_was_typed(
    talent_world: TalentWorld, signed_in, data, field_id, words
) -> None:
    review_id = await new_review(
        talent_world, f"Refused move {field_id} {data['box']}", ratings=RATED, to="calibration"
    )
    megan = await signed_in("hr")
    isaiah = talent_world.people["isaiah"]
    status, html, _ = await post_form(
        megan, f"/tabs/talent/reviews/{review_id}/move", {"person_id": isaiah, **data}
    )
    assert status == 400
    chip = re.search(rf'<li class="nb-chip[^"]*" id="person-{isaiah}".*?</li>', html, re.S).group(0)
    assert '<details class="nb-move" open>' in chip, "his form is open"
    assert words in htmllib.unescape(chip)
    field = re.search(rf'<(select|textarea) id="{field_id}-{isaiah}"[^>]*>', chip, re.S).group(0)
    assert 'aria-invalid="true"' in field
    if data["reason"].strip():
        assert f">{data['reason']}</textarea>" in chip, "the reason typed is kept"
    if data["box"] == "2-2":
        assert '<option value="2-2" selected>' in chip
    assert _cells(html)["Dilemma"] == ["Isaiah Langer"]
    assert (
        await _count(
            talent_world,
            TalentReviewMove,
            TalentReviewMove.entry_id.in_(
                select(TalentReviewEntry.id).where(TalentReviewEntry.talent_review_id == review_id)
            ),
        )
        == 0
    )


async def test_moves_only_in_calibration_and_hr_buttons(talent_world: TalentWorld, signed_in) -> None:
    review_id = await new_review(talent_world, "Buttons review", ratings=RATED)
    megan = await signed_in("hr")
    page = f"/tabs/talent/reviews/{review_id}"
    adele = talent_world.people["adele"]
    status, html, _ = await post_form(
        megan, f"{page}/move", {"person_id": adele, "box": "2-2", "reason": "Early"}
    )
    assert status == 400
    assert "People are moved between cells during calibration: this talent review is in rating." in html

    status, _, location = await post_form(megan, f"{page}/status", {"action": "start_calibration"})
    assert (status, location) == (303, f"{page}?done=start_calibration")
    _, html = await get_page(megan, page, done="start_calibration")
    assert "Done: start calibration." in html and "Finalize" in html
    status, _, _ = await post_form(
        megan, f"{page}/move", {"person_id": adele, "box": "2-2", "reason": "Panel view"}
    )
    assert status == 303
    status, _, _ = await post_form(megan, f"{page}/status", {"action": "finalize"})
    assert status == 303
    status, html, _ = await post_form(
        megan, f"{page}/move", {"person_id": adele, "box": "3-3", "reason": "Late"}
    )
    assert status == 400 and "finalized, and nothing in it can change any more" in html
    _, html = await get_page(megan, page)
    assert "Finalized: nothing in this review changes any more." in html and "nb-move" not in html
    status, html, _ = await post_form(megan, f"{page}/status", {"action": "dance"})
    assert status == 400 and "Choose one of the buttons" in html

    alex = await signed_in("manager")
    status, _, _ = await post_form(alex, f"{page}/status", {"action": "open"})
    assert status == 403


async def test_managers_see_their_line_only_once_hr_opens_it(talent_world: TalentWorld, signed_in) -> None:
    review_id = await new_review(talent_world, "Opened review", ratings=RATED, to="calibration")
    page = f"/tabs/talent/reviews/{review_id}"
    alex = await signed_in("manager")
    status, _ = await get_page(alex, page)
    assert status == 302
    status, html = await get_page(alex, f"{page}/ratings", grid="closed")
    assert status == 200 and "HR has not opened this review's 9-box to managers" in html

    megan = await signed_in("hr")
    status, _, _ = await post_form(megan, f"{page}/status", {"action": "open"})
    assert status == 303
    status, html = await get_page(alex, page)
    assert status == 200
    names = {name for names in _cells(html).values() for name in names}
    assert names == {"Adele Vance", "Isaiah Langer"}, "his line only, never himself"
    assert "Alex Wilber" not in _section(html, "history") and "nb-move" not in html
    assert "Running the review" not in html


async def test_the_person_discussed_reads_nothing_about_themselves(
    talent_world: TalentWorld, signed_in
) -> None:
    review_id = await new_review(talent_world, "Secret review", ratings=RATED, to="calibration", opened=True)
    megan = await signed_in("hr")
    adele_id = talent_world.people["adele"]
    await post_form(
        megan,
        f"/tabs/talent/reviews/{review_id}/move",
        {"person_id": adele_id, "box": "2-3", "reason": "Adele-secret"},
    )
    adele = await signed_in("employee")
    for path in (f"/tabs/talent/reviews/{review_id}", f"/tabs/talent/reviews/{review_id}/ratings"):
        status, html = await get_page(adele, path)
        assert status == 404, path  # the answer a review that does not exist gets
        _, nothing = await get_page(adele, path.replace(str(review_id), "999999"))
        assert _without_tokens(html) == _without_tokens(nothing)
        assert "Adele-secret" not in html and "Growth" not in html and "Star" not in html
    status, html, _ = await post_form(
        adele, f"/tabs/talent/reviews/{review_id}/move", {"person_id": adele_id, "box": "3-3", "reason": "Me"}
    )
    assert status == 404
    status, html, _ = await post_form(
        adele,
        f"/tabs/talent/reviews/{review_id}/ratings",
        {
            "person_id": adele_id,
            "version": "1",
            **dict.fromkeys(("ability", "aspiration", "engagement", "risk_of_loss", "impact_of_loss"), "3"),
        },
    )
    assert status == 404
    # Lee, a talent reviewer for Engineering: his department's people, not himself, not the QA tester.
    lee = await signed_in("lee")
    status, html = await get_page(lee, f"/tabs/talent/reviews/{review_id}")
    assert status == 200
    names = {name for names in _cells(html).values() for name in names}
    assert names == {"Adele Vance", "Isaiah Langer", "Alex Wilber"}
    main = html.split("<main", 1)[1]
    assert "Lee Leaving" not in main and "&lt;script&gt;alert(1)" not in main


# --- ratings ------------------------------------------------------------------------------------------------


async def _rating_form(html: str, person_id: int) -> str:
    return re.search(rf'<li class="card tr-rate" id="person-{person_id}">.*?</li>', html, re.S).group(0)


async def test_a_manager_rates_his_line(talent_world: TalentWorld, signed_in) -> None:
    review_id = await new_review(talent_world, "Rating review")
    alex = await signed_in("manager")
    page = f"/tabs/talent/reviews/{review_id}/ratings"
    status, html = await get_page(alex, page)
    assert status == 200
    people = re.findall(r'<h2 class="tr-rate__name"[^>]*>([^<]*)</h2>', html)
    assert people == ["Adele Vance", "Isaiah Langer"]
    adele = talent_world.people["adele"]
    assert 'name="version" value="0"' in await _rating_form(html, adele)

    fields = {
        "ability": "3",
        "aspiration": "3",
        "engagement": "2",
        "risk_of_loss": "1",
        "impact_of_loss": "3",
    }
    status, _, location = await post_form(
        alex,
        page,
        {"person_id": adele, "version": "0", "high_potential": "", "notes": "Leads <i>well</i>", **fields},
    )
    assert status == 303 and location == f"{page}?page=1&saved={adele}#person-{adele}"
    _, html = await get_page(alex, page, saved=adele)
    assert "Saved: Adele Vance's potential is high." in html
    form = await _rating_form(html, adele)
    assert 'name="version" value="1"' in form
    assert '<option value="3" selected>High</option>' in form
    assert "Leads &lt;i&gt;well&lt;/i&gt;</textarea>" in form
    assert "High potential" in _text(form)

    # A double submit of the same form (version 0) writes once.
    status, _, _ = await post_form(
        alex, page, {"person_id": adele, "version": "0", "notes": "Leads <i>well</i>", **fields}
    )
    assert status == 303
    async with talent_world.sessions() as db:
        stored = await db.scalar(
            select(TalentReviewEntry).where(
                TalentReviewEntry.talent_review_id == review_id, TalentReviewEntry.person_id == adele
            )
        )
    assert (stored.version, stored.potential, stored.high_potential) == (1, 3, True)


@pytest.mark.parametrize(
    ("changes", "field_id", "words"),
    [
        ({"ability": "7"}, "ability", "Ability must be 1 (low), 2 (medium) or 3 (high), not “7”."),
        (
            {"engagement": ""},
            "engagement",
            "Engagement must be 1 (low), 2 (medium) or 3 (high), not nothing.",
        ),
        ({"high_potential": "maybe"}, "high_potential", "Choose whether they are a high potential"),
        ({"notes": "n" * 4001}, "notes", "too long: at most 4000 characters"),
    ],
)
async def test_a_refused_rating_is_shown_next_to_its_field_with_what_was_typed(
    talent_world: TalentWorld, signed_in, changes, field_id, words
) -> None:
    review_id = await new_review(talent_world, f"Refused rating {field_id}")
    alex = await signed_in("manager")
    page = f"/tabs/talent/reviews/{review_id}/ratings"
    isaiah = talent_world.people["isaiah"]
    data = {
        "person_id": str(isaiah),
        "version": "0",
        "ability": "2",
        "aspiration": "3",
        "engagement": "1",
        "risk_of_loss": "2",
        "impact_of_loss": "2",
        "high_potential": "",
        "notes": "Typed notes",
    } | changes
    status, html, _ = await post_form(alex, page, data)
    assert status == 400
    form = await _rating_form(html, isaiah)
    assert words in htmllib.unescape(form)
    field = re.search(rf'<(select|textarea) id="{field_id}-{isaiah}"[^>]*>', form, re.S).group(0)
    assert 'aria-invalid="true"' in field
    assert '<option value="3" selected>High</option>' in re.search(
        rf'<select id="aspiration-{isaiah}".*?</select>', form, re.S
    ).group(0), "what was typed is kept"
    if field_id != "notes":
        assert ">Typed notes</textarea>" in form
    assert (
        await _count(
            talent_world,
            TalentReviewEntry,
            TalentReviewEntry.talent_review_id == review_id,
            TalentReviewEntry.rated_at.is_not(None),
        )
        == 0
    )


async def test_a_stale_rating_shows_the_latest_values_and_keeps_what_was_typed(
    talent_world: TalentWorld, signed_in
) -> None:
    review_id = await new_review(talent_world, "Stale review", ratings={"adele": RATED["adele"]})
    lynne_like = await signed_in("hr")  # Megan read the page before Alex's rating
    page = f"/tabs/talent/reviews/{review_id}/ratings"
    adele = talent_world.people["adele"]
    data = {
        "person_id": str(adele),
        "version": "0",
        "ability": "1",
        "aspiration": "1",
        "engagement": "1",
        "risk_of_loss": "3",
        "impact_of_loss": "3",
    }
    status, html, _ = await post_form(lynne_like, page, data)
    assert status == 409
    form = await _rating_form(html, adele)
    assert "Someone saved Adele Vance's ratings meanwhile: ability high, aspiration high" in htmllib.unescape(
        form
    )
    assert 'name="version" value="1"' in form, "saving again is now a deliberate choice"
    assert '<option value="1" selected>Low</option>' in form
    status, _, _ = await post_form(lynne_like, page, data | {"version": "1"})
    assert status == 303


async def test_hr_pages_through_the_ratings_and_sees_them_read_only_after_rating(
    talent_world: TalentWorld, signed_in
) -> None:
    review_id = await new_review(talent_world, "Read-only review", ratings=RATED, to="calibration")
    megan = await signed_in("hr")
    status, html = await get_page(megan, f"/tabs/talent/reviews/{review_id}/ratings")
    assert status == 200
    assert re.findall(r'<h2 class="tr-rate__name"[^>]*>([^<]*)</h2>', html) == [
        XSS_NAME.replace("<", "&lt;").replace(">", "&gt;"),
        "Adele Vance",
        "Alex Wilber",
        "Isaiah Langer",
        "Lee Leaving",
    ]
    assert "tr-rate__form" not in html
    assert "Ratings are given while the review is in rating" in html
    assert "<dt>Ability</dt><dd>High</dd>" in html
