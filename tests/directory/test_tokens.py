"""The token source: msal against a local Entra stand-in that speaks the real token protocol."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from directory.errors import ConsentRequired, DirectoryAuthError, DirectoryUnavailable
from directory.tokens import TokenSource
from tests.support.graph import GraphStandIn, app_certificate


@pytest_asyncio.fixture
async def entra() -> AsyncIterator[GraphStandIn]:
    async with GraphStandIn() as stand_in:
        yield stand_in


def source(entra: GraphStandIn, **overrides: object) -> TokenSource:
    return TokenSource(entra.settings(**overrides), verify=entra.ca_file)


async def test_constructing_contacts_nothing_and_the_token_is_fetched_once(entra: GraphStandIn) -> None:
    tokens = source(entra)
    assert entra.requests == []

    concurrent = await asyncio.gather(*(tokens.token() for _ in range(5)))
    later = [await tokens.token(), await tokens.token()]

    assert len(set(concurrent + later)) == 1
    assert concurrent[0].startswith("app-")
    paths = [r.path for r in entra.requests]
    assert paths == [
        f"/{entra.tenant_id}/v2.0/.well-known/openid-configuration",
        f"/{entra.tenant_id}/oauth2/v2.0/token",
    ]
    form = entra.token_requests[0].body
    assert form["grant_type"] == "client_credentials"
    assert form["client_id"] == entra.client_id
    assert form["client_secret"] == entra.client_secret
    assert "https://graph.microsoft.com/.default" in form["scope"].split()


async def test_invalidate_fetches_a_new_token(entra: GraphStandIn) -> None:
    tokens = source(entra)
    first = await tokens.token()
    await tokens.invalidate()
    second = await tokens.token()
    assert first != second
    assert len(entra.token_requests) == 2


async def test_certificate_credential_signs_a_client_assertion(entra: GraphStandIn, tmp_path) -> None:
    pem, thumbprint, certificate = app_certificate()
    entra.certificate = certificate
    path = tmp_path / "app.pem"
    path.write_text(pem)
    tokens = source(entra, client_secret="", certificate_path=str(path), certificate_thumbprint=thumbprint)

    assert (await tokens.token()).startswith("app-")
    form = entra.token_requests[0].body
    assert "client_secret" not in form
    assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


async def test_a_certificate_entra_does_not_know_is_one_clear_error(entra: GraphStandIn, tmp_path) -> None:
    entra.certificate = app_certificate("registered")[2]
    pem, thumbprint, _ = app_certificate("another")
    path = tmp_path / "app.pem"
    path.write_text(pem)
    tokens = source(entra, client_secret="", certificate_path=str(path), certificate_thumbprint=thumbprint)

    with pytest.raises(DirectoryAuthError, match="rejected the certificate of app"):
        await tokens.token()


async def test_expired_secret_names_what_to_fix(entra: GraphStandIn) -> None:
    entra.token_failure = "expired_secret"
    with pytest.raises(DirectoryAuthError) as raised:
        await source(entra).token()
    assert str(raised.value) == (
        f"The client secret of app {entra.client_id} has expired: create a new secret in Entra ID > "
        "App registrations > Certificates & secrets and set GRAPH_CLIENT_SECRET."
    )


async def test_wrong_secret_and_unknown_app_are_told_apart(entra: GraphStandIn) -> None:
    with pytest.raises(DirectoryAuthError, match="is wrong: set GRAPH_CLIENT_SECRET to the secret's Value"):
        await source(entra, client_secret="not-the-secret").token()
    with pytest.raises(DirectoryAuthError, match="has no app 11111111-"):
        await source(entra, client_id="11111111-2222-4333-8444-555555555555").token()


async def test_unknown_tenant_is_one_clear_error(entra: GraphStandIn) -> None:
    with pytest.raises(DirectoryAuthError, match="Entra ID has no tenant 99999999-"):
        await source(entra, tenant_id="99999999-0000-4000-8000-000000000000").token()


async def test_unreachable_authority_is_unavailable_not_an_auth_error(entra: GraphStandIn) -> None:
    tokens = source(entra, authority_host="https://127.0.0.1:9")
    with pytest.raises(DirectoryUnavailable, match="could not be reached"):
        await tokens.token()


def test_missing_credentials_are_refused_up_front(entra: GraphStandIn) -> None:
    with pytest.raises(DirectoryAuthError, match="GRAPH_CLIENT_SECRET"):
        TokenSource(entra.settings(client_secret=""))


async def test_on_behalf_of_exchanges_the_users_token(entra: GraphStandIn) -> None:
    token = await source(entra).on_behalf_of("eyJ.user.sso", ["User.ReadBasic.All"])
    assert token.startswith("obo-")
    form = entra.token_requests[-1].body
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert form["requested_token_use"] == "on_behalf_of"
    assert form["assertion"] == "eyJ.user.sso"
    assert "User.ReadBasic.All" in form["scope"].split()


async def test_on_behalf_of_without_consent_raises_consent_required(entra: GraphStandIn) -> None:
    entra.consent_required = True
    with pytest.raises(ConsentRequired) as raised:
        await source(entra).on_behalf_of("eyJ.user.sso", ["User.ReadBasic.All"])
    assert raised.value.scopes == ("User.ReadBasic.All",)
