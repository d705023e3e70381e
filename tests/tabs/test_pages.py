"""Tab pages over HTTP: dev sign-in, CSRF, redirects, security headers, escaping and sign-out."""

from __future__ import annotations

import html as htmllib
import re
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from yarl import URL

from storage.models import Person
from tabs.navigation import safe_next
from tabs.security import FRAME_ANCESTORS
from tabs.sessions import SessionSigner
from tests.support.identity import IdentityProviderStandIn

from .conftest import (
    LEAVER,
    PERSONAS,
    SECRET,
    TENANT,
    XSS,
    ServeTabs,
    browser_like_jar,
    csrf_field,
    dev_sign_in,
)


def _text(html: str) -> str:
    """Visible text, roughly: tags stripped, entities decoded, whitespace collapsed."""
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def _page(client: aiohttp.ClientSession, path: str) -> tuple[int, str]:
    async with client.get(path, allow_redirects=False) as response:
        return response.status, await response.text()


# --- dev sign-in -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "expected", "absent"),
    [
        (
            "employee",
            ["Adele Vance", "Senior Software Engineer", "Your manager Alex Wilber", "No one reports to you"],
            ["Isaiah Langer", "HR admin"],
        ),
        (
            "manager",
            [
                "Alex Wilber",
                "Your manager Patti Fernandez",
                "2 people report to you",
                "Adele Vance",
                "Manager",
            ],
            ["HR admin"],
        ),
        (
            "hr",
            ["Megan Bowen", "VP of People", "HR admin", "No manager is recorded", "1 person reports to you"],
            ["Alex Wilber"],
        ),
    ],
)
async def test_dev_sign_in_shows_each_persona_their_home(
    http: aiohttp.ClientSession, persona: str, expected: list[str], absent: list[str]
) -> None:
    assert await dev_sign_in(http, persona) == "/tabs/home"
    status, html = await _page(http, "/tabs/home")
    assert status == 200
    text = _text(html)
    for fragment in expected:
        assert fragment in text, fragment
    for fragment in absent:
        assert fragment not in text, fragment
    assert "Nothing is due right now." in text
    assert "Sign out" in text


async def test_the_persona_picker_lists_people_from_the_directory(http: aiohttp.ClientSession) -> None:
    status, html = await _page(http, "/tabs/signin")
    assert status == 200
    text = _text(html)
    for name in ("Adele Vance", "Alex Wilber", "Megan Bowen"):
        assert name in text


async def test_a_persona_missing_from_the_directory_is_shown_as_such(serve_tabs: ServeTabs) -> None:
    base = await serve_tabs(personas={"ghost": (TENANT, "00000000-0000-0000-0000-0000000000777")})
    async with aiohttp.ClientSession(base, cookie_jar=browser_like_jar(base)) as client:
        _, html = await _page(client, "/tabs/signin")
        assert "not in the directory" in _text(html)
        async with client.post(
            "/tabs/dev-signin",
            data={"csrf_token": csrf_field(html), "persona": "ghost"},
            allow_redirects=False,
        ) as response:
            assert response.status == 403


async def test_dev_sign_in_is_refused_when_disabled(serve_tabs: ServeTabs) -> None:
    base = await serve_tabs(dev_sign_in=False)
    async with aiohttp.ClientSession(base, cookie_jar=browser_like_jar(base)) as client:
        status, html = await _page(client, "/tabs/signin")
        assert status == 200
        assert "Developer sign-in" not in html
        assert 'action="/tabs/dev-signin"' not in html
        # Even with a valid sign-in CSRF pair the persona route stays shut.
        signer = SessionSigner(SECRET)
        client.cookie_jar.update_cookies({"trellis_signin": "n0nce"}, response_url=URL(base))
        async with client.post(
            "/tabs/dev-signin",
            data={"csrf_token": signer.signin_token("n0nce"), "persona": "manager"},
            allow_redirects=False,
        ) as response:
            assert response.status == 403
            assert "Developer sign-in is off" in await response.text()
            assert "trellis_session" not in response.headers.get("Set-Cookie", "")


async def test_an_unknown_persona_is_refused(http: aiohttp.ClientSession) -> None:
    _, html = await _page(http, "/tabs/signin")
    async with http.post(
        "/tabs/dev-signin", data={"csrf_token": csrf_field(html), "persona": "ceo"}, allow_redirects=False
    ) as response:
        assert response.status == 400


