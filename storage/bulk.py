"""Helpers for writing many rows: fixed-size batches and progress reporting."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

BATCH_SIZE = 1000
_T = TypeVar("_T")

# Either a callable (done, total) or a tqdm-like bar with update(n).
Progress = Callable[[int, int], Any] | Any


def batches(items: Sequence[_T], size: int = BATCH_SIZE) -> Iterator[Sequence[_T]]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def progress_advancer(progress: Progress | None, total: int) -> Callable[[int], None]:
    """Adapt a callable (done, total) or a tqdm bar to one `advance(n)` function."""
    if progress is None:
        return lambda n: None
    if hasattr(progress, "update"):
        if getattr(progress, "total", None) is None:
            progress.total = total
        return lambda n: progress.update(n) if n else None
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        progress(done, total)

    return advance
