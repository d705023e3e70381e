"""What recognition looks like to the transports: badges and praise in, read-only views out (pure data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

BADGE_NAME_MAX = 60
BADGE_EMOJI_MAX = 16
BADGE_DESCRIPTION_MAX = 500
PRAISE_MAX = 1000
QUOTE_MAX = 2000  # a longer quoted message is cut, not refused


@dataclass(frozen=True)
class ChannelTarget:
    """A channel conversation the bot is installed in, where a public praise card is posted."""

    conversation_id: str
    service_url: str


@dataclass(frozen=True)
class BadgeView:
    id: int
    name: str
    emoji: str | None
    description: str | None
    official: bool  # only HR may give it
    active: bool
    may_give: bool  # whether the viewer may give it now (active, and not official unless HR)


@dataclass(frozen=True)
class PraiseView:
    id: int
    giver_id: int | None  # None when the giver has left the directory
    giver_name: str
    receiver_id: int
    receiver_name: str
    badge: BadgeView | None
    text: str
    private: bool
    created_at: datetime
    channel: ChannelTarget | None  # where to post the praise card (public praise only)
    posted: bool  # the card was posted there
    quote: str | None = None  # the message it was given from (evidence)
    already_submitted: bool = False  # this answer is to a second submit: nothing was written
