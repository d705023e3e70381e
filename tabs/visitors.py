"""Who is asking: a bearer SSO token or the session cookie, resolved to a domain Actor."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Actor, load_actor
from domain.errors import NotFound
from tabs.sessions import SessionData
from tabs.sso import TokenRejected

NOT_IN_DIRECTORY = "You're not in Trellis's directory yet — ask HR to add you."


@dataclass(frozen=True)
class Visitor:
    """A signed-in person; `session` is None when the request authenticated with a bearer token."""

    actor: Actor
    session: SessionData | None

    @property
    def csrf_token(self) -> str:
        return self.session.csrf if self.session else ""


def bearer_token(request: web.Request) -> str | None:
    """The bearer token in the Authorization header; None without the header, TokenRejected if malformed."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRejected("the Authorization header must be 'Bearer <token>'")
    return token.strip()


async def actor_for(db: AsyncSession, person_id: int) -> Actor | None:
    """The Actor for a person, or None when they left (deactivated people are signed out)."""
    try:
        return await load_actor(db, person_id)
    except NotFound:
        return None


async def from_session(db: AsyncSession, session: SessionData | None) -> Visitor | None:
    """The visitor a valid session cookie belongs to, re-checked against the directory."""
    if session is None:
        return None
    actor = await actor_for(db, session.person_id)
    return Visitor(actor, session) if actor else None
