"""The tab session cookie and CSRF tokens, signed with HMAC-SHA256 (no server-side session store).

Inside the Teams iframe the cookie must be `SameSite=None`, which gives up the browser's CSRF defence, so
every form POST also carries a token: the session's own random `csrf` value once signed in, and before
sign-in a signed double-submit token bound to a short-lived cookie.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

SESSION_COOKIE = "trellis_session"
SIGNIN_COOKIE = "trellis_signin"
COOKIE_PATH = "/tabs"
SESSION_LIFETIME = 8 * 3600
SIGNIN_LIFETIME = 3600


@dataclass(frozen=True)
class SessionData:
    """A signed-in person, until `expires_at` (Unix seconds), with the CSRF token for their forms."""

    person_id: int
    expires_at: int
    csrf: str


class SessionSigner:
    """Issues and verifies session cookies and sign-in CSRF tokens with keys derived from one secret."""

    def __init__(
        self, secret: str, *, lifetime: int = SESSION_LIFETIME, clock: Callable[[], float] = time.time
    ) -> None:
        if not secret:
            raise ValueError("the tab session secret must not be empty")
        # Separate keys per purpose, so a value signed for one use can never pass as another.
        self._session_key = _derive(secret, "session")
        self._signin_key = _derive(secret, "signin-csrf")
        self._lifetime = lifetime
        self._clock = clock

    def issue(self, person_id: int) -> tuple[SessionData, str]:
        """A fresh session for a person and its cookie value."""
        data = SessionData(person_id, int(self._clock()) + self._lifetime, secrets.token_urlsafe(24))
        payload = _b64(json.dumps({"p": data.person_id, "e": data.expires_at, "c": data.csrf}).encode())
        return data, f"{payload}.{_sign(self._session_key, payload)}"

    def read(self, cookie: str | None) -> SessionData | None:
        """The session in a cookie value, or None when it is missing, forged or expired."""
        if not cookie or cookie.count(".") != 1:
            return None
        payload, signature = cookie.split(".")
        if not hmac.compare_digest(signature, _sign(self._session_key, payload)):
            return None
        try:
            raw = json.loads(_unb64(payload))
            data = SessionData(int(raw["p"]), int(raw["e"]), str(raw["c"]))
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None
        return data if data.expires_at > self._clock() else None

    def signin_token(self, nonce: str) -> str:
        """The form token that goes with a sign-in nonce cookie."""
        return _sign(self._signin_key, nonce)

    def check_signin_token(self, nonce: str | None, token: str | None) -> bool:
        """True when the form token matches the nonce cookie (a cross-site form knows neither)."""
        if not nonce or not token:
            return False
        return hmac.compare_digest(token, self.signin_token(nonce))


def check_csrf(session: SessionData | None, token: str | None) -> bool:
    """True when a signed-in form carries its session's CSRF token."""
    return session is not None and bool(token) and hmac.compare_digest(str(token), session.csrf)


def new_signin_nonce() -> str:
    """A random value for the sign-in CSRF cookie."""
    return secrets.token_urlsafe(24)


def set_session_cookie(response: web.StreamResponse, value: str) -> None:
    """Attach the session cookie."""
    _set(response, SESSION_COOKIE, value, SESSION_LIFETIME)


def set_signin_cookie(response: web.StreamResponse, nonce: str) -> None:
    """Attach the sign-in CSRF nonce cookie."""
    _set(response, SIGNIN_COOKIE, nonce, SIGNIN_LIFETIME)


def clear_session_cookie(response: web.StreamResponse) -> None:
    """Expire the session cookie."""
    _set(response, SESSION_COOKIE, "", 0)


def clear_signin_cookie(response: web.StreamResponse) -> None:
    """Expire the sign-in CSRF cookie."""
    _set(response, SIGNIN_COOKIE, "", 0)


def _set(response: web.StreamResponse, name: str, value: str, max_age: int) -> None:
    # SameSite=None + Secure: the Teams iframe is cross-site. Partitioned (CHIPS) keeps the cookie
    # working where browsers block unpartitioned third-party cookies; first-party visits are unaffected.
    # Chromium treats http://localhost and 127.0.0.1 as secure, so local development works too.
    # Written by hand: Python 3.11's http.cookies rejects the Partitioned attribute. Values are
    # base64url and dots, which need no quoting.
    attributes = f"Max-Age={max_age}; Path={COOKIE_PATH}; Secure; HttpOnly; SameSite=None; Partitioned"
    response.headers.add("Set-Cookie", f"{name}={value}; {attributes}")


def _derive(secret: str, purpose: str) -> bytes:
    return hmac.new(secret.encode(), f"trellis-tabs/{purpose}".encode(), hashlib.sha256).digest()


def _sign(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