# --- CSRF ----------------------------------------------------------------------------------------------


async def test_dev_sign_in_without_a_csrf_token_is_403(http: aiohttp.ClientSession) -> None:
    await _page(http, "/tabs/signin")  # has the nonce cookie, but the form token is missing or wrong
    for data in ({"persona": "manager"}, {"persona": "manager", "csrf_token": "guess"}):
        async with http.post("/tabs/dev-signin", data=data, allow_redirects=False) as response:
            assert response.status == 403
            assert "trellis_session" not in response.headers.get("Set-Cookie", "")


async def test_dev_sign_in_with_a_token_but_no_nonce_cookie_is_403(base_url: str) -> None:
    async with aiohttp.ClientSession(base_url, cookie_jar=browser_like_jar(base_url)) as client:
        _, html = await _page(client, "/tabs/signin")
        token = csrf_field(html)
    # A cross-site form can copy a token but cannot carry the victim's matching cookie.
    async with (
        aiohttp.ClientSession(base_url) as attacker,
        attacker.post(
            "/tabs/dev-signin", data={"csrf_token": token, "persona": "hr"}, allow_redirects=False
        ) as response,
    ):
        assert response.status == 403


async def test_sign_out_without_the_session_csrf_token_is_403(http: aiohttp.ClientSession) -> None:
    await dev_sign_in(http, "manager")
    async with http.post("/tabs/signout", data={}, allow_redirects=False) as response:
        assert response.status == 403
    assert (await _page(http, "/tabs/home"))[0] == 200  # still signed in


# --- redirects -----------------------------------------------------------------------------------------


async def test_unauthenticated_pages_redirect_to_sign_in_with_a_safe_next(
    http: aiohttp.ClientSession,
) -> None:
    async with http.get("/tabs/home?theme=dark", allow_redirects=False) as response:
        assert response.status == 302
        location = response.headers["Location"]
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc
    assert parts.path == "/tabs/signin"
    assert parse_qs(parts.query)["next"] == ["/tabs/home?theme=dark"]


async def test_unauthenticated_json_requests_get_401(http: aiohttp.ClientSession) -> None:
    async with http.get("/tabs/home", headers={"Accept": "application/json"}, allow_redirects=False) as r:
        assert r.status == 401
        assert await r.json() == {"error": "not signed in"}


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "//evil.example/tabs/home",
        "/\\evil.example",
        "https:/evil.example",
        "/tabs/home\r\nSet-Cookie: x=y",
        "javascript:alert(1)",
        "/not-a-tab",
        "/tabs/signout",
    ],
)
async def test_open_redirects_are_ignored(http: aiohttp.ClientSession, target: str) -> None:
    assert safe_next(target) == "/tabs/home"
    assert await dev_sign_in(http, "employee", next_path=target) == "/tabs/home"


async def test_a_safe_next_is_followed(http: aiohttp.ClientSession) -> None:
    assert (
        await dev_sign_in(http, "employee", next_path="/tabs/privacy?theme=dark")
        == "/tabs/privacy?theme=dark"
    )


async def test_the_signin_page_embeds_only_a_safe_next(http: aiohttp.ClientSession) -> None:
    _, html = await _page(http, "/tabs/signin?next=https://evil.example")
    assert "evil.example" not in html


async def test_a_signed_in_visitor_skips_the_signin_page(http: aiohttp.ClientSession) -> None:
    await dev_sign_in(http, "employee")
    async with http.get("/tabs/signin?next=/tabs/terms", allow_redirects=False) as response:
        assert response.status == 302
        assert response.headers["Location"] == "/tabs/terms"


# --- security headers -----------------------------------------------------------------------------------


async def test_tab_pages_may_be_framed_by_microsoft_365_only(http: aiohttp.ClientSession) -> None:
    async with http.get("/tabs/signin") as response:
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert "X-Frame-Options" not in response.headers
    await dev_sign_in(http, "employee")
    for path in ("/tabs/home", "/tabs/privacy", "/tabs/terms"):
        async with http.get(path, allow_redirects=False) as response:
            assert response.status == 200, path
            csp = response.headers["Content-Security-Policy"]
            assert f"frame-ancestors {FRAME_ANCESTORS};" in csp
            assert "https://teams.microsoft.com" in csp
            assert re.search(r"script-src 'self' 'nonce-[\w-]{20,}';", csp)
            assert "default-src 'self'" in csp and "base-uri 'none'" in csp and "form-action 'self'" in csp
            assert "unsafe-inline" not in csp
            assert "X-Frame-Options" not in response.headers, path
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


