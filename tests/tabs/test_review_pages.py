"""The review tabs over HTTP: My reviews, a result with its breakdown, acknowledging, Team reviews, the Review
cycles dashboard, calibration and Review setup, for an employee, managers and HR; refusals and bad input.

The small organization of conftest.py (Patti → Alex → Adele, Isaiah; Lee reports to Patti; the QA tester
reports to Megan, who is HR), in its own SQLite file, with reviews built through the review services;
the server's clock is fixed at NOW (Monday 20 July 2026):

    A  2026-Q1 review  standard template, Adele and Isaiah        released
       Adele's goals "Ship search" and "Cut p95 latency"; peers Isaiah, Lee and Patti reviewed her;
       Alex rated her goals 5 and 3, competencies 4, 4, 3, overall 5 → 4.10; Isaiah 4.00,
       calibrated to 3.50
    B  2026-Q2 review  simple template (no peers), Adele, Isaiah   calibration
       Alex rated Adele 3, 3, 2 → 2.67 with B_SECRET; Isaiah's manager review is a draft
    C  2026-Q3 review  standard template, Patti's line             self review, due 15 July: overdue
       Isaiah submitted; Alex saved a draft; Adele and Lee have not started
    E  QA pilot        simple template, the QA department           draft

Lee is a calibration lead (talent reviewer) for Engineering; Megan is HR.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain import competencies
from domain.access import Actor, load_actor
from domain.performance import (
    calibration,
    goals,
    review_cycles,
    review_participants,
    review_templates,
    reviews,
)
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
from storage import outbox
from storage.engine import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import (
    Competency,
    OutboxMessage,
    Person,
    Review,
    ReviewCalibration,
    ReviewCycle,
    ReviewParticipant,
    ReviewTemplate,
    RoleGrant,
)
from storage.uow import unit_of_work
from tabs.routes import mount
from tabs.security import security_headers
from tabs.settings import TabSettings
from tests.support.reviews import MANAGER_AND_SELF, STANDARD_SECTIONS

from .conftest import (
    ADELE,
    ALEX,
    ISAIAH,
    LEAVER,
    MEGAN,
    PATTI,
    PERSONAS,
    TENANT,
    XSS,
    _seed,
    browser_like_jar,
    csrf_field,
    dev_sign_in,
)

NOW = datetime(2026, 7, 20, 9, tzinfo=UTC)
BUILD_A = datetime(2026, 1, 5, 9, tzinfo=UTC)
BUILD_B = datetime(2026, 6, 1, 9, tzinfo=UTC)
BUILD_C = datetime(2026, 7, 1, 9, tzinfo=UTC)
B_SECRET = "B-secret: needs to speed up"
DASH = "\u2013"
PEER_SCRIPT = "<script>alert('peer')</script>"
PEER_TEXTS = ("Pairing with juniors", "Clear design docs", PEER_SCRIPT)
REVIEW_PERSONAS = {
    **PERSONAS,
    "isaiah": (TENANT, ISAIAH),
    "lee": (TENANT, LEAVER),
    "patti": (TENANT, PATTI),
}
SIMPLE = (
    SectionInput(
        SectionKind.COMPETENCIES,
        "Competencies",
        100,
        MANAGER_AND_SELF,
        (ItemInput("Communication"), ItemInput("Delivery"), ItemInput("Ownership")),
    ),
    SectionInput(
        SectionKind.QUESTIONS, "Summary", 0, MANAGER_AND_SELF, (ItemInput("What went well?", ItemKind.TEXT),)
    ),
)


@dataclass(frozen=True)
class ReviewWorld:
    """A tab server (dev sign-in, clock at NOW) on the reviews above; person and cycle ids by name."""

    base_url: str
    sessions: async_sessionmaker[AsyncSession]
    people: dict[str, int]
    cycles: dict[str, int]


async def _fill(
    db: AsyncSession,
    actor: Actor,
    review_id: int,
    answers: dict[str, AnswerInput] | None = None,
    *,
    steps: int = 99,
) -> None:
    """Save the first `steps` steps of a form: items named in `answers` (by text) as given, other ratings 4,
    other texts "Good work", optional choices left empty."""
    form = await reviews.review_form(db, actor=actor, review_id=review_id, now=NOW)
    for section in form.sections[:steps]:
        given = {}
        for item in section.items:
            if item.text in (answers or {}):
                given[item.key] = answers[item.text]  # type: ignore[index]
            elif item.kind is ItemKind.RATING:
                given[item.key] = AnswerInput(rating=4)
            elif item.kind is ItemKind.TEXT:
                given[item.key] = AnswerInput(text="Good work")
        form = await reviews.save_step(
            db,
            actor=actor,
            review_id=review_id,
            section_id=section.id,
            answers=given,
            expected_version=form.version,
            now=NOW,
        )


async def _review_id(
    db: AsyncSession, cycle_id: int, reviewee: int, role: ReviewerRole, reviewer: int
) -> int:
    return await db.scalar(
        select(Review.id).where(
            Review.cycle_id == cycle_id,
            Review.reviewee_id == reviewee,
            Review.role == role.value,
            Review.reviewer_id == reviewer,
        )
    )


async def _build(sessions: async_sessionmaker[AsyncSession]) -> tuple[dict[str, int], dict[str, int]]:
    oids = {"adele": ADELE, "alex": ALEX, "isaiah": ISAIAH, "lee": LEAVER, "patti": PATTI, "megan": MEGAN}
    oids["tester"] = XSS
    async with unit_of_work(sessions) as db:
        by_oid = dict((await db.execute(select(Person.aad_object_id, Person.id))).all())
        people = {name: by_oid[oid] for name, oid in oids.items()}
        who = {name: await load_actor(db, pid) for name, pid in people.items()}
        megan = who["megan"]
        # Lee leads calibration for Engineering (a talent reviewer scoped to it), without being HR.
        db.add(RoleGrant(person_id=people["lee"], role="talent_reviewer", scope_department="Engineering"))

        async def submitted(cycle_id, reviewee, role, reviewer, answers=None):
            rid = await _review_id(db, cycle_id, people[reviewee], role, people[reviewer])
            await _fill(db, who[reviewer], rid, answers)
            await reviews.submit_review(db, actor=who[reviewer], review_id=rid, now=NOW)

        async def move(cycle_id, *phases):
            for phase in phases:
                await review_cycles.advance(db, actor=megan, cycle_id=cycle_id, to=phase, now=NOW)

        standard = await review_templates.create_template(
            db,
            actor=megan,
            name="Quarterly review",
            scale=FIVE_POINT_SCALE,
            sections=STANDARD_SECTIONS,
            now=BUILD_A,
        )
        simple = await review_templates.create_template(
            db, actor=megan, name="Simple review", scale=FIVE_POINT_SCALE, sections=SIMPLE, now=BUILD_A
        )
        for title in ("Ship search", "Cut p95 latency"):
            await goals.create_goal(db, actor=who["adele"], title=title, period="2026-Q1", now=BUILD_A)

        # A: released.
        a = await review_cycles.create_cycle(
            db,
            actor=megan,
            name="2026-Q1 review",
            template_id=standard.id,
            period_start=date(2026, 1, 1),
            period_end=date(2026, 3, 31),
            deadlines=CycleDeadlines(
                self_review=date(2026, 3, 13),
                peer_review=date(2026, 3, 20),
                manager_review=date(2026, 3, 27),
                calibration=date(2026, 4, 3),
                acknowledgement=date(2026, 7, 31),
            ),
            participants=ParticipantRule.people([people["adele"], people["isaiah"]]),
            now=BUILD_A,
        )
        await review_cycles.launch_cycle(db, actor=megan, cycle_id=a.id, now=BUILD_A)
        await submitted(
            a.id,
            "adele",
            ReviewerRole.SELF,
            "adele",
            {"Highlights of the quarter": AnswerInput(text="My own words")},
        )
        await submitted(a.id, "isaiah", ReviewerRole.SELF, "isaiah")
        await move(a.id, Phase.PEER_REVIEW)
        await review_participants.nominate_peers(
            db,
            actor=megan,
            cycle_id=a.id,
            reviewee_id=people["adele"],
            peer_ids=[people["isaiah"], people["lee"], people["patti"]],
            now=NOW,
        )
        for peer, rating, text in zip(("isaiah", "lee", "patti"), (5, 4, 4), PEER_TEXTS, strict=True):
            await submitted(
                a.id,
                "adele",
                ReviewerRole.PEER,
                peer,
                {
                    "Collaboration": AnswerInput(rating=rating),
                    "What should they keep doing?": AnswerInput(text=text),
                },
            )
        await submitted(
            a.id,
            "adele",
            ReviewerRole.MANAGER,
            "alex",
            {
                "Ship search": AnswerInput(rating=5),
                "Cut p95 latency": AnswerInput(rating=3),
                "Communication": AnswerInput(rating=4),
                "Delivery": AnswerInput(rating=4),
                "Ownership": AnswerInput(rating=3),
                "Overall impact": AnswerInput(rating=5),
                "Highlights of the quarter": AnswerInput(text="Shipped search on time"),
                "Ready for promotion?": AnswerInput(choice="Yes"),
            },
        )
        await submitted(a.id, "isaiah", ReviewerRole.MANAGER, "alex")
        await move(a.id, Phase.MANAGER_REVIEW, Phase.CALIBRATION)
        await calibration.calibrate(
            db,
            actor=megan,
            cycle_id=a.id,
            person_id=people["isaiah"],
            score="3.5",
            reason="Compared with the team",
            now=NOW,
        )
        await move(a.id, Phase.RELEASED)

        # B: in calibration, nothing released.
        b = await review_cycles.create_cycle(
            db,
            actor=megan,
            name="2026-Q2 review",
            template_id=simple.id,
            period_start=date(2026, 4, 1),
            period_end=date(2026, 6, 30),
            deadlines=CycleDeadlines(
                self_review=date(2026, 6, 12),
                manager_review=date(2026, 6, 26),
                calibration=date(2026, 7, 31),
                acknowledgement=date(2026, 8, 14),
            ),
            participants=ParticipantRule.people([people["adele"], people["isaiah"]]),
            now=BUILD_B,
        )
        await review_cycles.launch_cycle(db, actor=megan, cycle_id=b.id, now=BUILD_B)
        await submitted(
            b.id, "adele", ReviewerRole.SELF, "adele", {"What went well?": AnswerInput(text="Q2 self words")}
        )
        await submitted(
            b.id,
            "adele",
            ReviewerRole.MANAGER,
            "alex",
            {
                "Communication": AnswerInput(rating=3),
                "Delivery": AnswerInput(rating=3),
                "Ownership": AnswerInput(rating=2),
                "What went well?": AnswerInput(text=B_SECRET),
            },
        )
        rid = await _review_id(db, b.id, people["isaiah"], ReviewerRole.MANAGER, people["alex"])
        await _fill(db, who["alex"], rid, steps=1)
        await move(b.id, Phase.MANAGER_REVIEW, Phase.CALIBRATION)

        # C: self review, overdue since 15 July.
        c = await review_cycles.create_cycle(
            db,
            actor=megan,
            name="2026-Q3 review",
            template_id=standard.id,
            period_start=date(2026, 7, 1),
            period_end=date(2026, 9, 30),
            deadlines=CycleDeadlines(
                self_review=date(2026, 7, 15),
                peer_review=date(2026, 7, 31),
                manager_review=date(2026, 8, 14),
                calibration=date(2026, 8, 28),
                acknowledgement=date(2026, 9, 11),
            ),
            participants=ParticipantRule.below_manager(people["patti"]),
            now=BUILD_C,
        )
        await review_cycles.launch_cycle(db, actor=megan, cycle_id=c.id, now=BUILD_C)
        await submitted(c.id, "isaiah", ReviewerRole.SELF, "isaiah")
        rid = await _review_id(db, c.id, people["alex"], ReviewerRole.SELF, people["alex"])
        await _fill(db, who["alex"], rid, steps=2)  # his goals step is empty: no goals in Q3

        # E: a draft for the QA department.
        e = await review_cycles.create_cycle(
            db,
            actor=megan,
            name="QA pilot",
            template_id=simple.id,
            period_start=date(2026, 7, 1),
            period_end=date(2026, 12, 31),
            deadlines=CycleDeadlines(
                self_review=date(2026, 8, 3),
                manager_review=date(2026, 8, 17),
                calibration=date(2026, 8, 31),
                acknowledgement=date(2026, 9, 14),
            ),
            participants=ParticipantRule.of_department("QA"),
            now=BUILD_C,
        )
    return people, {"A": a.id, "B": b.id, "C": c.id, "E": e.id, "standard": standard.id, "simple": simple.id}


@pytest.fixture(scope="module")
async def review_world(
    tmp_path_factory: pytest.TempPathFactory, tab_settings: TabSettings
) -> AsyncIterator[ReviewWorld]:
    """A tab server on its own database of the reviews above."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('reviews') / 'reviews.db'}")
    await upgrade(engine)
    sessions = session_factory(engine)
    await _seed(sessions)
    people, cycles = await _build(sessions)
    app = web.Application(middlewares=[security_headers])
    mount(app, sessions=sessions, settings=tab_settings, personas=REVIEW_PERSONAS, clock=lambda: NOW)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield ReviewWorld(f"http://127.0.0.1:{runner.addresses[0][1]}", sessions, people, cycles)
    await runner.cleanup()
    await engine.dispose()


