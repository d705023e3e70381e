"""The Home tab's people picker: Graph searched on behalf of the user (OBO), consent prompts, dev fallback.

Real HTTP throughout: the tab server on 127.0.0.1, tab SSO tokens minted by the identity stand-in, and
the token exchange and Graph search answered by the Graph stand-in (msal talks to its https endpoint).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory.tokens import TokenSource
from tabs.people import CONSENT_MESSAGE, PEOPLE_SCOPES, PeopleDirectory
from tabs.settings import TabSettings
from tests.support.graph import OBO_GRANT, GraphStandIn
from tests.support.identity import IdentityProviderStandIn

from .conftest import ADELE, ALEX, PERSONAS, TENANT, browser_like_jar, dev_sign_in, tab_server
from .test_browser import Browser, _open, _sign_in_by_clicking, browser, expect

__all__ = ["browser"]  # the Chromium fixture, shared with test_browser

JSON = {"Accept": "application/json"}
SCOPE = PEOPLE_SCOPES[0]


@pytest.fixture(scope="module")
async def graph(idp: IdentityProviderStandIn) -> AsyncIterator[GraphStandIn]:
    """Entra's token endpoint and Graph, for the same app registration the tab tokens are issued for."""
    async with GraphStandIn(tenant_id=TENANT, client_id=idp.client_id) as stand_in:
        stand_in.add_user(
            displayName="Alex Wilber", mail="alexw@contoso.example", jobTitle="Engineering Manager"
        )
        stand_in.add_user(displayName="Alexandra Smith", mail="alexs@contoso.example", jobTitle="Designer")
        stand_in.add_user(displayName="Megan Bowen", mail="meganb@contoso.example", jobTitle="VP of People")
        yield stand_in


@pytest.fixture(scope="module")
async def people_url(
    db: async_sessionmaker[AsyncSession], tab_settings: TabSettings, graph: GraphStandIn
) -> AsyncIterator[str]:
    """A tab server with SSO and the Graph people search (developer sign-in off)."""
    directory = graph.settings()
    people = PeopleDirectory(
        TokenSource(directory, verify=graph.ca_file),
        graph_base_url=directory.graph_base_url,
        authority=directory.authority,
        client_id=directory.client_id,
    )
    settings = replace(tab_settings, dev_sign_in=False, public_base_url="https://trellis.example")
    async with tab_server(db, settings, personas=PERSONAS, people=people) as url:
        yield url


async def _people(
    base: str, q: str | None, *, token: str | None = None, client: aiohttp.ClientSession | None = None
) -> tuple[int, Any, aiohttp.ClientResponse]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    params = {"q": q} if q is not None else {}
    async with aiohttp.ClientSession() as own:
        session = client or own
        async with session.get(f"{base}/tabs/api/people", params=params, headers=headers) as response:
            body = await response.json()
            return response.status, body, response


async def test_a_search_exchanges_the_sso_token_on_behalf_of_the_user_and_asks_graph(
    people_url: str, idp: IdentityProviderStandIn, graph: GraphStandIn
) -> None:
    token = idp.mint(oid=ALEX)
    before = len(graph.requests)
    status, body, response = await _people(people_url, "ale", token=token)
    assert status == 200, body
    assert response.headers["X-Trellis-People-Source"] == "graph"
    assert response.headers["Cache-Control"] == "no-store"
    assert sorted(p["displayName"] for p in body) == ["Alex Wilber", "Alexandra Smith"]
    assert set(body[0]) == {"id", "displayName", "mail", "jobTitle"}
    alex = next(p for p in body if p["displayName"] == "Alex Wilber")
    assert alex["mail"] == "alexw@contoso.example"
    assert alex["jobTitle"] == "Engineering Manager"

    new = graph.requests[before:]
    exchanges = [r for r in new if r.path.endswith("/oauth2/v2.0/token")]
    assert len(exchanges) == 1
    form = exchanges[0].body
    assert exchanges[0].path == f"/{TENANT}/oauth2/v2.0/token"
    assert form["grant_type"] == OBO_GRANT
    assert form["requested_token_use"] == "on_behalf_of"
    assert form["assertion"] == token  # the user's own tab token, not an app token
    assert form["client_id"] == idp.client_id
    assert SCOPE in form["scope"].split()
    assert exchanges[0].status == 200

    searches = [r for r in new if r.path == "/v1.0/users"]
    assert len(searches) == 1
    search = searches[0]
    assert search.status == 200
    assert search.authorization is not None and search.authorization.startswith("Bearer obo-")
    assert search.headers["ConsistencyLevel"] == "eventual"
    assert search.query["$search"] == '"displayName:ale"'
    assert search.query["$select"] == "id,displayName,mail,jobTitle"
    assert search.query["$top"] == "10"