async def test_each_page_gets_a_fresh_nonce(http: aiohttp.ClientSession) -> None:
    nonces = set()
    for _ in range(3):
        async with http.get("/tabs/signin") as response:
            nonces.add(re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1))
    assert len(nonces) == 3


@pytest.mark.parametrize(
    "path", ["/privacy", "/terms", "/api/not-a-tab", "/tabs/static/trellis.css", "/nowhere", "/tabs/nowhere"]
)
async def test_other_routes_may_not_be_framed(http: aiohttp.ClientSession, path: str) -> None:
    async with http.get(path, allow_redirects=False) as response:
        assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'", path
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_error_pages_carry_the_tab_policy(base_url: str, idp: IdentityProviderStandIn) -> None:
    async with (
        aiohttp.ClientSession(base_url) as client,
        client.get("/tabs/home", headers={"Authorization": f"Bearer {idp.mint(key='attacker')}"}) as response,
    ):
        assert response.status == 401
        assert "frame-ancestors https://teams.microsoft.com" in response.headers["Content-Security-Policy"]


async def test_pages_use_no_inline_script_or_style(http: aiohttp.ClientSession) -> None:
    pages = [(await _page(http, "/tabs/signin?signed_out=1"))[1]]
    await dev_sign_in(http, "manager")
    for path in ("/tabs/home", "/tabs/privacy"):
        pages.append((await _page(http, path))[1])
    for html in pages:
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)
        assert " style=" not in html and "<style" not in html
        assert not re.search(r"\son\w+=", html)  # no inline event handlers


async def test_teams_js_is_served_from_our_origin(http: aiohttp.ClientSession, tab_settings) -> None:
    if tab_settings.teams_js_path is None:
        pytest.fail("node_modules/@microsoft/teams-js is missing: run `make test`", pytrace=False)
    _, html = await _page(http, "/tabs/signin")
    assert '<script src="/tabs/static/vendor/teams-js.min.js" defer></script>' in html
    async with http.get("/tabs/static/vendor/teams-js.min.js") as response:
        assert response.status == 200
        assert "javascript" in response.content_type
        assert "microsoftTeams" in await response.text()


async def test_pages_work_without_teams_js(serve_tabs: ServeTabs) -> None:
    base = await serve_tabs(teams_js_path=None)
    async with aiohttp.ClientSession(base) as client:
        status, html = await _page(client, "/tabs/signin")
        assert status == 200
        assert "teams-js" not in html


# --- escaping --------------------------------------------------------------------------------------------


async def test_display_names_are_escaped_everywhere(serve_tabs: ServeTabs) -> None:
    base = await serve_tabs(personas={"xss": (TENANT, XSS), "hr": (TENANT, PERSONAS["hr"][1])})
    pages = []
    for persona, path in (("xss", "/tabs/signin"), ("xss", "/tabs/home"), ("hr", "/tabs/home")):
        async with aiohttp.ClientSession(base, cookie_jar=browser_like_jar(base)) as client:
            if path != "/tabs/signin":
                await dev_sign_in(client, persona)
            pages.append((await _page(client, path))[1])
    picker, own, managers = pages  # Megan's page lists the person among her reports
    for html in (picker, own, managers):
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>bold</b>" not in own and "&lt;b&gt;bold&lt;/b&gt;" in own


# --- sessions --------------------------------------------------------------------------------------------


async def test_sign_out_clears_the_session(http: aiohttp.ClientSession, base_url: str) -> None:
    home = URL(base_url).with_path("/tabs/home")
    await dev_sign_in(http, "manager")
    _, html = await _page(http, "/tabs/home")
    assert "trellis_session" in http.cookie_jar.filter_cookies(home)
    async with http.post("/tabs/signout", data={"csrf_token": csrf_field(html)}, allow_redirects=False) as r:
        assert r.status == 303
        assert r.headers["Location"].startswith("/tabs/signin?")
        assert "signed_out=1" in r.headers["Location"]
        assert "trellis_session=;" in r.headers["Set-Cookie"] and "Max-Age=0" in r.headers["Set-Cookie"]
    status, _ = await _page(http, "/tabs/home")
    assert status == 302
    status, html = await _page(http, "/tabs/signin?signed_out=1")
    assert status == 200 and "You're signed out." in htmllib.unescape(html)
    assert "trellis_session" not in http.cookie_jar.filter_cookies(home)


