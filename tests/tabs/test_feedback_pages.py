"""The Feedback tab over HTTP: received, given and requested feedback, filters, a manager's line, HR, and
what never reaches the page (a manager-only note for its recipient, who gave an anonymous answer).

The small organization of conftest.py (Patti → Alex → Adele, Isaiah; Lee reports to Patti; HR Megan), in
its own SQLite file, with feedback given through the feedback services on fixed dates; the server's clock
is fixed at NOW so the trend's months are known:

    Patti  → Adele  "Great demo"                 shared with her manager, Communication 4   2 Nov 2026
    Isaiah → Adele  "Thanks for the review"      Adele only, Ownership 5                    15 Oct 2026
    Patti  → Adele  PRIVATE_NOTE                 manager only                                5 Nov 2026
    Isaiah → Adele  SCRIPT (markup as text)      shared                                      6 Nov 2026
    Adele  → Isaiah "Nice refactor"              shared                                     10 Nov 2026
    Patti  → Lee    "Lee's launch"               shared (Lee is not Alex's line)             3 Nov 2026
    Adele asks Patti, Isaiah and Lee "How was my talk?" (12 Nov); all three answer anonymously.
    Alex asks Adele "How is Isaiah doing?" (20 Nov): waiting for Adele's answer.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.access import load_actor
from domain.performance import feedback
from domain.performance.feedback_views import FeedbackVisibility, TagInput
from storage.models import AuditEntry
from storage.uow import unit_of_work
from tabs.settings import TabSettings

from .conftest import (
    ISAIAH,
    LEAVER,
    PATTI,
    PERSONAS,
    TENANT,
    SignIn,
    browser_like_jar,
    get_page,
    person_ids,
    persona_clients,
    tab_server,
    world_store,
)
from .conftest import visible_text as _text

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
V = FeedbackVisibility
PRIVATE_NOTE = "PRIVATE: Adele needs coaching on estimates"
SCRIPT = "<script>alert(1)</script><b>bold</b>"
ANONYMOUS = ("Speak slower", "Great slides", "More examples")
FEEDBACK_PERSONAS = {
    **PERSONAS,
    "isaiah": (TENANT, ISAIAH),
    "lee": (TENANT, LEAVER),
    "patti": (TENANT, PATTI),
}


@dataclass(frozen=True)
class FeedbackWorld:
    """A tab server (dev sign-in, clock at NOW) on the feedback above; person ids by first name."""

    base_url: str
    sessions: async_sessionmaker[AsyncSession]
    people: dict[str, int]


async def _give_feedback(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with unit_of_work(sessions) as db:
        people = await person_ids(db)
        who = {name: await load_actor(db, pid) for name, pid in people.items()}

        async def give(giver, recipient, text, day, *tags, visibility=V.RECIPIENT_AND_MANAGER):
            await feedback.give_feedback(
                db,
                actor=who[giver],
                recipient_id=people[recipient],
                text=text,
                now=datetime(2026, day[0], day[1], 10, tzinfo=UTC),
                tags=list(tags),
                visibility=visibility,
            )

        await give("patti", "adele", "Great demo", (11, 2), TagInput("Communication", 4))
        await give(
            "isaiah",
            "adele",
            "Thanks for the review",
            (10, 15),
            TagInput("Ownership", 5),
            visibility=V.RECIPIENT_ONLY,
        )
        await give("patti", "adele", PRIVATE_NOTE, (11, 5), visibility=V.MANAGER_ONLY)
        await give("isaiah", "adele", SCRIPT, (11, 6))
        await give("adele", "isaiah", "Nice refactor", (11, 10))
        await give("patti", "lee", "Lee's launch", (11, 3))
        talk = await feedback.request_feedback(
            db,
            actor=who["adele"],
            asked_ids=[people[n] for n in ("patti", "isaiah", "lee")],
            question="How was my talk?",
            now=datetime(2026, 11, 12, tzinfo=UTC),
        )
        for name, text in zip(("patti", "isaiah", "lee"), ANONYMOUS, strict=True):
            await feedback.answer_request(
                db,
                actor=who[name],
                request_id=talk.request.id,
                text=text,
                visibility=V.ANONYMOUS,
                now=datetime(2026, 11, 13, tzinfo=UTC),
            )
        await feedback.request_feedback(
            db,
            actor=who["alex"],
            subject_id=people["isaiah"],
            asked_ids=[people["adele"]],
            question="How is Isaiah doing?",
            now=datetime(2026, 11, 20, tzinfo=UTC),
        )
    return people


@pytest.fixture(scope="module")
async def feedback_world(
    tmp_path_factory: pytest.TempPathFactory, tab_settings: TabSettings
) -> AsyncIterator[FeedbackWorld]:
    """A tab server on its own database of the feedback above."""
    async with world_store(tmp_path_factory, "feedback") as sessions:
        people = await _give_feedback(sessions)
        async with tab_server(
            sessions, tab_settings, personas=FEEDBACK_PERSONAS, clock=lambda: NOW
        ) as base_url:
            yield FeedbackWorld(base_url, sessions, people)


@pytest.fixture
async def signed_in(feedback_world: FeedbackWorld) -> AsyncIterator[SignIn]:
    """Sign in as a persona: `client = await signed_in("employee")`."""
    async with persona_clients(feedback_world.base_url) as sign_in:
        yield sign_in


def _section(html: str, element_id: str) -> str:
    """The markup of the <section> with this id."""
    start = html.index(f'<section class="card fb-section" id="{element_id}"')
    return html[start : html.index("</section>", start)]


def _items(html: str) -> list[str]:
    """The text of each piece of feedback (fb-item__text) in the markup, as shown."""
    return [htmllib.unescape(t) for t in re.findall(r'<p class="fb-item__text">(.*?)</p>', html, re.S)]


def _pools(html: str) -> list[str]:
    """The markup of each block of pooled anonymous answers."""
    return re.findall(r'<div class="fb-pool">.*?</ul>\s*</div>', html, re.S)


def _pieces(html: str) -> list[str]:
    """The text of each piece of feedback shown by itself (outside the pools)."""
    for pool in _pools(html):
        html = html.replace(pool, "")
    return _items(html)


def _month_row(html: str, month: str) -> tuple[str, str]:
    """(count, average rating) of one month in the trend's table."""
    row = re.search(rf'<th scope="row">{month}</th><td>([^<]*)</td><td>([^<]*)</td>', html)
    assert row, f"no row for {month}"
    return row.group(1), row.group(2)