@pytest.fixture
async def signed_in(review_world: ReviewWorld) -> AsyncIterator:
    """Sign in as a persona: `client = await signed_in("employee")`."""
    clients: list[aiohttp.ClientSession] = []

    async def sign_in(persona: str) -> aiohttp.ClientSession:
        base = review_world.base_url
        client = aiohttp.ClientSession(base, cookie_jar=browser_like_jar(base))
        clients.append(client)
        await dev_sign_in(client, persona)
        return client

    yield sign_in
    for client in clients:
        await client.close()


async def _get(client: aiohttp.ClientSession, path: str, **params: str | int) -> tuple[int, str]:
    async with client.get(path, params={k: str(v) for k, v in params.items()}, allow_redirects=False) as r:
        return r.status, await r.text()


async def _post(
    client: aiohttp.ClientSession, path: str, data: dict | list, *, csrf_from: str | None = None
) -> tuple[int, str, str]:
    """POST a form with the session's CSRF token (read from `csrf_from`): status, body, Location."""
    _, page = await _get(client, csrf_from or "/tabs/reviews")
    fields = list(data.items()) if isinstance(data, dict) else list(data)
    fields.append(("csrf_token", csrf_field(page)))
    async with client.post(path, data=fields, allow_redirects=False) as r:
        return r.status, await r.text(), r.headers.get("Location", "")


def _text(html: str) -> str:
    """Visible text, roughly: tags stripped, entities decoded, whitespace collapsed."""
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _section(html: str, element_id: str) -> str:
    """The markup of the <section> with this id, nested sections and all."""
    start = html.rindex("<section", 0, html.index(f'id="{element_id}"'))
    depth = 0
    for tag in re.finditer(r"<section\b|</section>", html[start:]):
        depth += 1 if tag.group(0) == "<section" else -1
        if depth == 0:
            return html[start : start + tag.end()]
    raise AssertionError(f"section {element_id} is not closed")