async def test_search_text_cannot_break_out_of_the_graph_search_syntax(
    people_url: str, idp: IdentityProviderStandIn, graph: GraphStandIn
) -> None:
    status, body, _ = await _people(people_url, 'meg" OR "displayName:a', token=idp.mint(oid=ALEX))
    assert status == 200, body
    assert graph.graph_requests[-1].query["$search"] == '"displayName:meg OR displayName:a"'


async def test_missing_consent_answers_403_with_the_scopes(
    people_url: str, idp: IdentityProviderStandIn, graph: GraphStandIn
) -> None:
    graph.consent_required = True
    try:
        before = len(graph.requests)
        status, body, response = await _people(people_url, "megan", token=idp.mint(oid=ALEX))
    finally:
        graph.consent_required = False
    assert status == 403
    assert response.content_type == "application/json"
    assert body["error"] == "consent_required"
    assert body["message"] == CONSENT_MESSAGE
    assert body["scopes"] == [SCOPE]
    assert body["consentUrl"].startswith("/tabs/consent?scope=")
    assert "administrator" in body["adminHint"]
    new = graph.requests[before:]
    assert [r.status for r in new if r.path.endswith("/token")] == [400]  # AADSTS65001
    assert not [r for r in new if r.path.startswith("/v1.0/")]  # Graph never asked


async def test_a_query_shorter_than_two_characters_is_refused(
    people_url: str, idp: IdentityProviderStandIn, graph: GraphStandIn
) -> None:
    before = len(graph.requests)
    for q in (None, "", "a", "  b  ", '"'):
        status, body, _ = await _people(people_url, q, token=idp.mint(oid=ALEX))
        assert status == 400, q
        assert "at least 2 characters" in body["error"]
    status, body, _ = await _people(people_url, "x" * 101, token=idp.mint(oid=ALEX))
    assert status == 400
    assert "too long" in body["error"]
    assert graph.requests[before:] == []  # nothing exchanged for a search that cannot run


async def test_no_token_or_a_bad_one_is_refused_with_401(
    people_url: str, idp: IdentityProviderStandIn, graph: GraphStandIn
) -> None:
    before = len(graph.requests)
    status, body, response = await _people(people_url, "alex")
    assert status == 401
    assert body == {"error": "sign in with Teams single sign-on to search people"}
    for token, reason in (
        (idp.mint(oid=ALEX, expires_in=-300), "expired"),
        (idp.mint(oid=ALEX, key="attacker"), "signature"),
        ("not.a.jwt", "malformed"),
    ):
        status, body, response = await _people(people_url, "alex", token=token)
        assert status == 401, reason
        assert reason in body["error"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert graph.requests[before:] == []  # a refused token is never sent to Entra


async def test_a_cookie_session_cannot_be_exchanged_without_dev_sign_in(
    people_url: str, serve_tabs: Any, idp: IdentityProviderStandIn
) -> None:
    # A session made with SSO on the server without dev sign-in: no token to exchange on later calls.
    async with aiohttp.ClientSession(people_url, cookie_jar=browser_like_jar(people_url)) as client:
        async with client.post(
            "/tabs/session", headers={"Authorization": f"Bearer {idp.mint(oid=ALEX)}"}
        ) as r:
            assert r.status == 204
        async with client.get("/tabs/api/people", params={"q": "alex"}) as response:
            assert response.status == 401
            assert (await response.json())["error"] == "sign in with Teams single sign-on to search people"


async def test_dev_sign_in_searches_the_local_directory(serve_tabs: Any) -> None:
    base = await serve_tabs()  # SSO and developer sign-in on, no Graph connection
    async with aiohttp.ClientSession(base, cookie_jar=browser_like_jar(base)) as client:
        await dev_sign_in(client, "employee")
        async with client.get("/tabs/api/people", params={"q": "al"}) as response:
            assert response.status == 200
            assert response.headers["X-Trellis-People-Source"] == "local"
            found = await response.json()
        # Alex matches by first name; "Fran Former" (inactive) and people outside the tenant never do.
        assert [p["displayName"] for p in found] == ["Alex Wilber"]
        assert found[0]["id"] == ALEX
        async with client.get("/tabs/api/people", params={"q": "%_"}) as response:
            assert await response.json() == []  # LIKE wildcards are matched literally
        async with client.get("/tabs/api/people", params={"q": "vance"}) as response:
            assert [p["id"] for p in await response.json()] == [ADELE]


async def test_the_home_tab_offers_the_picker(people_url: str, idp: IdentityProviderStandIn) -> None:
    async with (
        aiohttp.ClientSession() as client,
        client.get(f"{people_url}/tabs/home", headers={"Authorization": f"Bearer {idp.mint(oid=ALEX)}"}) as r,
    ):
        html = await r.text()
    assert r.status == 200
    assert "Find a colleague" in html
    assert "/tabs/static/people.js" in html


async def test_the_consent_page_redirects_to_entra_with_prompt_consent(
    people_url: str, graph: GraphStandIn
) -> None:
    async with (
        aiohttp.ClientSession() as client,
        client.get(
            f"{people_url}/tabs/consent",
            params={"scope": SCOPE, "login_hint": "alexw@contoso.example"},
            allow_redirects=False,
        ) as response,
    ):
        assert response.status == 302
        location = response.headers["Location"]
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}" == graph.authority_host
    assert parts.path == f"/{TENANT}/oauth2/v2.0/authorize"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["prompt"] == "consent"
    assert query["client_id"] == graph.client_id
    assert query["scope"].split() == [SCOPE]
    assert query["redirect_uri"] == "https://trellis.example/tabs/consent/end"
    assert query["response_type"] == "code"
    assert query["response_mode"] == "form_post"
    assert query["login_hint"] == "alexw@contoso.example"


