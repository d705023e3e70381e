"""A clock for tests that moves only when the test says so."""

from __future__ import annotations

from datetime import datetime


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when