def _error(html: str, error_id: str) -> str:
    match = re.search(
        rf'<p class="error notice rv-form__error" id="{error_id}" role="alert">(.*?)</p>', html, re.S
    )
    assert match, f"no error {error_id} on the page"
    return htmllib.unescape(match.group(1))


async def _count(world: ReviewWorld, model, *where) -> int:
    async with unit_of_work(world.sessions) as db:
        return await db.scalar(select(func.count()).select_from(model).where(*where))


# --- My reviews --------------------------------------------------------------------------------------


async def test_my_reviews_lists_what_i_write_and_only_released_results(signed_in, review_world) -> None:
    adele = await signed_in("employee")
    status, html = await _get(adele, "/tabs/reviews")
    assert status == 200
    to_write = _text(_section(html, "to-write"))
    assert "Self review Not started Overdue 2026-Q3 review · due 15 Jul 2026" in to_write
    assert "Upward review of Alex Wilber Not started 2026-Q3 review · due 31 Jul 2026" in to_write
    assert "Self review Submitted 2026-Q2 review · closed: it was due 12 Jun 2026" in to_write
    results = _section(html, "results")
    assert "2026-Q1 review" in results and "Score 4.10 · Above" in _text(results)
    assert "2026-Q2 review" not in results, "B is not released"
    cycles = review_world.cycles
    assert f'href="/tabs/reviews/results/{cycles["A"]}"' in results
    assert '<a href="/tabs/reviews" aria-current="page">My reviews</a>' in html
    assert "Team reviews" not in html and "Review cycles" not in html, "not a manager, not HR"


async def test_before_release_the_employee_sees_no_score_and_her_manager_does(
    signed_in, review_world
) -> None:
    b = review_world.cycles["B"]
    adele = await signed_in("employee")
    status, html = await _get(adele, f"/tabs/reviews/results/{b}")
    assert status == 200
    text = _text(html)
    assert "Results not released yet" in text
    assert "Q2 self words" in _text(_section(html, "self-review")), "her own self review is hers"
    for secret in ("2.67", B_SECRET, "breakdown", 'id="score"', "Manager review"):
        assert secret not in html, secret
    _, mine = await _get(adele, "/tabs/reviews")
    assert "2.67" not in mine and "2026-Q2 review · closed" in _text(mine)

    alex = await signed_in("manager")
    status, html = await _get(alex, f"/tabs/reviews/results/{b}", person=review_world.people["adele"])
    assert status == 200
    assert "2.67" in _text(_section(html, "score")) and B_SECRET in _text(html)


async def test_after_release_the_employee_sees_her_score_with_its_breakdown(signed_in, review_world) -> None:
    adele = await signed_in("employee")
    status, html = await _get(adele, f"/tabs/reviews/results/{review_world.cycles['A']}")
    assert status == 200
    score = _section(html, "score")
    assert re.search(
        r'<span class="rv-score__value">4.10</span>\s*<span class="rv-score__band">Above</span>', score
    )
    rows = re.findall(
        r"<tr><th scope=\"row\">([^<]+)</th><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", score
    )
    # Goals (5 + 3) / 2 = 4.00, weight 50; competencies (4 + 4 + 3) / 3 = 3.67, 30; overall 5, 20.
    assert rows == [
        ("Goals", "50", "4.00", "2.00"),
        ("Competencies", "30", "3.67", "1.10"),
        ("Overall", "20", "5.00", "1.00"),
        ("From the ratings", "", "", "4.10"),
    ]
    assert "adjusted in calibration" not in score
    manager = _text(_section(html, "manager-review"))
    assert "Shipped search on time" in manager and "Ship search Rated 5" in manager and "Yes" in manager
    pool = _section(html, "peers")
    assert "3 people answered" in _text(pool) and "Average 4.33 from 3 answers" in _text(pool)
    texts = [htmllib.unescape(t) for t in re.findall(r'<li class="rv-pool__text">(.*?)</li>', pool, re.S)]
    assert texts == sorted(PEER_TEXTS)
    assert "&lt;script&gt;alert(&#39;peer&#39;)&lt;/script&gt;" in pool and "<script>alert" not in html
    for name in ("Isaiah", "Lee", "Patti"):
        assert name not in _text(html), f"{name} reviewed her: no name on the page"


async def test_a_calibrated_score_says_so_without_the_reason(signed_in, review_world) -> None:
    isaiah = await signed_in("isaiah")
    status, html = await _get(isaiah, f"/tabs/reviews/results/{review_world.cycles['A']}")
    assert status == 200
    score = _text(_section(html, "score"))
    assert (
        "3.50" in score
        and "The manager's ratings come to 4.00; the final score was adjusted in calibration" in score
    )
    assert "Compared with the team" not in html


async def test_the_employee_acknowledges_once_with_an_optional_comment(signed_in, review_world) -> None:
    a, people = review_world.cycles["A"], review_world.people
    page = f"/tabs/reviews/results/{a}"
    adele = await signed_in("employee")
    _, html = await _get(adele, page)
    assert "Acknowledging says you have read your review, not that you agree with it." in _text(html)

    status, html, _ = await _post(adele, f"{page}/acknowledge", {"comment": "x" * 2001}, csrf_from=page)
    assert status == 400
    assert (
        _error(html, "acknowledge-comment-error")
        == "Your comment is too long: at most 2000 characters (it has 2001)."
    )
    assert 'aria-invalid="true"' in html and "x" * 2001 in html, "what she typed is kept"
    participant = (ReviewParticipant.cycle_id == a, ReviewParticipant.person_id == people["adele"])
    assert (
        await _count(
            review_world, ReviewParticipant, *participant, ReviewParticipant.acknowledged_at.is_not(None)
        )
        == 0
    )

    async with adele.post(f"{page}/acknowledge", data={"comment": "Thanks"}, allow_redirects=False) as r:
        assert r.status == 403, "no CSRF token"
    status, _, location = await _post(
        adele, f"{page}/acknowledge", {"comment": "Thanks <b>Alex</b>"}, csrf_from=page
    )
    assert (status, location) == (303, f"{page}?acknowledged=1#acknowledge")
    _, html = await _get(adele, page, acknowledged=1)
    ack = _text(_section(html, "acknowledge"))
    assert "Thank you: you acknowledged this review." in ack
    assert "You acknowledged this review on 20 Jul 2026. Thanks <b>Alex</b>" in ack
    assert 'name="comment"' not in html, "no second form"

    status, _, location = await _post(
        adele, f"{page}/acknowledge", {"comment": "Again"}, csrf_from="/tabs/reviews"
    )
    assert (status, location) == (303, f"{page}?already=1#acknowledge")
    async with unit_of_work(review_world.sessions) as db:
        comment = await db.scalar(select(ReviewParticipant.acknowledgement_comment).where(*participant))
    assert comment == "Thanks <b>Alex</b>", "the second one changed nothing"

    status, html, _ = await _post(
        adele, f"/tabs/reviews/results/{review_world.cycles['B']}/acknowledge", {}, csrf_from=page
    )
    assert status == 400
    assert "Your review isn't released yet: there is nothing to acknowledge." in _text(html)


