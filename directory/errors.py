"""What can go wrong talking to Microsoft Entra ID and Graph, as exceptions a caller can act on."""

from __future__ import annotations

from collections.abc import Sequence


class DirectoryError(Exception):
    """Base class: something about the directory connection failed."""


class DirectoryAuthError(DirectoryError):
    """Entra ID refused the app's credentials, or Graph refused its token.

    The message is one sentence that names what an administrator must fix; it is safe to log and show.
    """


class ConsentRequired(DirectoryError):
    """The signed-in user (or an admin) has not consented to these scopes: show a consent prompt."""

    def __init__(self, scopes: Sequence[str], message: str, *, claims: str | None = None) -> None:
        super().__init__(message)
        self.scopes = tuple(scopes)
        self.claims = claims  # a claims challenge to pass back to the client, when Entra sent one


class DirectoryUnavailable(DirectoryError):
    """Entra ID could not be reached (network failure or an outage); retry later."""


class GraphUnavailable(DirectoryError):
    """Graph kept failing (5xx, network, throttling) after the retries.

    `resume_link` is the URL of the page that could not be fetched (a nextLink, or the first page's URL):
    pass it (and `full_listing`) to
    `GraphClient.users(resume_link=..., full_listing=...)` to continue without re-reading earlier pages.
    """

    def __init__(self, message: str, *, resume_link: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.resume_link = resume_link
        self.status = status
        self.full_listing: bool | None = None  # set by GraphClient.users(): pass back when resuming


class DeltaExpired(DirectoryError):
    """Graph no longer accepts this delta link (410 Gone / resync required): run a full listing again."""


class InstallFailed(DirectoryError):
    """Graph refused to install the Teams app for a user; `reason` says why, for the cycle dashboard."""

    def __init__(self, user_id: str, reason: str, *, status: int | None = None, code: str | None = None):
        super().__init__(f"Installing Trellis for user {user_id} failed: {reason}")
        self.user_id = user_id
        self.reason = reason
        self.status = status
        self.code = code
