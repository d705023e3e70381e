"""Builds the Teams app manifest (manifest.json) from deployment settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from manifest.icons import BRAND_COLOR
from manifest.settings import ManifestSettings

MANIFEST_VERSION = "1.22"
SCHEMA_URL = (
    f"https://developer.microsoft.com/en-us/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
)
COLOR_ICON = "color.png"
OUTLINE_ICON = "outline.png"

BOT_SCOPES = ("personal", "team")


@dataclass(frozen=True)
class BotCommand:
    """One entry of the bot's command menu (title <= 32 chars, description <= 128, no "/" prefix)."""

    title: str
    description: str
    scopes: tuple[str, ...] = BOT_SCOPES


@dataclass(frozen=True)
class StaticTab:
    """A personal tab served by Trellis at public_base_url + path."""

    entity_id: str
    name: str
    path: str


@dataclass(frozen=True)
class MessageAction:
    """An action command in a message's "..." menu; the bot builds its dialog (fetchTask) when picked."""

    id: str
    title: str
    description: str


# Features append here as they ship; Teams shows at most 10 commands per scope.
# Commands about people's goals and check-ins are personal-scope only: the bot answers them in 1:1 chat.
COMMANDS: tuple[BotCommand, ...] = (
    BotCommand("help", "Show what Trellis can do and how to start"),
    BotCommand("goals", "See your goals and update their progress", ("personal",)),
    BotCommand("goals @name", "See a colleague's goals (all of them for your team)", ("personal",)),
    BotCommand("new goal", "Set a new goal", ("personal",)),
    BotCommand("checkin", "Fill in this week's check-in with your manager", ("personal",)),
    BotCommand("checkins", "See your team's check-ins this week and reply", ("personal",)),
    BotCommand("feedback @name", "Give someone feedback", ("personal",)),
    BotCommand("praise @name", "Praise someone", ("personal",)),
    BotCommand("request feedback from @name", "Ask colleagues for feedback on a topic", ("personal",)),
    BotCommand("reviews", "Write your reviews, see your results and acknowledge them", ("personal",)),
)

# Features append here as they ship; with the two reserved tabs below Teams allows 14 more.
# Team goals is a link on these pages for managers, not a tab: most people have no team.
# The My development tab's entityId: chat buttons deep-link to it (trellis.app.plan_link).
DEVELOPMENT_TAB = "development"
STATIC_TABS: tuple[StaticTab, ...] = (
    StaticTab("home", "Home", "/tabs/home"),
    StaticTab("goals", "My goals", "/tabs/goals"),
    StaticTab("alignment", "Alignment", "/tabs/alignment"),
    StaticTab("feedback", "Feedback", "/tabs/feedback"),
    StaticTab("reviews", "My reviews", "/tabs/reviews"),
    StaticTab(DEVELOPMENT_TAB, "My development", "/tabs/development"),
    # Lands each person where talent work is theirs to do: HR and talent reviewers on the succession
    # board, managers on their talent-review ratings, everyone else on their development plan.
    StaticTab("talent", "Talent", "/tabs/talent"),
)

# The message actions the feedback issue brings. Ids are what the bot's router answers
# (bot.actions.ActionRouter.message_action); title <= 32 characters.
MESSAGE_ACTIONS: tuple[MessageAction, ...] = (
    MessageAction(
        "giveFeedback", "Give feedback", "Give feedback to someone, quoting this message as evidence"
    ),
    MessageAction("praise", "Praise", "Praise someone for this message, with the message quoted"),
)

# What a built package offers: Teams would show these on every message, so only those the bot answers.
OFFERED_MESSAGE_ACTIONS: tuple[MessageAction, ...] = MESSAGE_ACTIONS

SHORT_DESCRIPTION = "Goals, feedback, check-ins and reviews, plus talent and succession planning."
FULL_DESCRIPTION = (
    "Trellis is open-source performance and talent management that lives where your people already "
    "chat. Employees set goals, track progress, ask for and give feedback, and prepare regular check-ins "
    "with their manager. Managers run check-ins and performance reviews for their team from one place, "
    "with reminders that arrive in chat at the right time. HR runs review cycles, talent reviews, "
    "succession planning and development plans, with ratings and private feedback kept visible only to "
    "the people who should see them. Type help to the bot to get started."
)


def build_manifest(
    settings: ManifestSettings, *, message_actions: tuple[MessageAction, ...] | None = None
) -> dict[str, Any]:
    """Return the manifest.json content for one deployment (message actions: OFFERED_MESSAGE_ACTIONS)."""
    actions = OFFERED_MESSAGE_ACTIONS if message_actions is None else message_actions
    manifest = {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": settings.version,
        "id": settings.app_id,
        "developer": {
            "name": settings.developer_name,
            "websiteUrl": settings.website_url,
            "privacyUrl": settings.privacy_url,
            "termsOfUseUrl": settings.terms_url,
        },
        "name": {"short": settings.short_name, "full": settings.full_name},
        "description": {"short": SHORT_DESCRIPTION, "full": FULL_DESCRIPTION},
        "icons": {"color": COLOR_ICON, "outline": OUTLINE_ICON},
        "accentColor": BRAND_COLOR,
        "bots": [_bot(settings)],
        "staticTabs": _static_tabs(settings),
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [settings.domain],
        "webApplicationInfo": {
            "id": settings.aad_client_id,
            "resource": f"api://{settings.domain}/{settings.aad_client_id}",
        },
        # People are reached through their own personal install, so that is what "Add" should offer first.
        "defaultInstallScope": "personal",
    }
    if actions:
        manifest["composeExtensions"] = [_message_extension(settings, actions)]
    return manifest


def _bot(settings: ManifestSettings) -> dict[str, Any]:
    return {
        "botId": settings.bot_id,
        "scopes": list(BOT_SCOPES),
        "supportsFiles": False,
        "isNotificationOnly": False,
        "commandLists": _command_lists(COMMANDS),
    }


def _message_extension(settings: ManifestSettings, actions: tuple[MessageAction, ...]) -> dict[str, Any]:
    # Action commands only, each in the message context: the bot answers both invokes itself.
    commands = [
        {
            "id": action.id,
            "type": "action",
            "title": action.title,
            "description": action.description,
            "context": ["message"],
            "fetchTask": True,
        }
        for action in actions
    ]
    return {"botId": settings.bot_id, "composeExtensionType": "botBased", "commands": commands}


def _command_lists(commands: tuple[BotCommand, ...]) -> list[dict[str, Any]]:
    # One list per scope, so a command can later be offered in the personal chat only.
    lists = []
    for scope in BOT_SCOPES:
        entries = [{"title": c.title, "description": c.description} for c in commands if scope in c.scopes]
        if entries:
            lists.append({"scopes": [scope], "commands": entries})
    return lists


def _static_tabs(settings: ManifestSettings) -> list[dict[str, Any]]:
    # "conversations" (the bot chat) and "about" are reserved ids; listing them fixes the tab order:
    # chat first, so the welcome message is the first thing a new user sees.
    tabs: list[dict[str, Any]] = [{"entityId": "conversations", "scopes": ["personal"]}]
    for tab in STATIC_TABS:
        url = f"{settings.public_base_url}{tab.path}"
        tabs.append(
            {
                "entityId": tab.entity_id,
                "name": tab.name,
                "contentUrl": url,
                "websiteUrl": url,
                "scopes": ["personal"],
            }
        )
    tabs.append({"entityId": "about", "scopes": ["personal"]})
    return tabs