@pytest.mark.parametrize(
    ("persona", "cycle", "person"),
    [
        ("isaiah", "A", "adele"),  # a colleague's review
        ("employee", "A", "isaiah"),
        ("manager", "C", "lee"),  # not his line
        ("employee", "A", "nobody"),
        ("employee", "999999", None),
        ("employee", "abc", None),
    ],
)
async def test_someone_elses_review_reads_as_not_found(
    signed_in, review_world, persona, cycle, person
) -> None:
    client = await signed_in(persona)
    cycle_id = review_world.cycles.get(cycle, cycle)
    params = {} if person is None else {"person": review_world.people.get(person, person)}
    status, html = await _get(client, f"/tabs/reviews/results/{cycle_id}", **params)
    assert status == 404
    assert "That review does not exist." in _text(html)
    assert "4.10" not in html and "Shipped search" not in html


# --- Team reviews ------------------------------------------------------------------------------------


def _member(html: str, cycle_id: int, name: str) -> str:
    board = _section(html, f"cycle-{cycle_id}")
    for block in re.findall(r'<li class="rv-member".*?</li>\s*(?=<li class="rv-member"|</ul>)', board, re.S):
        if f">{name}</a>" in block:
            return _text(block)
    raise AssertionError(f"{name} is not on the board of cycle {cycle_id}")


async def test_a_manager_sees_his_line_per_phase_with_overdue_marked(signed_in, review_world) -> None:
    cycles = review_world.cycles
    alex = await signed_in("manager")
    status, html = await _get(alex, "/tabs/reviews/team")
    assert status == 200
    assert [
        int(c) for c in re.findall(r'<section class="card rv-section rv-board" id="cycle-(\d+)"', html)
    ] == [cycles["C"], cycles["B"], cycles["A"]], "the newest cycle first"
    adele_c = _member(html, cycles["C"], "Adele Vance")
    assert "Self review Not started Overdue" in adele_c
    assert "Manager review Not started" in adele_c and "Manager review Not started Overdue" not in adele_c
    isaiah_c = _member(html, cycles["C"], "Isaiah Langer")
    assert "Self review Submitted" in isaiah_c and "Overdue" not in isaiah_c
    assert "Peer and upward reviews 3 of 3 peer reviews submitted" in _member(
        html, cycles["A"], "Adele Vance"
    )
    assert "Acknowledgement Not yet" in _member(html, cycles["A"], "Isaiah Langer")
    assert "Manager review Draft saved" in _member(html, cycles["B"], "Isaiah Langer")
    assert "Lee Leaving" not in html, "Lee reports to Patti"
    for secret in (B_SECRET, "Shipped search", "4.10"):
        assert secret not in html, "statuses, never content"

    patti = await signed_in("patti")
    _, html = await _get(patti, "/tabs/reviews/team")
    assert "Self review Draft saved Overdue" in _member(html, cycles["C"], "Alex Wilber")
    assert "Self review Not started Overdue" in _member(html, cycles["C"], "Lee Leaving")


async def test_team_reviews_are_for_managers(signed_in) -> None:
    adele = await signed_in("employee")
    status, html = await _get(adele, "/tabs/reviews/team")
    assert status == 403
    assert "No one reports to you, so there is no team to show." in _text(html)


# --- Review cycles (HR) ------------------------------------------------------------------------------


async def test_hr_sees_every_cycle_and_one_cycles_completion_and_overdue(signed_in, review_world) -> None:
    cycles = review_world.cycles
    megan = await signed_in("hr")
    status, html = await _get(megan, "/tabs/reviews/cycles")
    assert status == 200
    listed = re.findall(r'<h2 class="rv-cycle__name"><a href="/tabs/reviews/cycles/(\d+)">([^<]+)</a>', html)
    assert {name: int(cid) for cid, name in listed} == {
        "2026-Q1 review": cycles["A"],
        "2026-Q2 review": cycles["B"],
        "2026-Q3 review": cycles["C"],
        "QA pilot": cycles["E"],
    }

    status, html = await _get(megan, f"/tabs/reviews/cycles/{cycles['C']}")
    assert status == 200
    completion = _text(_section(html, "completion"))
    assert "Self reviews 1 of 4 (25 %)" in completion
    assert "Upward reviews 0 of 2 (0 %)" in completion
    assert "Manager reviews 0 of 4 (0 %)" in completion
    assert "Engineering Self reviews 1 of 4 (25 %)" in _text(_section(html, "departments"))
    overdue = _text(_section(html, "overdue"))
    assert "Overdue (3)" in overdue
    for name in ("Adele Vance", "Alex Wilber", "Lee Leaving"):
        assert f"{name} : self review · was due 15 Jul 2026" in overdue
    assert "No nudges sent yet." in _text(_section(html, "nudges"))
    assert "Move on to peer review" in html
    assert f'href="/tabs/reviews/cycles/{cycles["C"]}/calibration"' in html


async def test_hr_sees_the_nudges_queued_for_a_cycle_and_what_became_of_them(signed_in, review_world) -> None:
    cycles, people = review_world.cycles, review_world.people
    async with unit_of_work(review_world.sessions) as db:
        for kind, person, cycle, key in (
            ("review.nudge", "adele", "B", "b-adele"),
            ("review.escalation", "alex", "B", "b-alex"),
            ("review.nudge", "isaiah", "E", "e-isaiah"),  # another cycle's
        ):
            await outbox.enqueue(
                db,
                kind=kind,
                person_id=people[person],
                payload={"card": {}, "cycle_id": cycles[cycle]},
                now=NOW,
                dedupe_key=f"history-test:{key}",
            )
        await db.execute(
            update(OutboxMessage)
            .where(OutboxMessage.dedupe_key == "history-test:b-adele")
            .values(status="sent", sent_at=NOW)
        )
    megan = await signed_in("hr")
    _, html = await _get(megan, f"/tabs/reviews/cycles/{cycles['B']}")
    nudges = _text(_section(html, "nudges"))
    assert re.search(r"Adele Vance: reminder, queued [^,]+, sent 20 Jul 09:00 UTC", nudges)
    assert re.search(
        r"Alex Wilber: escalation about their overdue people, queued [^,]+, waiting to be sent", nudges
    )
    assert "Isaiah" not in nudges, "only this cycle's nudges"


async def test_hr_moves_a_cycle_on_once_confirmed_and_illegal_moves_get_the_domains_sentence(
    signed_in, review_world
) -> None:
    e = review_world.cycles["E"]
    page = f"/tabs/reviews/cycles/{e}"
    alex = await signed_in("manager")
    status, html, _ = await _post(
        alex, f"{page}/advance", {"to": "self_review", "confirm": "yes"}, csrf_from="/tabs/reviews"
    )
    assert status == 403 and "You don't have access to review cycles: HR runs them." in _text(html)

    megan = await signed_in("hr")
    _, html = await _get(megan, page)
    assert "Launch the cycle" in html and "Draft" in _text(html)
    status, html, _ = await _post(megan, f"{page}/advance", {"to": "self_review"})
    assert status == 400
    assert _error(html, "move-confirm-error").startswith("Tick the box to confirm")
    status, html, _ = await _post(megan, f"{page}/advance", {"to": "calibration", "confirm": "yes"})
    assert status == 400
    assert "The cycle is a draft: it can move on to self review next, not to calibration." in _text(html)
    assert await _count(review_world, ReviewCycle, ReviewCycle.id == e, ReviewCycle.phase == "draft") == 1

    status, _, location = await _post(megan, f"{page}/advance", {"to": "self_review", "confirm": "yes"})
    assert (status, location) == (303, f"{page}?moved=self_review#phase")
    _, html = await _get(megan, page, moved="self_review")
    assert "The cycle moved on to self review." in _text(html) and "Move on to manager review" in html
    assert "1 person" in _text(html), "the QA department: frozen at launch"
    status, _, location = await _post(megan, f"{page}/advance", {"to": "self_review", "confirm": "yes"})
    assert (status, location) == (303, f"{page}?already=self_review#phase"), "a second click changes nothing"
    status, html, _ = await _post(megan, f"{page}/advance", {"to": "draft", "confirm": "yes"})
    assert status == 409
    assert (
        "The cycle is in self review: it has already moved past draft, and phases only move forward."
        in _text(html)
    )


