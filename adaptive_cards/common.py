"""What several cards share: the app's name, its commands, and what each role can do."""

from __future__ import annotations

from collections.abc import Iterable

from adaptive_cards.elements import Element, bullet_list, container, fact_set, text

APP_NAME = "Trellis"

# Role names as domain.access.Role spells them; cards take plain strings so they need no domain import.
EMPLOYEE = "employee"
MANAGER = "manager"
HR_ADMIN = "hr_admin"
TALENT_REVIEWER = "talent_reviewer"

# Commands a person can type now, as (command, description), for the help and welcome cards. Features add
# theirs here and in manifest.build.COMMANDS (what Teams suggests); a manifest test keeps the two in step.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("help", "Show what Trellis can do"),
    ("goals", "See your goals and update their progress"),
    ("goals @name", "See a colleague's goals (all of them for your team)"),
    ("new goal", "Set a new goal"),
    ("checkin", "Fill in this week's check-in"),
    ("checkins", "Your team's check-ins this week"),
    ("feedback @name", "Give someone feedback"),
    ("praise @name", "Praise someone"),
    ("request feedback from @name", "Ask colleagues for feedback about …"),
    ("reviews", "Your reviews to write, and your results"),
)

ABOUT = (
    "{app} brings performance and talent management into Teams: goals, feedback, check-ins and "
    "reviews, plus development plans and succession."
)

# (role, heading, what that role can do). The employee part applies to everyone.
ROLE_ABILITIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        EMPLOYEE,
        "For you",
        (
            "Set goals and update your progress",
            "Ask for feedback and give it to colleagues",
            "Prepare check-ins and reviews with your manager",
            "Plan your development and explore career paths",
        ),
    ),
    (
        MANAGER,
        "As a manager",
        (
            "Follow and coach your team's goals",
            "Hold check-ins and write reviews for your reports",
            "Agree development plans with your team",
        ),
    ),
    (
        HR_ADMIN,
        "As an HR admin",
        (
            "Run goal, check-in and review cycles",
            "Keep the organization's people and roles up to date",
            "Follow completion across the organization and send reminders",
        ),
    ),
    (
        TALENT_REVIEWER,
        "As a talent reviewer",
        (
            "Run talent reviews and calibrate potential",
            "Plan succession for key positions",
            "Track bench strength and development progress",
        ),
    ),
)


def normalize_roles(roles: Iterable[str]) -> frozenset[str]:
    """Role names as plain lower-case strings (accepts StrEnum members too); everyone is an employee."""
    return frozenset(str(role).lower() for role in roles) | {EMPLOYEE}


def about_text(app_name: str) -> Element:
    """One sentence on what the app does."""
    return text(ABOUT.format(app=app_name))


def role_sections(roles: Iterable[str]) -> list[Element]:
    """What the person can do, one section per role they hold (employee always first)."""
    held = normalize_roles(roles)
    return [
        container([text(title, weight="Bolder"), bullet_list(abilities)], spacing="Medium")
        for role, title, abilities in ROLE_ABILITIES
        if role in held
    ]


def commands_section(commands: Iterable[tuple[str, str]] = COMMANDS) -> Element:
    """The commands a person can type, each with what it does."""
    return container(
        [text("Commands you can type here", weight="Bolder"), fact_set(commands)],
        spacing="Medium",
    )
