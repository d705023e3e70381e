"""The stand-ins speak the real wire formats: checked with plain HTTP, the Bot Framework SDK and PyJWT."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import aiohttp
import jwt
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from yarl import URL

from tests.support.connector import ADAPTIVE_CARD, MESSAGE_WRITES_BLOCKED, ConnectorStandIn
from tests.support.identity import DEFAULT_OID, IdentityProviderStandIn
from tests.support.postgres import PostgresCluster

TENANT = "6f1c3b9e-2a7d-4c58-9e0f-3d2b8a1c7e45"
PERSONAL_CHAT = "a:1Xyz;messageid=123"
CHANNEL_THREAD = "19:abc@thread.tacv2"


@pytest.fixture(scope="module")
async def connector_server() -> AsyncIterator[ConnectorStandIn]:
    async with ConnectorStandIn() as stand_in:
        yield stand_in


@pytest.fixture
def connector(connector_server: ConnectorStandIn) -> ConnectorStandIn:
    connector_server.clear()
    return connector_server


@pytest.fixture(scope="module")
async def idp() -> AsyncIterator[IdentityProviderStandIn]:
    async with IdentityProviderStandIn(tenant_id=TENANT) as stand_in:
        yield stand_in


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def activities_url(connector: ConnectorStandIn, conversation_id: str, activity_id: str | None = None) -> URL:
    # Percent-encode like the SDK (msrest quotes path parameters with safe=''); encoded=True stops
    # yarl from normalising %3A back to ':' so the stand-in really receives the encoded form.
    url = f"{connector.service_url}v3/conversations/{quote(conversation_id, safe='')}/activities"
    return URL(f"{url}/{quote(activity_id, safe='')}" if activity_id else url, encoded=True)


def card(title: str) -> dict:
    return {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": title, "wrap": True}],
    }


def message_with_card(title: str) -> dict:
    return {"type": "message", "attachments": [{"contentType": ADAPTIVE_CARD, "content": card(title)}]}


# -- connector ---------------------------------------------------------------------------------------


async def test_reply_to_url_encoded_conversation_is_recorded_decoded(connector, http) -> None:
    url = activities_url(connector, PERSONAL_CHAT, "1700000000001")

    async with http.post(url, json={"type": "message", "text": "Hi"}) as response:
        assert response.status == 200
        answer = await response.json()

    (reply,) = connector.sent
    assert reply.path == "/v3/conversations/a%3A1Xyz%3Bmessageid%3D123/activities/1700000000001"
    assert reply.kind == "reply"
    assert reply.conversation_id == PERSONAL_CHAT
    assert reply.activity_id == "1700000000001"
    assert reply.assigned_id == answer["id"] != "1700000000001"
    assert reply.authorization is None
    assert connector.replies_to(PERSONAL_CHAT) == [{"type": "message", "text": "Hi"}]
    assert connector.last_activity() == {"type": "message", "text": "Hi"}


async def test_send_to_channel_records_bearer_and_unique_ids(connector, http) -> None:
    headers = {"Authorization": "Bearer token-for-connector"}
    ids = []
    for text_ in ("one", "two"):
        url = activities_url(connector, CHANNEL_THREAD)
        async with http.post(url, json={"type": "message", "text": text_}, headers=headers) as response:
            ids.append((await response.json())["id"])

    assert len(set(ids)) == 2
    assert [r.kind for r in connector.sent] == ["send", "send"]
    assert {r.conversation_id for r in connector.sent} == {CHANNEL_THREAD}
    assert connector.sent[0].authorization == "Bearer token-for-connector"
    assert [a["text"] for a in connector.replies_to(CHANNEL_THREAD)] == ["one", "two"]


async def test_update_replaces_card_and_cards_keep_order(connector, http) -> None:
    async with http.post(activities_url(connector, PERSONAL_CHAT), json=message_with_card("v1")) as response:
        card_id = (await response.json())["id"]
    updated = {**message_with_card("v2"), "id": card_id}
    async with http.put(activities_url(connector, PERSONAL_CHAT, card_id), json=updated) as response:
        assert response.status == 200
        assert await response.json() == {"id": card_id}

    (update,) = connector.updates
    assert (update.conversation_id, update.activity_id) == (PERSONAL_CHAT, card_id)
    assert [c["body"][0]["text"] for c in connector.cards()] == ["v1", "v2"]


async def test_429_carries_retry_after_and_is_recorded(connector, http) -> None:
    connector.fail_next(1, 429, retry_after=2)
    url = activities_url(connector, PERSONAL_CHAT)

    async with http.post(url, json={"type": "message", "text": "nudge"}) as response:
        assert response.status == 429
        assert response.headers["Retry-After"] == "2"
        assert (await response.json())["error"]["code"] == "Throttled"
    async with http.post(url, json={"type": "message", "text": "nudge"}) as response:
        assert response.status == 200

    assert [r.status for r in connector.requests] == [429, 200]
    assert [r.status for r in connector.failures] == [429]
    assert len(connector.sent) == 1


async def test_blocked_user_403_only_hits_the_matching_conversation(connector, http) -> None:
    connector.fail_next(1, 403, path_contains="a:blocked")

    async with http.post(activities_url(connector, PERSONAL_CHAT), json={"type": "message"}) as response:
        assert response.status == 200
    async with http.post(activities_url(connector, "a:blocked"), json={"type": "message"}) as response:
        assert response.status == 403
        assert await response.json() == {
            "error": {
                "code": "ConversationBlockedByUser",
                "message": "User blocked the conversation with the bot.",
            }
        }
    assert connector.failures[0].conversation_id == "a:blocked"


async def test_custom_body_and_repeated_5xx(connector, http) -> None:
    connector.fail_next(1, 403, body=MESSAGE_WRITES_BLOCKED)
    connector.fail_next(2, 503)
    url = activities_url(connector, PERSONAL_CHAT)
    statuses = []
    for _ in range(4):
        async with http.post(url, json={"type": "message"}) as response:
            statuses.append(response.status)
            if response.status == 403:
                assert "MessageWritesBlocked" in (await response.json())["message"]
            if response.status == 503:
                assert await response.read() == b""
    assert statuses == [403, 503, 503, 200]


async def test_create_conversation_is_idempotent_per_member(connector, http) -> None:
    connector.add_member("29:megan", "Megan Bowen", "aad-megan", TENANT)

    async def create(member_id: str) -> tuple[int, dict]:
        body = {
            "isGroup": False,
            "bot": {"id": "28:bot", "name": "Trellis"},
            "members": [{"id": member_id}],
            "tenantId": TENANT,
            "channelData": {"tenant": {"id": TENANT}},
        }
        async with http.post(f"{connector.service_url}v3/conversations", json=body) as response:
            return response.status, await response.json()

    first, again, by_object_id, other = [
        await create(m) for m in ("29:megan", "29:megan", "aad-megan", "29:adele")
    ]
    assert first[0] == 201
    assert first[1] == {
        "id": ConnectorStandIn.conversation_id_for("29:megan"),
        "serviceUrl": connector.service_url,
    }
    assert first[1]["id"].startswith("a:")
    assert again[1]["id"] == by_object_id[1]["id"] == first[1]["id"]
    assert other[1]["id"] != first[1]["id"]
    assert [r.conversation_id for r in connector.created_conversations][-1] == other[1]["id"]


async def test_create_conversation_rejects_a_group_or_missing_tenant(connector, http) -> None:
    url = f"{connector.service_url}v3/conversations"
    two = {"isGroup": False, "members": [{"id": "29:a"}, {"id": "29:b"}], "tenantId": TENANT}
    no_tenant = {"isGroup": False, "members": [{"id": "29:a"}]}
    for body in (two, no_tenant):
        async with http.post(url, json=body) as response:
            assert response.status == 400
            assert (await response.json())["error"]["code"] == "BadArgument"
    assert connector.created_conversations == []


async def test_member_lookup_and_not_found_shape(connector, http) -> None:
    connector.add_member("29:alex", "Alex Wilber", "aad-alex", TENANT)
    base = f"{connector.service_url}v3/conversations/{quote(PERSONAL_CHAT, safe='')}"

    for key in ("29:alex", "aad-alex"):
        async with http.get(f"{base}/members/{quote(key, safe='')}") as response:
            assert response.status == 200
            assert await response.json() == {
                "id": "29:alex",
                "name": "Alex Wilber",
                "aadObjectId": "aad-alex",
                "tenantId": TENANT,
                "userRole": "user",
            }
    async with http.get(f"{base}/members/29%3Anobody") as response:
        assert response.status == 404
        error = (await response.json())["error"]
        assert error["code"] == "MemberNotFoundInConversation"
        assert error["message"]
    async with http.get(f"{base}/pagedmembers") as response:
        page = await response.json()
        assert page["continuationToken"] is None
        assert "29:alex" in [m["id"] for m in page["members"]]
    assert connector.requests[-2].member_id == "29:nobody"


async def test_oversized_message_is_refused_like_teams(connector, http) -> None:
    huge = {"type": "message", "text": "x" * 60_000}  # 120 KB in UTF-16
    async with http.post(activities_url(connector, PERSONAL_CHAT), json=huge) as response:
        assert response.status == 413
        assert (await response.json())["error"]["code"] == "MessageSizeTooBig"


async def test_wait_for_sees_a_later_request_and_times_out_clearly(connector, http) -> None:
    async def reply_later() -> None:
        await asyncio.sleep(0.05)
        async with http.post(
            activities_url(connector, PERSONAL_CHAT), json={"type": "message", "text": "late"}
        ):
            pass

    task = asyncio.create_task(reply_later())
    found = await connector.wait_for(lambda r: r.kind == "send" and r.body.get("text") == "late", timeout=2)
    await task
    assert found.conversation_id == PERSONAL_CHAT

    with pytest.raises(TimeoutError, match="late"):
        await connector.wait_for(lambda r: r.kind == "update", timeout=0.1)


async def test_bot_framework_sdk_client_talks_to_the_stand_in(connector) -> None:
    # The SDK the bot uses, anonymous (local mode): encodes ids itself, sends no token, parses answers.
    from botbuilder.schema import Activity, ChannelAccount, ConversationParameters
    from botframework.connector.aio import ConnectorClient
    from botframework.connector.auth import MicrosoftAppCredentials
    from botframework.connector.models import ErrorResponseException

    connector.add_member("29:patti", "Patti Fernandez", "aad-patti", TENANT)
    async with ConnectorClient(MicrosoftAppCredentials("", ""), base_url=connector.service_url) as client:
        sent = await client.conversations.reply_to_activity(
            PERSONAL_CHAT, "17", Activity(type="message", text="from the SDK")
        )
        created = await client.conversations.create_conversation(
            ConversationParameters(is_group=False, members=[ChannelAccount(id="29:patti")], tenant_id=TENANT)
        )
        member = await client.conversations.get_conversation_member(created.id, "aad-patti")
        connector.fail_next(1, 403)
        with pytest.raises(ErrorResponseException) as blocked:
            await client.conversations.send_to_conversation(created.id, Activity(type="message", text="x"))

    assert connector.replies_to(PERSONAL_CHAT)[0]["text"] == "from the SDK"
    assert sent.id == connector.sent[0].assigned_id
    assert created.id == ConnectorStandIn.conversation_id_for("29:patti")
    assert member.name == "Patti Fernandez"
    assert blocked.value.error.error.code == "ConversationBlockedByUser"
    assert all(r.authorization is None for r in connector.requests)


# -- identity provider -------------------------------------------------------------------------------


async def test_metadata_uses_real_issuers_and_local_keys(idp, http) -> None:
    async with http.get(idp.metadata_url(TENANT)) as response:
        metadata = await response.json()
    assert metadata["issuer"] == f"https://login.microsoftonline.com/{TENANT}/v2.0"
    assert metadata["jwks_uri"].startswith(idp.base_url)

    async with http.get(idp.metadata_url("common")) as response:
        # Like Entra: the multi-tenant document carries a template the app fills with the token's tid.
        assert (await response.json())["issuer"] == "https://login.microsoftonline.com/{tenantid}/v2.0"
    async with http.get(idp.metadata_url(TENANT, version=1)) as response:
        assert (await response.json())["issuer"] == f"https://sts.windows.net/{TENANT}/"
    async with http.get(metadata["jwks_uri"]) as response:
        assert [k["kid"] for k in (await response.json())["keys"]] == [idp.good_key.kid]


async def test_v2_token_validates_with_pyjwkclient(idp) -> None:
    token = idp.mint()
    # A blocking client called straight from the test's loop: works because the IdP has its own thread.
    key = jwt.PyJWKClient(idp.jwks_uri).get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token,
        key.key,
        algorithms=["RS256"],
        audience=idp.client_id,
        issuer=f"https://login.microsoftonline.com/{TENANT}/v2.0",
    )
    assert claims["ver"] == "2.0"
    assert (claims["tid"], claims["oid"], claims["scp"]) == (TENANT, DEFAULT_OID, "access_as_user")
    assert {"iat", "nbf", "exp", "name", "preferred_username", "azp", "sub"} <= claims.keys()


async def test_v1_token_has_sts_issuer_and_app_id_uri_audience(idp, http) -> None:
    async with http.get(idp.metadata_url(TENANT, version=1)) as response:
        jwks_uri = (await response.json())["jwks_uri"]
    token = idp.mint(version=1)
    key = jwt.PyJWKClient(jwks_uri).get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token,
        key.key,
        algorithms=["RS256"],
        audience=f"api://{idp.app_domain}/{idp.client_id}",
        issuer=f"https://sts.windows.net/{TENANT}/",
    )
    assert claims["ver"] == "1.0"
    assert claims["appid"] and claims["upn"] and "preferred_username" not in claims
    assert idp.app_id_uri == claims["aud"]


async def test_attacker_signed_tokens_are_rejected(idp) -> None:
    client = jwt.PyJWKClient(idp.jwks_uri)
    forged = idp.mint(key="attacker")  # claims the good kid
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            forged, client.get_signing_key_from_jwt(forged).key, algorithms=["RS256"], audience=idp.client_id
        )
    unknown_kid = idp.mint(key="attacker", kid=idp.attacker_key.kid)
    with pytest.raises(jwt.PyJWKClientError):
        client.get_signing_key_from_jwt(unknown_kid)


async def test_claim_overrides_expiry_and_other_tenants(idp) -> None:
    client = jwt.PyJWKClient(idp.jwks_uri)
    expired = idp.mint(expires_in=-60)
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(
            expired,
            client.get_signing_key_from_jwt(expired).key,
            algorithms=["RS256"],
            audience=idp.client_id,
        )
    other = jwt.decode(
        idp.mint(tenant_id="other-tenant", claims={"scp": None, "roles": ["x"]}),
        options={"verify_signature": False},
    )
    assert other["iss"] == "https://login.microsoftonline.com/other-tenant/v2.0"
    assert "scp" not in other and other["roles"] == ["x"]


# -- postgres ------------------------------------------------------------------------------------------


def port_is_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.postgres
async def test_postgres_cluster_starts_clones_a_template_and_stops() -> None:
    ok, reason = PostgresCluster.available()
    assert ok, reason
    cluster = PostgresCluster()
    await cluster.start()
    try:
        assert cluster.started_in is not None and cluster.started_in < 30
        engine = create_async_engine(cluster.url())
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar() == 1
        await engine.dispose()

        template_url = await cluster.create_database("trellis_template")
        template = create_async_engine(template_url)
        async with template.begin() as conn:
            await conn.execute(text("CREATE TABLE people (name text)"))
            await conn.execute(text("INSERT INTO people VALUES ('Megan')"))
        await template.dispose()  # a template must have no open sessions to be copied

        clone = create_async_engine(await cluster.create_database("test_1", template="trellis_template"))
        async with clone.connect() as conn:
            assert (await conn.execute(text("SELECT name FROM people"))).scalar() == "Megan"
        await cluster.drop_database("test_1")  # with an open pool: FORCE disconnects it
        await clone.dispose()
    finally:
        port, data_dir = cluster.port, cluster.data_dir
        await cluster.stop()

    assert port is not None and not port_is_open(port)
    assert not data_dir.exists()


def test_postgres_available_explains_missing_programs(tmp_path: Path) -> None:
    ok, reason = PostgresCluster.available(bin_dir=tmp_path)
    assert not ok
    assert "initdb" in reason and str(tmp_path) in reason