@pytest.mark.parametrize(
    "path",
    [
        "/tabs/reviews/cycles",
        "/tabs/reviews/cycles/{C}",
        "/tabs/reviews/setup",
        "/tabs/reviews/cycles/{B}/calibration",
    ],
)
async def test_hr_pages_refuse_everyone_else(signed_in, review_world, path) -> None:
    path = path.format(**review_world.cycles)
    for persona in ("employee", "manager"):
        client = await signed_in(persona)
        status, html = await _get(client, path)
        assert status == 403, (persona, path)
        assert "You don't have access to" in _text(html)
        assert "2.67" not in html and "Adele Vance:" not in html


async def test_an_unknown_cycle_is_not_found(signed_in) -> None:
    megan = await signed_in("hr")
    for path in (
        "/tabs/reviews/cycles/999999",
        "/tabs/reviews/cycles/abc",
        "/tabs/reviews/cycles/999999/calibration",
    ):
        status, html = await _get(megan, path)
        assert status == 404, path
        assert "does not exist" in _text(html)


# --- calibration -------------------------------------------------------------------------------------


async def test_calibration_shows_ratings_side_by_side_against_the_guideline(signed_in, review_world) -> None:
    megan = await signed_in("hr")
    status, html = await _get(megan, f"/tabs/reviews/cycles/{review_world.cycles['B']}/calibration")
    assert status == 200
    ratings = _text(_section(html, "ratings"))
    assert "Rated by Alex Wilber" in ratings
    assert (
        "Adele Vance Engineering · manager review: submitted From the ratings 2.67 · final 2.67 (Meets)"
        in ratings
    )
    assert (
        f"Isaiah Langer Engineering · manager review: draft saved From the ratings {DASH} · final {DASH}"
        in ratings
    )
    dist = _text(_section(html, "distribution"))
    assert "Everyone (1 scored, 1 without a score)" in dist
    assert "Meets 1 100 % · guideline 40 %" in dist, dist
    assert "Alex Wilber (1 scored" in dist and "Engineering (1 scored" in dist, dist

    guideline = _text(_section(html, "guideline"))
    assert "Advisory only: shown beside the actual distribution, never enforced." in guideline
    assert "With fewer than 25 scored people it does not apply here" in guideline
    assert "Meets: 40 % (about 0.4 people)" in guideline


async def test_calibration_needs_a_reason_and_keeps_what_was_typed(signed_in, review_world) -> None:
    b, adele = review_world.cycles["B"], review_world.people["adele"]
    page = f"/tabs/reviews/cycles/{b}/calibration"
    before = await _count(review_world, ReviewCalibration)
    megan = await signed_in("hr")

    status, html, _ = await _post(megan, page, {"person_id": adele, "score": "3.25", "reason": "  "})
    assert status == 400
    assert (
        _error(html, f"reason-{adele}-error") == "The reason for the change is empty: write something first."
    )
    assert re.search(rf'id="score-{adele}"[^>]*value="3.25"', html), "the score typed is kept"
    assert re.search(rf'id="reason-{adele}"[^>]*aria-invalid="true"', html)
    status, html, _ = await _post(megan, page, {"person_id": adele, "score": "9", "reason": "Too low"})
    assert status == 400
    assert _error(html, f"score-{adele}-error") == "A score is between 1 and 5, not 9."
    assert ">Too low</textarea>" in html
    status, html, _ = await _post(megan, page, {"person_id": adele, "score": "", "reason": "Too low"})
    assert status == 400 and _error(html, f"score-{adele}-error") == "Type the new score, like 3.5."
    assert await _count(review_world, ReviewCalibration) == before, "nothing written"

    status, _, location = await _post(
        megan, page, {"person_id": adele, "score": "3.25", "reason": "Raised: <i>peers</i>"}
    )
    assert (status, location) == (303, f"{page}?adjusted={adele}#person-{adele}")
    _, html = await _get(megan, page, adjusted=adele)
    assert "Saved: Adele Vance's final score is now 3.25." in _text(html)
    history = _text(_section(html, "history"))
    assert "Adele Vance 2.67 → 3.25 by Megan Bowen · 20 Jul 2026, 09:00 UTC Raised: <i>peers</i>" in history
    assert "&lt;i&gt;peers&lt;/i&gt;" in html

    adele_client = await signed_in("employee")
    _, mine = await _get(adele_client, f"/tabs/reviews/results/{b}")
    assert "3.25" not in mine and "Raised" not in mine, "nothing until release"


async def test_only_calibrators_adjust_and_only_during_calibration(signed_in, review_world) -> None:
    cycles, adele = review_world.cycles, review_world.people["adele"]
    before = await _count(review_world, ReviewCalibration)
    alex = await signed_in("manager")
    status, html, _ = await _post(
        alex,
        f"/tabs/reviews/cycles/{cycles['B']}/calibration",
        {"person_id": adele, "score": "5", "reason": "Mine"},
        csrf_from="/tabs/reviews",
    )
    assert status == 403 and "You don't have access to calibration." in _text(html)
    megan = await signed_in("hr")
    page = f"/tabs/reviews/cycles/{cycles['C']}/calibration"
    status, html, _ = await _post(megan, page, {"person_id": adele, "score": "4", "reason": "Early"})
    assert status == 400
    assert "Scores are adjusted during calibration: this cycle is in self review." in _text(html)
    status, html, _ = await _post(megan, page, {"person_id": "999999", "score": "4", "reason": "Who?"})
    assert status == 404 and "That person is not reviewed in this cycle." in _text(html)
    assert await _count(review_world, ReviewCalibration) == before


async def test_a_calibration_lead_calibrates_without_the_hr_pages(signed_in, review_world) -> None:
    b = review_world.cycles["B"]
    lee = await signed_in("lee")
    status, html = await _get(lee, f"/tabs/reviews/cycles/{b}/calibration")
    assert status == 200
    assert "Adele Vance" in _text(_section(html, "ratings")) and 'name="reason"' in html
    assert "Back to the cycle" not in html and "Save guideline" not in html, (
        "the cycle and its guideline are HR's"
    )
    for path in ("/tabs/reviews/cycles", f"/tabs/reviews/cycles/{b}", "/tabs/reviews/setup"):
        status, _ = await _get(lee, path)
        assert status == 403, path


# --- Review setup (HR) -------------------------------------------------------------------------------

GOOD_TEMPLATE = {
    "name": "Engineering review",
    "description": "For engineers",
    "scale": "Low\nMiddle\nHigh",
    "s0_title": "Craft",
    "s0_kind": "competencies",
    "s0_weight": "60",
    "s0_items": "Code quality\nTesting",
    "s1_title": "Questions",
    "s1_kind": "questions",
    "s1_weight": "40",
    "s1_items": "rating: Overall impact\ntext: Highlights\nchoice: Promote? | Yes | Not yet (optional)",
    "s2_title": "From peers",
    "s2_kind": "questions",
    "s2_weight": "0",
    "s2_items": "Collaboration\ntext: Keep doing (optional)",
}