# --- an employee's own page --------------------------------------------------------------------------


async def test_an_employee_sees_what_she_received_gave_and_asked_for(signed_in) -> None:
    adele = await signed_in("employee")
    status, html = await get_page(adele, "/tabs/feedback")
    assert status == 200
    received, given, requested = (_section(html, s) for s in ("received", "given", "requested"))

    assert _pieces(received) == [SCRIPT, "Great demo", "Thanks for the review"], "newest first"
    [pool] = _pools(received)
    assert sorted(_items(pool)) == sorted(ANONYMOUS)
    assert "Isaiah Langer" in _text(received) and "Communication 4/5" in _text(received)
    assert "Only you and whoever gave it see it." in _text(received), "a recipient-only piece says so"
    assert _items(given) == ["Nice refactor"] and "To Isaiah Langer" in _text(given)
    requested_text = _text(requested)
    assert "“How was my talk?”" in requested_text
    assert "3 colleagues answered anonymously: “How was my talk?”" in requested_text
    assert "Waiting for your answer" in requested_text
    assert "About Isaiah Langer · asked by Alex Wilber · until 4 Dec 2026" in requested_text
    # The trend counts what she may see by itself: not the private note, not the pooled answers.
    assert _month_row(received, "November 2026") == ("2", "4.0")
    assert _month_row(received, "October 2026") == ("1", "5.0")
    bars = re.findall(
        r'<rect class="trend__bar" x="([\d.]+)" y="[\d.]+" width="12" height="([\d.]+)"', received
    )
    # The 11th and 12th of twelve 20-unit slots (bars 12 wide, centred), November the busiest at 40.
    assert bars == [("204.0", "20.0"), ("224.0", "40.0")]
    assert "Last 12 months (Dec 2025 to Nov 2026): 3 pieces of feedback, average rating 4.5 of 5." in received
    assert "My team" not in _text(html), "no one reports to Adele"


async def test_a_manager_only_note_is_on_the_managers_page_and_never_on_the_employees(
    signed_in, feedback_world
) -> None:
    adele = await signed_in("employee")
    for params in ({}, {"tag": ""}, {"person": feedback_world.people["patti"]}, {"from": "2026-11-05"}):
        status, html = await get_page(adele, "/tabs/feedback", **params)
        assert status == 200
        assert "PRIVATE" not in html and "coaching" not in html, params
    status, html = await get_page(adele, "/tabs/feedback", about=feedback_world.people["adele"])
    assert status == 200 and "PRIVATE" not in html, "?about= herself is her own page"

    alex = await signed_in("manager")
    status, html = await get_page(alex, "/tabs/feedback", about=feedback_world.people["adele"])
    assert status == 200
    received = _text(_section(html, "received"))
    assert PRIVATE_NOTE in received
    assert "Private note: only Adele Vance's managers and HR see it." in received
    assert "Thanks for the review" not in received, "a recipient-only piece is hers alone"
    assert _month_row(html, "November 2026") == ("3", "4.0"), "the note counts for him, the pool for no one"


