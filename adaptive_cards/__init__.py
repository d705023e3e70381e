"""Adaptive Cards for Trellis: plain view data in, card dicts (schema 1.5) out; payloads back in.

Pure functions only: no database, no Teams SDK, no HTTP.
"""

from adaptive_cards.common import (
    APP_NAME,
    COMMANDS,
    EMPLOYEE,
    HR_ADMIN,
    MANAGER,
    TALENT_REVIEWER,
)
from adaptive_cards.elements import MAX_CARD_BYTES, CardTooLarge, card_size_bytes
from adaptive_cards.errors import already_done_card, error_card, not_in_directory_card
from adaptive_cards.help import greeting_card, help_card, thanks_reply_text
from adaptive_cards.payloads import (
    PayloadError,
    action_verb_and_data,
    optional_text,
    require_choice,
    require_int,
    require_text,
    submit_data,
    submit_verb_and_data,
)
from adaptive_cards.welcome import welcome_card

__all__ = [
    "APP_NAME",
    "COMMANDS",
    "EMPLOYEE",
    "HR_ADMIN",
    "MANAGER",
    "MAX_CARD_BYTES",
    "TALENT_REVIEWER",
    "CardTooLarge",
    "PayloadError",
    "action_verb_and_data",
    "already_done_card",
    "card_size_bytes",
    "error_card",
    "greeting_card",
    "help_card",
    "not_in_directory_card",
    "optional_text",
    "require_choice",
    "require_int",
    "require_text",
    "submit_data",
    "submit_verb_and_data",
    "thanks_reply_text",
    "welcome_card",
]