def _template_form(changes: dict[str, str] | None = None, roles: dict[int, list[str]] | None = None) -> list:
    fields = list({**GOOD_TEMPLATE, **(changes or {})}.items())
    chosen = {0: ["self", "manager"], 1: ["self", "manager"], 2: ["peer"], **(roles or {})}
    return fields + [(f"s{n}_answered_by", role) for n, rs in chosen.items() for role in rs]


async def test_hr_defines_a_template_section_by_section(signed_in, review_world) -> None:
    megan = await signed_in("hr")
    status, _, location = await _post(
        megan, "/tabs/reviews/setup/templates", _template_form(), csrf_from="/tabs/reviews/setup"
    )
    assert status == 303
    template_id = int(re.search(r"template_created=(\d+)", location).group(1))
    async with unit_of_work(review_world.sessions) as db:
        view = await review_templates.get_template(
            db, actor=await load_actor(db, review_world.people["megan"]), template_id=template_id
        )
    assert view.scale == ("Low", "Middle", "High")
    assert [(s.title, s.kind, s.weight, s.answered_by) for s in view.sections] == [
        ("Craft", SectionKind.COMPETENCIES, 60, (ReviewerRole.SELF, ReviewerRole.MANAGER)),
        ("Questions", SectionKind.QUESTIONS, 40, (ReviewerRole.SELF, ReviewerRole.MANAGER)),
        ("From peers", SectionKind.QUESTIONS, 0, (ReviewerRole.PEER,)),
    ]
    assert [(i.text, i.kind, i.required, i.choices) for i in view.sections[1].items] == [
        ("Overall impact", ItemKind.RATING, True, ()),
        ("Highlights", ItemKind.TEXT, True, ()),
        ("Promote?", ItemKind.CHOICE, False, ("Yes", "Not yet")),
    ]
    assert [(i.text, i.kind, i.required) for i in view.sections[2].items] == [
        ("Collaboration", ItemKind.RATING, True),
        ("Keep doing", ItemKind.TEXT, False),
    ]
    _, html = await _get(megan, location.split("#")[0])
    assert "Saved the template “Engineering review”." in _text(html)
    assert f'<option value="{template_id}" selected>Engineering review</option>' in html, "ready for a cycle"


@pytest.mark.parametrize(
    ("changes", "roles", "error_id", "message"),
    [
        ({"name": " "}, None, "t-name-error", "The template's name is empty: write something first."),
        (
            {"name": "Quarterly review"},
            None,
            "t-name-error",
            "A review template named “Quarterly review” already exists: choose another name.",
        ),
        ({"scale": "Only"}, None, "t-scale-error", "A rating scale has from 2 to 10 points, not 1."),
        (
            {"s1_weight": "lots"},
            None,
            "t-s1-weight-error",
            "The weight of section 2 is a number (like 50), not “lots”.",
        ),
        ({"s0_weight": "-5"}, None, "t-s0-weight-error", "The weight of “Craft” is from 0 to 1000, not -5."),
        (
            {},
            {0: []},
            "t-s0-roles-error",
            "Choose who answers “Craft”: the person, their manager, peers or direct reports.",
        ),
        (
            {"s0_kind": "goals", "s0_items": ""},
            {0: ["manager", "peer"]},
            "t-s0-roles-error",
            "Goals are rated by the person and their manager only (“Craft”): goals may be private.",
        ),
        (
            {"s1_items": "text: Why? | Yes | No"},
            None,
            "t-s1-items-error",
            "Only a choice question offers choices: “Why?” is a text question.",
        ),
        (
            {"s1_items": "choice: Pick one | Only"},
            None,
            "t-s1-items-error",
            "“Pick one” offers from 2 to 10 choices, not 1.",
        ),
        (
            {"s0_weight": "0", "s1_weight": "0"},
            None,
            "t-sections-error",
            "The final score comes from the manager's ratings",
        ),
    ],
)
async def test_a_bad_template_is_refused_next_to_its_field_and_nothing_is_written(
    signed_in, review_world, changes, roles, error_id, message
) -> None:
    before = await _count(review_world, ReviewTemplate)
    megan = await signed_in("hr")
    form = _template_form(changes, roles)
    status, html, _ = await _post(
        megan, "/tabs/reviews/setup/templates", form, csrf_from="/tabs/reviews/setup"
    )
    assert status == 400
    assert _error(html, error_id).startswith(message)
    assert await _count(review_world, ReviewTemplate) == before
    typed = dict(form)
    assert (
        f'value="{htmllib.escape(typed["s0_title"])}"' in html and htmllib.escape(typed["s1_items"]) in html
    ), "kept"


CYCLE = {
    "name": "2026-Q4 review",
    "recurrence": "quarterly",
    "period_start": "2026-10-01",
    "period_end": "2026-12-31",
    "deadline_self_review": "2026-12-11",
    "deadline_peer_review": "",
    "deadline_manager_review": "2026-12-18",
    "deadline_calibration": "2027-01-08",
    "deadline_acknowledgement": "2027-01-22",
    "who": "department",
    "department": "People",
    "launch": "0",
}


@pytest.mark.parametrize(
    ("changes", "error_id", "message"),
    [
        ({"name": ""}, "c-name-error", "The cycle's name is empty: write something first."),
        ({"template_id": ""}, "c-template-error", "Choose the template the cycle's reviews use."),
        ({"template_id": "999999"}, "c-template-error", "That review template does not exist."),
        (
            {"period_start": "2026-13-01"},
            "c-period-start-error",
            "The “Period starts” must be a date like 2026-11-23 (year-month-day), not “2026-13-01”.",
        ),
        (
            {"period_end": "2026-09-01"},
            "c-period-end-error",
            "The period ends (1 September 2026) before it starts (1 October 2026): swap the dates.",
        ),
        (
            {"deadline_manager_review": "2026-12-01"},
            "c-deadline-manager-review-error",
            "Each phase ends on or after the one before: the manager review deadline (1 December 2026) is "
            "before the self review deadline (11 December 2026).",
        ),
        ({"deadline_calibration": ""}, "c-deadline-calibration-error", "Choose the “Calibration ends” date."),
        (
            {"template": "standard"},
            "c-deadline-peer-review-error",
            "Choose the peer review deadline (the last day of that phase).",
        ),
        (
            {"department": "Nowhere"},
            "c-department-error",
            "No one active is in a department called “Nowhere”.",
        ),
        (
            {"who": "manager", "manager": "Nobody Here"},
            "c-manager-error",
            "No one in the directory matches “Nobody Here”.",
        ),
        (
            {"who": "people", "people": "Adele Vance\nzed@nowhere.example"},
            "c-people-error",
            "No one in the directory matches “zed@nowhere.example”.",
        ),
        ({"who": ""}, "c-who-error", "Choose who the cycle reviews"),
        ({"recurrence": "weekly"}, "c-recurrence-error", "“weekly” is not a recurrence"),
        (
            {
                "who": "people",
                "people": "Adele Vance\nIsaiah Langer",
                "period_start": "2026-07-01",
                "period_end": "2026-09-30",
                "launch": "1",
            },
            "c-people-error",
            "“2026-Q3 review” (1 July 2026 to 30 September 2026) is still open, overlaps this period and "
            "already reviews 2 of these people.",
        ),
        (
            {"launch": "1", "deadline_self_review": "2026-07-10"},
            "c-deadline-self-review-error",
            "The self review deadline (10 July 2026) has passed: move the deadlines before launching.",
        ),
    ],
)
async def test_a_bad_cycle_is_refused_next_to_its_field_and_nothing_is_written(
    signed_in, review_world, changes, error_id, message
) -> None:
    before = await _count(review_world, ReviewCycle)
    megan = await signed_in("hr")
    form = {**CYCLE, "template_id": str(review_world.cycles["simple"]), **changes}
    if form.pop("template", None) == "standard":
        form["template_id"] = str(review_world.cycles["standard"])
    status, html, _ = await _post(megan, "/tabs/reviews/setup/cycles", form, csrf_from="/tabs/reviews/setup")
    assert status == 400
    assert _error(html, error_id).startswith(message), _error(html, error_id)
    assert await _count(review_world, ReviewCycle) == before, "nothing written, not even a draft"
    if form["name"]:
        assert f'value="{form["name"]}"' in html, "what was typed is kept"