async def test_anonymous_answers_show_only_as_a_pool_without_names_or_dates(
    signed_in, feedback_world
) -> None:
    adele = await signed_in("employee")
    people = feedback_world.people
    views = [{}, {"tag": "x"}, {"from": "2026-11-13", "to": "2026-11-13"}]
    views += [{"person": people[n]} for n in ("patti", "isaiah", "lee")]
    for params in views:
        status, html = await get_page(adele, "/tabs/feedback", **params)
        assert status == 200
        pools = _pools(html)
        outside = html
        for pool in pools:
            outside = outside.replace(pool, "")
            assert "answered anonymously" in pool
            for name in ("Patti", "Isaiah", "Lee", "Alex"):
                assert name not in pool, (params, name)
            assert not re.search(r"\b(Nov|November|2026)\b|\d{4}-\d\d-\d\d", pool), "no date in a pool"
            assert not re.search(r"\b(id|data-\w+)=", pool), "nothing to trace an answer by"
        for answer in ANONYMOUS:
            assert answer not in outside, (params, answer)

    _, html = await get_page(adele, "/tabs/feedback")
    [pool] = _pools(_section(html, "requested"))
    assert sorted(_items(pool)) == sorted(ANONYMOUS)
    _, html = await get_page(adele, "/tabs/feedback", **{"from": "2026-11-01"})
    assert "1 set of anonymous answers is left out: they have no giver or date to filter by." in _text(html)


# --- filters -----------------------------------------------------------------------------------------


async def test_filters_by_person_tag_and_date_are_links(signed_in, feedback_world) -> None:
    adele = await signed_in("employee")
    isaiah = feedback_world.people["isaiah"]

    _, html = await get_page(adele, "/tabs/feedback", person=isaiah)
    assert _pieces(_section(html, "received")) == [SCRIPT, "Thanks for the review"], "received: from Isaiah"
    assert _items(_section(html, "given")) == ["Nice refactor"], "given: to Isaiah"
    assert f'<option value="{isaiah}" selected>Isaiah Langer</option>' in html

    _, html = await get_page(adele, "/tabs/feedback", tag="COMMUNICATION")
    assert _pieces(_section(html, "received")) == ["Great demo"]
    assert "None of the feedback you gave matches the filters." in _text(html)
    assert '<option value="Communication">' in html, "tags she can see are suggested"

    _, html = await get_page(adele, "/tabs/feedback", **{"from": "2026-10-15", "to": "2026-11-02"})
    assert _pieces(_section(html, "received")) == ["Great demo", "Thanks for the review"], "both ends count"
    assert 'href="/tabs/feedback">Clear filters</a>' in html


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        (
            {"from": "2026-13-01"},
            "from",
            "The “From date” must be a date like 2026-11-23 (year-month-day), not “2026-13-01”.",
        ),
        (
            {"to": "yesterday"},
            "to",
            "The “To date” must be a date like 2026-11-23 (year-month-day), not “yesterday”.",
        ),
        (
            {"from": "2026-12-01", "to": "2026-11-01"},
            "from",
            "The “From date” (1 December 2026) is after the “To date” (1 November 2026): "
            "swap them, or clear one.",
        ),
        ({"person": "Patti"}, "person", "Choose a person from the list."),
    ],
)
async def test_a_bad_filter_is_explained_next_to_its_field(signed_in, params, field, message) -> None:
    adele = await signed_in("employee")
    status, html = await get_page(adele, "/tabs/feedback", **params)
    assert status == 400
    assert f"{message} Nothing below is filtered." in _text(html)
    assert re.search(rf'id="fb-{field}"[^>]*aria-invalid="true"', html), field
    assert "Great demo" in _text(_section(html, "received")), "the page still works, unfiltered"


# --- managers and HR ---------------------------------------------------------------------------------


async def test_a_manager_picks_a_report_and_sees_the_line_with_trends(signed_in, feedback_world) -> None:
    alex = await signed_in("manager")
    status, html = await get_page(alex, "/tabs/feedback")
    assert status == 200
    team = html[
        html.index('aria-labelledby="fb-team-heading"') : html.index("</section>", html.index("fb-team"))
    ]
    assert re.findall(r'<option value="(\d+)">([^<·]+)', team) == [
        (str(feedback_world.people["adele"]), "Adele Vance "),
        (str(feedback_world.people["isaiah"]), "Isaiah Langer "),
    ], "his line, by name; not Lee, who reports to Patti"

    status, html = await get_page(alex, "/tabs/feedback/team")
    assert status == 200
    text = _text(html)
    assert "Adele Vance" in text and "Isaiah Langer" in text and "Lee" not in text
    assert "Great demo" in text and PRIVATE_NOTE in text and "Nice refactor" in text
    assert "Thanks for the review" not in text
    assert text.count("Last 12 months (Dec 2025 to Nov 2026)") == 2, "a trend per person"
    adele = feedback_world.people["adele"]
    _, filtered = await get_page(alex, "/tabs/feedback/team", tag="communication")
    assert f'href="/tabs/feedback?tag=communication&amp;about={adele}"' in filtered
    assert "1 piece of feedback matching the filters" in _text(filtered)


