"""A Graph stand-in and a real Graph client pointed at it, for the directory tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio

from directory.graph import GraphClient
from directory.tokens import TokenSource
from tests.support.graph import GraphStandIn


@pytest_asyncio.fixture
async def graph() -> AsyncIterator[GraphStandIn]:
    """Graph and its token endpoint, three users a page."""
    async with GraphStandIn(page_size=3) as stand_in:
        yield stand_in


@pytest_asyncio.fixture
async def client(graph: GraphStandIn) -> AsyncIterator[GraphClient]:
    """The product's Graph client, with its real msal token source, retrying fast."""
    settings = graph.settings()
    async with aiohttp.ClientSession() as http:
        yield GraphClient(settings, TokenSource(settings, verify=graph.ca_file), http=http, backoff_base=0.01)
