"""The demo organization's Playground people as actors, for domain service tests.

Alex Wilber manages Adele Vance and Isaiah Langer (Engineering); Lynne Robbins is Alex's manager; Patti
Fernandez is in Sales; Megan Bowen is HR.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest_asyncio
from sqlalchemy import select

from domain.access import Actor, load_actor
from storage import demo
from storage.models import Person


@dataclass(frozen=True)
class Cast:
    alex: Actor
    adele: Actor
    isaiah: Actor
    lynne: Actor
    patti: Actor
    megan: Actor


@pytest_asyncio.fixture
async def cast(session, demo_org) -> Cast:
    async def actor(persona) -> Actor:
        pid = await session.scalar(select(Person.id).where(Person.aad_object_id == persona.aad_object_id))
        return await load_actor(session, pid)

    return Cast(
        alex=await actor(demo.ALEX),
        adele=await actor(demo.ADELE),
        isaiah=await actor(demo.ISAIAH),
        lynne=await actor(demo.LYNNE),
        patti=await actor(demo.PATTI),
        megan=await actor(demo.MEGAN),
    )