@pytest.mark.parametrize(
    ("persona", "about", "status", "words"),
    [
        ("isaiah", "adele", 403, "You don't have access to this person's feedback."),
        ("manager", "lee", 403, "You don't have access to this person's feedback."),
        ("employee", "nobody", 404, "That person is not in the directory."),
        ("employee", 999_999, 404, "That person is not in the directory."),
    ],
)
async def test_someone_elses_feedback_is_refused_with_a_reason(
    signed_in, feedback_world, persona, about, status, words
) -> None:
    client = await signed_in(persona)
    about = feedback_world.people.get(about, about)
    got, html = await get_page(client, "/tabs/feedback", about=about)
    assert got == status
    assert words in _text(html)
    for secret in ("Great demo", "Lee's launch", PRIVATE_NOTE):
        assert secret not in _text(html)


async def test_my_team_is_for_managers(signed_in) -> None:
    isaiah = await signed_in("isaiah")
    status, html = await get_page(isaiah, "/tabs/feedback/team")
    assert status == 403
    assert "No one reports to you, so there is no team feedback to show." in _text(html)


async def test_hr_sees_everything_and_each_privileged_read_is_logged(signed_in, feedback_world) -> None:
    async def audits() -> int:
        async with unit_of_work(feedback_world.sessions) as db:
            return await db.scalar(
                select(func.count(AuditEntry.id)).where(AuditEntry.subject_type == "feedback")
            )

    before = await audits()
    megan = await signed_in("hr")
    status, html = await get_page(megan, "/tabs/feedback")
    assert status == 200
    for name in ("Lee Leaving", "Patti Fernandez", "Adele Vance"):
        assert f">{name} ·" in html, f"HR may pick {name}"

    status, html = await get_page(megan, "/tabs/feedback", about=feedback_world.people["adele"])
    assert status == 200
    received = _text(_section(html, "received"))
    for text in (PRIVATE_NOTE, "Thanks for the review", *ANONYMOUS):
        assert text in received
    assert "Anonymous to Adele Vance: you see who gave it as HR, and this read is logged." in received
    assert _pools(html) == [], "HR reads the answers one by one, with who gave them"
    # The private note outside her line and three anonymous givers: four audited reads, committed.
    assert await audits() == before + 4

    status, html = await get_page(megan, "/tabs/feedback", about=feedback_world.people["lee"])
    assert status == 200 and "Lee's launch" in _text(html)


async def test_hr_finds_a_person_by_name(signed_in, feedback_world) -> None:
    megan = await signed_in("hr")
    _, html = await get_page(megan, "/tabs/feedback", find="LEE")
    assert re.findall(r'<option value="(\d+)">([^<·]+)', html) == [
        (str(feedback_world.people["lee"]), "Lee Leaving ")
    ]
    _, html = await get_page(megan, "/tabs/feedback", find="nobody")
    assert "No one has “nobody” in their name." in _text(html)
    status, html = await get_page(megan, "/tabs/feedback", find="x" * 101)
    assert status == 400 and "Search for at most 100 characters of a name." in _text(html)
    assert re.search(r'id="fb-find"[^>]*aria-invalid="true"', html)
    # Someone the list doesn't show (here: filtered out by the search) stays chosen while their page is open.
    _, html = await get_page(megan, "/tabs/feedback", find="LEE", about=feedback_world.people["adele"])
    assert f'<option value="{feedback_world.people["adele"]}" selected>Adele Vance</option>' in html


# --- the page itself ---------------------------------------------------------------------------------


async def test_markup_in_feedback_is_shown_as_text(signed_in) -> None:
    adele = await signed_in("employee")
    _, html = await get_page(adele, "/tabs/feedback")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in html
    assert "<script>alert" not in html and "<b>bold" not in html


async def test_the_page_needs_sign_in_and_keeps_the_theme(feedback_world, signed_in) -> None:
    base = feedback_world.base_url
    async with aiohttp.ClientSession(base, cookie_jar=browser_like_jar(base)) as anonymous:
        status, _ = await get_page(anonymous, "/tabs/feedback")
        assert status == 302
    alex = await signed_in("manager")
    status, html = await get_page(alex, "/tabs/feedback", theme="contrast")
    assert status == 200 and '<body class="theme-contrast"' in html
    assert html.count('<input type="hidden" name="theme" value="contrast">') == 2, "both forms keep it"
    assert 'href="/tabs/feedback/team?theme=contrast"' in html
