"""A small, bounded, expiring memory for things a process may safely remember for a while."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class TimedMemory:
    """At most `size` keys, each forgotten `ttl` seconds after it was last written."""

    def __init__(self, *, ttl: float, size: int, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._size = size
        self._now = monotonic
        self._items: OrderedDict[Hashable, tuple[Any, float]] = OrderedDict()

    def get(self, key: Hashable) -> Any:
        """The value written for `key` less than `ttl` ago, or None."""
        entry = self._items.get(key)
        if entry is None or self._now() - entry[1] >= self._ttl:
            return None
        return entry[0]

    def put(self, key: Hashable, value: Any) -> None:
        """Remember `value` for `key`, dropping the oldest key past `size`."""
        self._items[key] = (value, self._now())
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)