async def test_a_forged_or_tampered_cookie_is_ignored(base_url: str) -> None:
    forged = SessionSigner("some other secret").issue(1)[1]
    good = SessionSigner(SECRET).issue(1)[1]
    tampered = good.replace(good[5], "A" if good[5] != "A" else "B", 1)
    for value in (forged, tampered, "garbage", good.split(".")[0]):
        async with (
            aiohttp.ClientSession(base_url) as client,
            client.get(
                "/tabs/home", headers={"Cookie": f"trellis_session={value}"}, allow_redirects=False
            ) as response,
        ):
            assert response.status == 302, value
            assert "trellis_session=;" in response.headers.get("Set-Cookie", "")


async def test_an_expired_session_is_signed_out() -> None:
    now = [1_000_000.0]
    signer = SessionSigner(SECRET, clock=lambda: now[0])
    session, value = signer.issue(7)
    assert signer.read(value) == session
    assert session.expires_at - now[0] == 8 * 3600
    now[0] += 8 * 3600 + 1
    assert signer.read(value) is None


async def test_a_deactivated_person_is_signed_out(
    serve_tabs: ServeTabs, db: async_sessionmaker[AsyncSession]
) -> None:
    base = await serve_tabs(personas={"leaver": (TENANT, LEAVER)})
    async with aiohttp.ClientSession(base, cookie_jar=browser_like_jar(base)) as client:
        await dev_sign_in(client, "leaver")
        assert (await _page(client, "/tabs/home"))[0] == 200
        async with db() as session:
            await session.execute(update(Person).where(Person.aad_object_id == LEAVER).values(active=False))
            await session.commit()
        try:
            status, _ = await _page(client, "/tabs/home")
            assert status == 302
        finally:
            async with db() as session:
                await session.execute(
                    update(Person).where(Person.aad_object_id == LEAVER).values(active=True)
                )
                await session.commit()


# --- legal pages -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/privacy", "/terms", "/tabs/privacy", "/tabs/terms"])
async def test_legal_pages_are_public(base_url: str, path: str) -> None:
    async with aiohttp.ClientSession(base_url) as client:
        status, html = await _page(client, path)
    assert status == 200
    assert "Sign out" not in html
    assert 'href="/tabs/privacy"' in html and 'href="/tabs/terms"' in html


async def test_every_link_on_the_pages_resolves(http: aiohttp.ClientSession) -> None:
    _, signin = await _page(http, "/tabs/signin?signed_out=1")
    seen: set[str] = set(re.findall(r'(?:href|src)="(/[^"#]*)', signin))
    await dev_sign_in(http, "manager")
    for page in ("/tabs/home", "/tabs/privacy", "/tabs/terms"):
        _, html = await _page(http, page)
        seen.update(re.findall(r'(?:href|src)="(/[^"#]*)', html))
    for link in sorted(seen):
        status, _ = await _page(http, htmllib.unescape(link))
        assert status == 200, link


# --- the demo organization -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "name", "role"),
    [
        ("employee", "Adele Vance", None),
        ("manager", "Alex Wilber", "Manager"),
        ("hr", "Megan Bowen", "HR admin"),
    ],
)
async def test_dev_sign_in_to_the_demo_organization(
    demo_base_url: str, persona: str, name: str, role: str | None
) -> None:
    async with aiohttp.ClientSession(demo_base_url, cookie_jar=browser_like_jar(demo_base_url)) as client:
        _, picker = await _page(client, "/tabs/signin")
        assert name in _text(picker)
        await dev_sign_in(client, persona)
        status, html = await _page(client, "/tabs/home")
    assert status == 200
    text = _text(html)
    assert f"Signed in as {name}" in text
    if role:
        assert role in text
    if persona == "employee":
        assert "Your manager Alex Wilber" in text
    if persona == "manager":
        assert "Adele Vance" in text and "report to you" in text
