"""The connector stand-in's enforcing mode answers 429 past Teams' limits, as the nudge benchmark needs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from urllib.parse import quote

import aiohttp
import pytest

from tests.support.connector import ConnectorStandIn, TeamsLimits

TENANT = "6f1c3b9e-2a7d-4c58-9e0f-3d2b8a1c7e45"


@pytest.fixture
async def connector() -> AsyncIterator[ConnectorStandIn]:
    async with ConnectorStandIn() as stand_in:
        yield stand_in


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def send(http: aiohttp.ClientSession, connector: ConnectorStandIn, conversation: str, tenant=TENANT):
    activity = {"type": "message", "text": "hi", "conversation": {"id": conversation, "tenantId": tenant}}
    url = f"{connector.service_url}v3/conversations/{quote(conversation, safe='')}/activities"
    async with http.post(url, json=activity) as response:
        return response.status, response.headers.get("Retry-After")


async def test_past_the_tenant_rate_a_request_gets_429_with_when_to_come_back(connector, http) -> None:
    connector.enforce(TeamsLimits.with_tenant_rate(3))

    answers = [await send(http, connector, f"a:{i}") for i in range(4)]
    elsewhere = await send(http, connector, "a:other-tenant", tenant="another-tenant")

    assert [status for status, _ in answers] == [200, 200, 200, 429]
    assert 0 < float(answers[3][1]) <= 1.0, "Retry-After: when the oldest leaves the second"
    assert elsewhere[0] == 200, "each tenant has its own budget"
    [refused] = connector.over_limit
    assert refused.broke == "tenant 3/1s" and refused.status == 429
    assert len(connector.sent) == 4, "refused requests are not delivered"


async def test_one_conversation_gets_seven_a_second_and_eight_in_two(connector, http) -> None:
    connector.enforce(TeamsLimits.with_tenant_rate(50))

    answers = [await send(http, connector, "a:busy") for _ in range(8)]
    other = await send(http, connector, "a:quiet")

    assert [status for status, _ in answers] == [200] * 7 + [429]
    assert other[0] == 200
    assert [r.broke for r in connector.over_limit] == ["conversation 7/1s"]


async def test_the_windows_slide_and_only_accepted_requests_count(connector, http) -> None:
    connector.enforce(TeamsLimits.with_tenant_rate(2))
    assert [(await send(http, connector, f"a:{i}"))[0] for i in range(3)] == [200, 200, 429]

    accepted = [r.at for r in connector.sent]
    # Refused requests don't count: retries refused until 0.8 s in would still be in the window at 1.02 s.
    while time.monotonic() < min(accepted) + 0.8:
        assert (await send(http, connector, "a:retry"))[0] == 429
    await asyncio.sleep(max(0.0, max(accepted) + 1.02 - time.monotonic()))
    assert [(await send(http, connector, f"a:late{i}"))[0] for i in range(2)] == [200, 200]


async def test_clear_turns_enforcement_and_latency_off(connector, http) -> None:
    connector.enforce(TeamsLimits.with_tenant_rate(1))
    connector.latency = 0.5
    connector.clear()

    started = time.monotonic()
    assert [(await send(http, connector, f"a:{i}"))[0] for i in range(5)] == [200] * 5
    assert time.monotonic() - started < 0.5
