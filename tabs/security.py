"""Security headers for every response; tab pages may be framed by Microsoft 365 hosts and nothing else."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

CSP_NONCE = web.RequestKey("trellis.csp_nonce", str)

# The hosts that embed tabs: Teams (classic and new), Microsoft 365 / Office and Outlook.
FRAME_ANCESTORS = (
    "https://teams.microsoft.com https://*.teams.microsoft.com https://*.cloud.microsoft "
    "https://*.microsoft365.com https://*.office.com https://outlook.office.com "
    "https://outlook.office365.com https://outlook-sdf.office.com https://outlook-sdf.office365.com"
)
TAB_PAGE_PREFIX = "/tabs/"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def tab_page_policy(nonce: str) -> str:
    """The Content-Security-Policy of a tab page."""
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self'; "
        "img-src 'self' data:; "
        "connect-src 'self'; "
        f"frame-ancestors {FRAME_ANCESTORS}; "
        "base-uri 'none'; "
        "form-action 'self'"
    )


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Add CSP, framing, sniffing and referrer headers; give templates a per-request script nonce."""
    nonce = secrets.token_urlsafe(18)
    request[CSP_NONCE] = nonce
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        # Errors raised by handlers and the router (404, 405) are responses too and need the headers.
        _apply(request, exc, nonce)
        raise
    _apply(request, response, nonce)
    return response


def _apply(request: web.Request, response: web.StreamResponse, nonce: str) -> None:
    if response.prepared:  # streamed responses sent their headers already
        return
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    if _is_tab_page(request, response):
        headers["Content-Security-Policy"] = tab_page_policy(nonce)
        # X-Frame-Options has no allow-list: any value would stop Teams from framing the page.
        headers.popall("X-Frame-Options", None)
    else:
        headers["Content-Security-Policy"] = "frame-ancestors 'none'"
        headers["X-Frame-Options"] = "DENY"


def _is_tab_page(request: web.Request, response: web.StreamResponse) -> bool:
    return request.path.startswith(TAB_PAGE_PREFIX) and response.content_type == "text/html"
