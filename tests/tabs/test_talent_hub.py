"""The Talent tab lands each person on their own talent work: HR on the succession board, a manager on
the talent reviews they rate, an employee on their development plan."""

from __future__ import annotations

import aiohttp
import pytest

from .conftest import browser_like_jar, dev_sign_in


@pytest.mark.parametrize(
    ("persona", "landing"),
    [
        ("hr", "/tabs/talent/succession"),
        ("manager", "/tabs/talent/reviews"),
        ("employee", "/tabs/development"),
    ],
)
async def test_the_talent_tab_lands_each_persona_on_their_talent_work(
    base_url: str, persona: str, landing: str
) -> None:
    async with aiohttp.ClientSession(base_url, cookie_jar=browser_like_jar(base_url)) as client:
        await dev_sign_in(client, persona, next_path="/tabs/talent")
        async with client.get("/tabs/talent", allow_redirects=False) as response:
            assert response.status == 303
            assert response.headers["Location"] == landing
        async with client.get("/tabs/talent?theme=dark", allow_redirects=False) as response:
            assert response.headers["Location"] == f"{landing}?theme=dark"


async def test_the_talent_tab_asks_a_stranger_to_sign_in(http: aiohttp.ClientSession) -> None:
    async with http.get("/tabs/talent", allow_redirects=False) as response:
        assert response.status in (302, 303)
        assert response.headers["Location"].startswith("/tabs/signin")
