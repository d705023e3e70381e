"""Tab SSO: Entra tokens from the local identity provider are accepted or refused with 401/403."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import jwt
import pytest

from tabs.sso import SigningKeys, TokenRejected, TokenValidator
from tests.support.identity import IdentityProviderStandIn

from .conftest import ALEX, FORMER, OTHER_TENANT, STRANGER, TENANT, XSS, ServeTabs, browser_like_jar

JSON = {"Accept": "application/json"}
OTHER_APP = "00000000-1111-2222-3333-444444444444"


async def _home(base_url: str, token: str, **headers: str) -> tuple[int, str, aiohttp.ClientResponse]:
    async with (
        aiohttp.ClientSession() as client,
        client.get(
            f"{base_url}/tabs/home", headers={"Authorization": f"Bearer {token}", **headers}
        ) as response,
    ):
        return response.status, await response.text(), response


@pytest.mark.parametrize("version", [2, 1])
async def test_a_good_token_shows_the_home_tab(
    base_url: str, idp: IdentityProviderStandIn, version: int
) -> None:
    token = idp.mint(version=version, oid=ALEX, tenant_id=TENANT)
    status, html, _ = await _home(base_url, token)
    assert status == 200
    assert "Alex Wilber" in html
    assert "Patti Fernandez" in html  # his manager


def _bad_tokens(idp: IdentityProviderStandIn) -> dict[str, tuple[str, str]]:
    """Tokens that must be refused, with the reason the server gives."""
    issuer_of_other = f"https://login.microsoftonline.com/{OTHER_TENANT}/v2.0"
    return {
        "wrong signing key": (idp.mint(oid=ALEX, key="attacker"), "signature"),
        "unknown key id": (idp.mint(oid=ALEX, key="attacker", kid="not-published"), "unknown key"),
        "wrong audience": (idp.mint(oid=ALEX, audience=OTHER_APP), "application"),
        "v1 token for another app id URI": (
            idp.mint(oid=ALEX, version=1, audience="api://evil.example/" + idp.client_id),
            "application",
        ),
        "tenant not allowed": (idp.mint(oid=ALEX, tenant_id=OTHER_TENANT), "tenant"),
        "expired": (idp.mint(oid=ALEX, expires_in=-300), "expired"),
        "not valid yet": (idp.mint(oid=ALEX, claims={"nbf": int(time.time()) + 600}), "not valid yet"),
        "missing scp": (idp.mint(oid=ALEX, claims={"scp": None}), "access_as_user"),
        "other scope only": (idp.mint(oid=ALEX, scp="User.Read"), "access_as_user"),
        "missing oid": (idp.mint(claims={"oid": None}), "oid"),
        "missing tid": (idp.mint(oid=ALEX, claims={"tid": None}), "tid"),
        "issuer and tid disagree": (idp.mint(oid=ALEX, claims={"iss": issuer_of_other}), "issuer"),
        "not an Entra issuer": (idp.mint(oid=ALEX, claims={"iss": "https://evil.example/v2.0"}), "Entra"),
        "malformed": ("not.a.jwt", "malformed"),
        "unsigned": (_unsigned(idp), "algorithm"),
    }


def _unsigned(idp: IdentityProviderStandIn) -> str:
    claims: dict[str, Any] = jwt.decode(idp.mint(oid=ALEX), options={"verify_signature": False})
    return jwt.encode(claims, key=None, algorithm="none")


async def test_bad_tokens_get_401_with_a_reason(base_url: str, idp: IdentityProviderStandIn) -> None:
    for case, (token, reason) in _bad_tokens(idp).items():
        status, body, response = await _home(base_url, token, **JSON)
        assert status == 401, case
        assert response.content_type == "application/json", case
        assert reason in body, (case, body)
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), case
        assert "Alex Wilber" not in body, case


async def test_a_bad_token_on_a_page_gets_a_401_page_with_a_retry(
    base_url: str, idp: IdentityProviderStandIn
) -> None:
    status, html, response = await _home(base_url, idp.mint(oid=ALEX, expires_in=-300))
    assert status == 401
    assert response.content_type == "text/html"
    assert "token has expired" in html
    assert "Try again" in html


async def test_a_non_bearer_authorization_header_is_refused(base_url: str) -> None:
    async with (
        aiohttp.ClientSession() as client,
        client.get(
            f"{base_url}/tabs/home", headers={"Authorization": "Basic YWxleDpwYXNz", **JSON}
        ) as response,
    ):
        assert response.status == 401
        assert "Bearer" in (await response.json())["error"]


@pytest.mark.parametrize("object_id", [STRANGER, FORMER])
async def test_a_valid_token_of_someone_outside_the_directory_gets_403(
    base_url: str, idp: IdentityProviderStandIn, object_id: str
) -> None:
    status, html, _ = await _home(base_url, idp.mint(oid=object_id))
    assert status == 403
    assert "You're not in Trellis's directory yet — ask HR to add you" in html.replace("&#39;", "'")


async def test_the_token_exchange_sets_the_session_cookie(
    base_url: str, idp: IdentityProviderStandIn
) -> None:
    async with aiohttp.ClientSession(base_url, cookie_jar=browser_like_jar(base_url)) as client:
        async with client.post(
            "/tabs/session", headers={"Authorization": f"Bearer {idp.mint(oid=ALEX)}"}
        ) as response:
            assert response.status == 204
            cookie = response.headers["Set-Cookie"]
        for attribute in ("HttpOnly", "Secure", "SameSite=None", "Path=/tabs"):
            assert attribute.lower() in cookie.lower(), attribute
        async with client.get("/tabs/home", allow_redirects=False) as home:
            assert home.status == 200
            assert "Alex Wilber" in await home.text()


async def test_the_token_exchange_refuses_bad_tokens_as_json(
    base_url: str, idp: IdentityProviderStandIn
) -> None:
    async with aiohttp.ClientSession(base_url) as client:
        async with client.post(
            "/tabs/session", headers={"Authorization": f"Bearer {idp.mint(oid=ALEX, key='attacker')}"}
        ) as response:
            assert response.status == 401
            assert "Set-Cookie" not in response.headers
            assert (await response.json())["error"] == "token signature is invalid"
        async with client.post("/tabs/session") as response:
            assert response.status == 401
        async with client.post(
            "/tabs/session", headers={"Authorization": f"Bearer {idp.mint(oid=STRANGER)}"}
        ) as response:
            assert response.status == 403
            assert "ask HR to add you" in (await response.json())["error"]


async def test_user_text_from_the_directory_is_escaped(base_url: str, idp: IdentityProviderStandIn) -> None:
    status, html, _ = await _home(base_url, idp.mint(oid=XSS))
    assert status == 200
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>bold</b>" not in html


async def test_without_sso_configured_bearer_tokens_are_refused(
    serve_tabs: ServeTabs, idp: IdentityProviderStandIn
) -> None:
    base = await serve_tabs(sso_client_id=None)
    status, body, _ = await _home(base, idp.mint(oid=ALEX), **JSON)
    assert status == 401
    assert "not configured" in body


async def test_an_unreachable_identity_provider_is_503_not_401(
    serve_tabs: ServeTabs, idp: IdentityProviderStandIn
) -> None:
    base = await serve_tabs(sso_openid_metadata_url="http://127.0.0.1:9/common/v2.0/.well-known/openid")
    status, body, _ = await _home(base, idp.mint(oid=ALEX), **JSON)
    assert status == 503
    assert "unavailable" in body


# --- the validator and key cache on their own --------------------------------------------------------


def _validator(idp: IdentityProviderStandIn, keys: SigningKeys) -> TokenValidator:
    return TokenValidator(
        client_id=idp.client_id,
        app_id_uri=idp.app_id_uri,
        allowed_tenants=frozenset({TENANT.upper()}),  # tenant ids compare case-insensitively
        keys=keys,
    )


async def test_keys_are_cached_and_refetched_once_for_an_unknown_kid(idp: IdentityProviderStandIn) -> None:
    now = [1000.0]
    keys = SigningKeys(idp.metadata_url("common"), refresh_cooldown=60, clock=lambda: now[0])
    validator = _validator(idp, keys)
    try:
        before = len(idp.requests)
        for _ in range(3):
            identity = await validator.validate(idp.mint(oid=ALEX))
        assert identity == (TENANT, ALEX)  # (tenant id, object id)
        assert len(idp.requests) - before == 2  # metadata + keys, once

        forged = idp.mint(oid=ALEX, key="attacker", kid="rotated-or-forged")
        now[0] += 120
        with pytest.raises(TokenRejected, match="unknown key"):
            await validator.validate(forged)
        assert len(idp.requests) - before == 4  # one refetch for the unknown kid
        with pytest.raises(TokenRejected, match="unknown key"):
            await validator.validate(forged)
        assert len(idp.requests) - before == 4  # and not again within the cooldown
    finally:
        await validator.close()


async def test_the_v1_metadata_endpoint_works_too(idp: IdentityProviderStandIn) -> None:
    validator = _validator(idp, SigningKeys(idp.metadata_url(TENANT, version=1)))
    try:
        identity = await validator.validate(idp.mint(oid=ALEX.upper(), version=1))
        assert identity.object_id == ALEX  # object ids are keyed in lower case
    finally:
        await validator.close()