async def test_hr_creates_a_draft_and_launches_another_cycle_from_the_form(signed_in, review_world) -> None:
    megan = await signed_in("hr")
    form = {**CYCLE, "template_id": str(review_world.cycles["simple"])}
    status, _, location = await _post(
        megan, "/tabs/reviews/setup/cycles", form, csrf_from="/tabs/reviews/setup"
    )
    assert status == 303 and location.endswith("?created=1")
    _, html = await _get(megan, location)
    assert "Saved as a draft" in _text(html) and "Launch the cycle" in html
    assert "2026-Q4 review" in _text(html)

    launched = {
        **form,
        "name": "Megan's line 2027",
        "who": "manager",
        "manager": "Megan Bowen",
        "launch": "1",
    }
    launched |= {
        "period_start": "2027-01-01",
        "period_end": "2027-03-31",
        "deadline_self_review": "2027-03-12",
    }
    launched |= {
        "deadline_manager_review": "2027-03-19",
        "deadline_calibration": "2027-04-02",
        "deadline_acknowledgement": "2027-04-16",
    }
    status, _, location = await _post(
        megan, "/tabs/reviews/setup/cycles", launched, csrf_from="/tabs/reviews/setup"
    )
    assert status == 303 and location.endswith("?launched=1")
    _, html = await _get(megan, location)
    text = _text(html)
    assert "Launched: its participants are frozen and their reviews created." in text
    assert "Self review · 1 Jan 2027 to 31 Mar 2027" in text and "1 person" in text
    assert "Self reviews 0 of 1 (0 %)" in text


async def test_setup_is_for_hr(signed_in, review_world) -> None:
    before = await _count(review_world, ReviewTemplate)
    alex = await signed_in("manager")
    status, html, _ = await _post(
        alex, "/tabs/reviews/setup/templates", _template_form({"name": "Alex's"}), csrf_from="/tabs/reviews"
    )
    assert status == 403 and "HR runs them" in _text(html)
    status, _, _ = await _post(
        alex, "/tabs/reviews/setup/cycles", {**CYCLE, "template_id": "1"}, csrf_from="/tabs/reviews"
    )
    assert status == 403
    assert await _count(review_world, ReviewTemplate) == before


async def test_markup_typed_into_a_template_is_shown_as_text(signed_in, review_world) -> None:
    megan = await signed_in("hr")
    name = "<script>alert('t')</script> review"
    status, _, location = await _post(
        megan,
        "/tabs/reviews/setup/templates",
        _template_form({"name": name, "s0_items": "<b>Bold</b>"}),
        csrf_from="/tabs/reviews/setup",
    )
    assert status == 303
    _, html = await _get(megan, location.split("#")[0])
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt; review" in html and "<script>alert" not in html
    assert "&lt;b&gt;Bold&lt;/b&gt;" in html and "<b>Bold" not in html


async def test_the_review_pages_need_sign_in_and_keep_the_theme(review_world, signed_in) -> None:
    base = review_world.base_url
    async with aiohttp.ClientSession(base, cookie_jar=browser_like_jar(base)) as anonymous:
        for path in ("/tabs/reviews", "/tabs/reviews/team", "/tabs/reviews/cycles", "/tabs/reviews/setup"):
            status, _ = await _get(anonymous, path)
            assert status == 302, path
        async with anonymous.post(
            f"/tabs/reviews/results/{review_world.cycles['A']}/acknowledge", data={}, allow_redirects=False
        ) as r:
            assert r.status == 303 and "/tabs/signin" in r.headers["Location"]
    adele = await signed_in("employee")
    status, html = await _get(adele, "/tabs/reviews", theme="dark")
    assert status == 200 and '<body class="theme-dark"' in html
    assert f'href="/tabs/reviews/results/{review_world.cycles["A"]}?theme=dark"' in html
    _, html = await _get(adele, f"/tabs/reviews/results/{review_world.cycles['A']}", theme="contrast")
    assert (
        f'action="/tabs/reviews/results/{review_world.cycles["A"]}/acknowledge?theme=contrast"' in html
        or "You acknowledged" in html
    )


# --- templates rating framework competencies ---------------------------------------------------------


async def _framework_competencies(world: ReviewWorld) -> dict[str, int]:
    """Systems thinking (functional), Mentoring (leadership) and Legacy craft (retired), by HR; once."""
    async with unit_of_work(world.sessions) as db:
        found = dict((await db.execute(select(Competency.name, Competency.id))).all())
        if "Mentoring" not in found:
            megan = await load_actor(db, world.people["megan"])
            for name, category in (
                ("Systems thinking", "Functional"),
                ("Mentoring", "Leadership"),
                ("Legacy craft", "Functional"),
            ):
                made = await competencies.create_competency(
                    db, actor=megan, name=name, category=category, levels=["Learning", "Doing", "Teaching"]
                )
                found[name] = made.id
            await competencies.deactivate_competency(db, actor=megan, competency_id=found["Legacy craft"])
    return found


async def test_hr_picks_framework_competencies_for_a_template(signed_in, review_world) -> None:
    ids = await _framework_competencies(review_world)
    megan = await signed_in("hr")
    _, html = await _get(megan, "/tabs/reviews/setup")
    form = _section(html, "new-template")
    assert '<link rel="stylesheet" href="/tabs/static/competencies.css">' in html
    picks = form[
        form.index('id="t-s0-framework"') : form.index("</details>", form.index('id="t-s0-framework"'))
    ]
    assert "<legend>Functional</legend>" in picks and "<legend>Leadership</legend>" in picks
    assert f'name="s0_competency" type="checkbox" value="{ids["Mentoring"]}"' in picks
    assert "Legacy craft" not in picks, "retired competencies are not offered"

    fields = [
        *_template_form({"name": "Framework review", "s0_items": "Code quality"}),
        ("s0_competency", str(ids["Systems thinking"])),
        ("s0_competency", str(ids["Mentoring"])),
    ]
    status, _, location = await _post(
        megan, "/tabs/reviews/setup/templates", fields, csrf_from="/tabs/reviews/setup"
    )
    assert status == 303
    template_id = int(re.search(r"template_created=(\d+)", location).group(1))
    async with unit_of_work(review_world.sessions) as db:
        view = await review_templates.get_template(
            db, actor=await load_actor(db, review_world.people["megan"]), template_id=template_id
        )
    # The ticked ones first, worded as the framework names them, then the typed one (not linked).
    assert [(i.text, i.kind, i.competency_id) for i in view.sections[0].items] == [
        ("Systems thinking", ItemKind.RATING, ids["Systems thinking"]),
        ("Mentoring", ItemKind.RATING, ids["Mentoring"]),
        ("Code quality", ItemKind.RATING, None),
    ]
    _, html = await _get(megan, location.split("#")[0])
    listed = _text(html[html.index(f'id="template-{template_id}"') :].split("</li>\n    </ul>")[0])
    assert "Mentoring (rating, from the competency framework)" in listed
    assert "Code quality (rating)" in listed


