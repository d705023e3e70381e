"""Faults a stand-in was told to answer with: the next n matching requests get a given status."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any


@dataclass
class Failure:
    """One planned fault; `remaining` counts down as requests take it."""

    remaining: int
    status: int
    retry_after: float | None
    body: Any
    path_contains: str | None


class FaultPlan:
    """Planned faults, safe to add from the test's thread and take from the stand-in's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._planned: list[Failure] = []

    def add(
        self, n: int, status: int, *, retry_after: float | None, body: Any, path_contains: str | None
    ) -> None:
        """The next n requests whose path contains path_contains (any request when None) fail."""
        if n < 1:
            raise ValueError("n must be at least 1")
        with self._lock:
            self._planned.append(Failure(n, status, retry_after, body, path_contains))

    def take(self, *paths: str) -> Failure | None:
        """The first planned fault matching any of the request's path spellings, used up by one."""
        with self._lock:
            for failure in self._planned:
                wanted = failure.path_contains
                if wanted is None or any(wanted in path for path in paths):
                    failure.remaining -= 1
                    if failure.remaining == 0:
                        self._planned.remove(failure)
                    return failure
        return None

    def clear(self) -> None:
        """Forget every planned fault."""
        with self._lock:
            self._planned.clear()
