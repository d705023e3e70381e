"""Where the tabs may send people after sign-in, and safe link targets in templates."""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

HOME = "/tabs/home"
FEEDBACK = "/tabs/feedback"
FEEDBACK_TEAM = "/tabs/feedback/team"
REVIEWS = "/tabs/reviews"
REVIEWS_TEAM = "/tabs/reviews/team"
REVIEW_CYCLES = "/tabs/reviews/cycles"
REVIEW_SETUP = "/tabs/reviews/setup"
DEVELOPMENT = "/tabs/development"
SUCCESSION = "/tabs/talent/succession"
TALENT_REVIEWS = "/tabs/talent/reviews"
TALENT_METRICS = "/tabs/talent/metrics"
FRAMEWORK = "/tabs/talent/framework"
INSIGHTS = "/tabs/talent/insights"
# Pages a post-sign-in redirect must never land on (they would loop or act).
_NOT_A_DESTINATION = ("/tabs/signin", "/tabs/session", "/tabs/signout", "/tabs/dev-signin")


def safe_next(value: str | None) -> str:
    """A same-origin /tabs/ path to return to after sign-in; anything else becomes the Home tab."""
    if not value or len(value) > 2048 or any(ch == "\\" or ord(ch) < 0x20 or ch == "\x7f" for ch in value):
        return HOME
    parts = urlsplit(value)
    # An absolute or scheme-relative URL ("https://evil", "//evil") has a scheme or a host.
    if parts.scheme or parts.netloc or not parts.path.startswith("/tabs/") or parts.path.startswith("//"):
        return HOME
    if parts.path.startswith(_NOT_A_DESTINATION):
        return HOME
    return urlunsplit(("", "", parts.path, parts.query, ""))


def signin_url(next_path: str, **extra: str) -> str:
    """The sign-in page that returns to `next_path`."""
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in {"next": safe_next(next_path), **extra}.items())
    return f"/tabs/signin?{query}"


def safe_href(value: str | None) -> str | None:
    """A link target fit for an href (https or same-origin path), or None; never javascript: or data:."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.netloc:
        return value
    if not parts.scheme and not parts.netloc and value.startswith("/") and not value.startswith("//"):
        return value
    return None