@pytest.mark.parametrize(
    ("picks", "changes", "error_id", "message"),
    [
        (
            [("s0_competency", "999999")],
            {},
            "t-s0-competencies-error",
            "“Craft” names a competency that is not in the framework: choose one that is.",
        ),
        (
            [("s0_competency", "Legacy craft")],
            {},
            "t-s0-competencies-error",
            "“Legacy craft” is retired from the competency framework: choose an active one.",
        ),
        ([("s0_competency", "12abc")], {}, "t-s0-competencies-error", "Tick the framework competencies"),
        (
            [("s1_competency", "Mentoring")],
            {},
            "t-s1-competencies-error",
            "Only a competencies section rates framework competencies: make section 2 a competencies section",
        ),
        (
            [("s0_competency", "Mentoring"), ("s3_competency", "Mentoring")],
            {"s3_title": "Leadership", "s3_kind": "competencies", "s3_weight": "10"},
            "t-s0-competencies-error",
            "“Mentoring” is rated twice in this template: rate each framework competency once.",
        ),
    ],
)
async def test_a_tampered_framework_competency_is_refused_and_nothing_is_written(
    signed_in, review_world, picks, changes, error_id, message
) -> None:
    ids = await _framework_competencies(review_world)
    before = await _count(review_world, ReviewTemplate)
    megan = await signed_in("hr")
    ticked = [(name, str(ids.get(value, value))) for name, value in picks]
    fields = _template_form({"name": "Tampered review", **changes}, {3: ["manager"]}) + ticked
    status, html, _ = await _post(
        megan, "/tabs/reviews/setup/templates", fields, csrf_from="/tabs/reviews/setup"
    )
    assert status == 400
    assert _error(html, error_id).startswith(message)
    n = error_id.split("-")[1][1:]
    assert f'<details class="cf-pick" id="t-s{n}-framework" open>' in html
    if (ids.get(picks[0][1]) or 0) and picks[0][1] != "Legacy craft":
        assert f'value="{ids[picks[0][1]]}" checked' in html, "what was ticked is kept"
    assert await _count(review_world, ReviewTemplate) == before


# --- rating-bias flags in calibration ----------------------------------------------------------------------

# Manager → their reports' (manager-submitted score, goal achievement) in the bias-check cycle.
BIAS_TEAMS = {
    "Lena Lenient": ([4.5, 4.5, 4.0, 5.0, 4.5, 4.0], [0.6, 0.65, 0.55, 0.6, 0.6, 0.6]),
    "Avery Average": ([3.0, 3.5, 3.0, 2.5, 3.5, 3.0], [0.5, 0.7, 0.6, 0.55, 0.65, 0.6]),
    "Ari Average": ([3.5, 3.0, 3.0, 3.5, 2.5, 3.0], [0.6, 0.5, 0.7, 0.65, 0.55, 0.6]),
    "Ash Average": ([3.0, 3.0, 3.5, 3.0, 3.5, 2.5], [0.6, 0.55, 0.65, 0.6, 0.5, 0.7]),
}


async def test_calibration_shows_a_managers_rating_bias_beside_their_group(signed_in, review_world) -> None:
    # Imported here: the tests above don't need them.
    from sqlalchemy import delete

    from storage.models import AuditEntry, Goal

    sessions = review_world.sessions
    people: list[int] = []
    async with unit_of_work(sessions) as db:
        cycle = ReviewCycle(
            name="2026-H1 bias check",
            template_id=review_world.cycles["simple"],
            period_start=date(2026, 1, 1),
            period_end=date(2026, 6, 30),
            phase="calibration",
        )
        db.add(cycle)
        await db.flush()
        for manager, (scores, achieved) in BIAS_TEAMS.items():
            boss = Person(
                email=f"{manager.split()[0].lower()}@bias.example",
                display_name=manager,
                department="Engineering",
            )
            db.add(boss)
            await db.flush()
            people.append(boss.id)
            for n, (score, progress) in enumerate(zip(scores, achieved, strict=True)):
                report = Person(
                    email=f"{manager.split()[0].lower()}{n}@bias.example",
                    display_name=f"{manager.split()[0]}'s report {n + 1}",
                    department="Engineering",
                    manager_id=boss.id,
                )
                db.add(report)
                await db.flush()
                people.append(report.id)
                db.add(
                    ReviewParticipant(
                        cycle_id=cycle.id,
                        person_id=report.id,
                        manager_id=boss.id,
                        department="Engineering",
                        source="launch",
                        added_at=NOW,
                        computed_score=score,
                        final_score=score,
                    )
                )
                db.add(
                    Goal(
                        owner_type="person",
                        owner_person_id=report.id,
                        title="Deliver",
                        period_label="2026-H1",
                        period_start=date(2026, 1, 1),
                        period_end=date(2026, 6, 30),
                        visibility="public",
                        kind="business",
                        progress=progress,
                    )
                )
        cycle_id = cycle.id
    try:
        page = f"/tabs/reviews/cycles/{cycle_id}/calibration"
        for persona in ("hr", "lee"):
            client = await signed_in(persona)
            status, html = await _get(client, page)
            assert status == 200
            ratings = _section(html, "ratings")
            groups = {
                _text(m.group(1)): _text(m.group(2))
                for m in re.finditer(
                    r'<h3 class="rv-subhead"[^>]*>(.*?)</h3>(.*?)<ul class="rv-people"', ratings, re.S
                )
            }
            for average in ("Avery Average", "Ari Average", "Ash Average"):
                assert groups[f"Rated by {average}"] == "", f"no flag for {average}"
            flag = groups["Rated by Lena Lenient"]
            assert flag == (
                "Lenient ratings Rates higher than the organization: mean 4.42 vs 3.08 (n = 6) "
                "while their team's goal results are average. "
                "Their ratings against the organization's: Mean 4.42 of 5 over 6 reports (manager-submitted "
                "scores, before calibration) against 3.08 over the 18 other people rated in this cycle "
                "(standard deviation 0.35): +3.77 standard deviations, z = +9.24. "
                "Their team's goal results: Mean goal achievement 60 % over 6 reports with goals in the "
                "cycle's period against 60 % over 18 others (standard deviation 7 %): +0.00 standard "
                "deviations, average; their ratings differ by +3.77 more. "
                "Peer feedback on their team: Not compared: fewer than 3 of their reports (or too few "
                "others) have any. "
                "Advisory: a pattern to discuss in calibration, not a correction. "
                "No score changes unless someone adjusts it."
            ), flag
        async with unit_of_work(sessions) as db:
            audited = (
                await db.scalars(
                    select(AuditEntry.detail).where(AuditEntry.action == "talent.rating_bias.view")
                )
            ).all()
        assert len(audited) == 2 and all(d == {"managers": [people[0]]} for d in audited)
        # Advisory only: every final score is still the one the manager gave.
        async with unit_of_work(sessions) as db:
            scores = (
                await db.execute(
                    select(ReviewParticipant.computed_score, ReviewParticipant.final_score).where(
                        ReviewParticipant.cycle_id == cycle_id
                    )
                )
            ).all()
        assert len(scores) == 24 and all(computed == final for computed, final in scores)
    finally:
        async with unit_of_work(sessions) as db:
            await db.execute(delete(AuditEntry).where(AuditEntry.action == "talent.rating_bias.view"))
            await db.execute(delete(Goal).where(Goal.owner_person_id.in_(people)))
            await db.execute(delete(ReviewCycle).where(ReviewCycle.id == cycle_id))
            await db.execute(delete(Person).where(Person.id.in_(people[::-1])))
