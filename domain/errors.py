"""What a domain service can refuse with. Only bot/ and tabs/ turn these into cards or HTTP statuses."""


class DomainError(Exception):
    """Base of the errors below; `message` is safe to show the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The thing does not exist, or the actor may not know that it does."""


class Forbidden(DomainError):
    """The actor may not do this."""


class Invalid(DomainError):
    """The input is wrong; the message tells the person how to fix it."""


class Conflict(DomainError):
    """The state changed underneath (a stale card, a second submit)."""