async def test_the_consent_page_asks_for_nothing_else(people_url: str) -> None:
    async with (
        aiohttp.ClientSession() as client,
        client.get(
            f"{people_url}/tabs/consent",
            params={"scope": "https://graph.microsoft.com/Mail.ReadWrite"},
            allow_redirects=False,
        ) as response,
    ):
        assert response.status == 400


async def test_the_consent_end_page_reports_the_outcome_to_teams(people_url: str) -> None:
    async with aiohttp.ClientSession() as client:
        async with client.post(f"{people_url}/tabs/consent/end", data={"code": "ignored"}) as response:
            html = await response.text()
            assert response.status == 200
            assert 'data-outcome="success"' in html
            assert "/tabs/static/consent.js" in html
            assert "ignored" not in html
        async with client.post(
            f"{people_url}/tabs/consent/end",
            data={"error": "access_denied", "error_description": "AADSTS65004: User declined to consent."},
        ) as response:
            html = await response.text()
            assert 'data-outcome="failure"' in html
            assert "AADSTS65004: User declined to consent." in html


@pytest.mark.browser
async def test_the_page_shows_a_consent_prompt_when_the_api_asks_for_consent(
    browser: Browser, base_url: str
) -> None:
    """Outside Teams there is no authentication window: the prompt names what to ask an administrator."""
    watched = await _open(browser, viewport={"width": 1366, "height": 900})
    try:
        page = watched.page
        await _sign_in_by_clicking(watched, base_url)
        answer = {
            "error": "consent_required",
            "message": CONSENT_MESSAGE,
            "scopes": [SCOPE],
            "consentUrl": "/tabs/consent?scope=" + SCOPE,
            "adminHint": "Ask your administrator to grant admin consent for User.ReadBasic.All.",
        }
        await page.route(
            "**/tabs/api/people?**",
            lambda route: route.fulfill(status=403, content_type="application/json", body=json.dumps(answer)),
        )
        await page.get_by_label("Name").fill("megan")
        await page.get_by_role("button", name="Search").click()
        prompt = page.locator("#people-consent")
        await expect(prompt).to_be_visible()
        await expect(prompt).to_contain_text(CONSENT_MESSAGE)
        await expect(prompt).to_contain_text("Open Trellis in Microsoft Teams to give permission")
        await expect(prompt).to_contain_text("User.ReadBasic.All")
        await expect(page.get_by_role("button", name="Give permission")).to_be_hidden()
        watched.errors = [e for e in watched.errors if "/tabs/api/people" not in e and "403" not in e]
        await watched.assert_clean()

        # With dev sign-in the real API searches the local directory.
        await page.unroute("**/tabs/api/people?**")
        await page.get_by_role("button", name="Search").click()
        await expect(page.locator("#people-status")).to_have_text("1 person found.")
        await expect(page.locator("#people-results")).to_contain_text("Megan Bowen")
    finally:
        await watched.context.close()
