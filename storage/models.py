"""The tables. Typed SQLAlchemy 2 models; the domain turns rows into view objects."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import UTCDateTime

# Named constraints keep alembic autogenerate stable and make migrations portable between SQLite and
# PostgreSQL (SQLite batch mode needs names to drop or alter a constraint).
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON}


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Person(TimestampMixin, Base):
    """Someone in the organization, keyed by Entra tenant + object id (never by email)."""

    __tablename__ = "people"
    __table_args__ = (
        UniqueConstraint("tenant_id", "aad_object_id", name="uq_people_tenant_aad"),
        UniqueConstraint("email", name="uq_people_email"),
        CheckConstraint("manager_id IS NULL OR manager_id <> id", name="not_own_manager"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    aad_object_id: Mapped[str | None] = mapped_column(String(64), index=True)
    email: Mapped[str] = mapped_column(String(320))
    display_name: Mapped[str] = mapped_column(String(200))
    job_title: Mapped[str | None] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(200), index=True)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    hire_date: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    # An HR admin chose this manager: directory syncs leave it alone until the override is cleared.
    manager_overridden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    office_location: Mapped[str | None] = mapped_column(String(200))
    # When the directory last created or changed this person (not every sync that saw them unchanged).
    directory_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # People are never deleted (reviews and history point at them); leaving sets this and active=False.
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    manager: Mapped[Person | None] = relationship(remote_side=[id], back_populates="reports")
    reports: Mapped[list[Person]] = relationship(back_populates="manager")
    roles: Mapped[list[RoleGrant]] = relationship(back_populates="person", cascade="all, delete-orphan")


class DirectorySyncState(Base):
    """Where the directory sync of one Entra tenant stands: Graph's delta link for the next run."""

    __tablename__ = "directory_sync_state"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    delta_link: Mapped[str | None] = mapped_column(Text)
    last_full_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_report: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AppInstallation(Base):
    """Trellis installed for a person through Graph, so the bot can reach them before they open it."""

    __tablename__ = "app_installations"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # requested | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class RoleGrant(Base):
    """An organization-wide role beyond what reporting lines give (HR admin, talent reviewer)."""

    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("person_id", "role", name="uq_role_grants_person_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    # Talent reviewers see a scope: a department, or the whole organization when empty.
    scope_department: Mapped[str | None] = mapped_column(String(200))

    person: Mapped[Person] = relationship(back_populates="roles")


class Position(TimestampMixin, Base):
    """A seat in the organization; succession plans belong to it, not to its incumbent."""

    __tablename__ = "positions"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(200), index=True)
    incumbent_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    # The role profile (required competencies) of whoever sits here.
    role_profile_id: Mapped[int | None] = mapped_column(
        ForeignKey("role_profiles.id", ondelete="SET NULL"), index=True
    )

    incumbent: Mapped[Person | None] = relationship()


class ConversationRef(TimestampMixin, Base):
    """Where to reach a person proactively: their 1:1 chat with the bot."""

    __tablename__ = "conversation_refs"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(512))
    service_url: Mapped[str] = mapped_column(String(512))
    channel_id: Mapped[str] = mapped_column(String(32), default="msteams")
    bot_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(512))
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    # Set when Teams answers 403 (the person blocked or removed the app): stop sending, never retry.
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    welcomed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboxMessage(Base):
    """A message to send after the transaction that produced it commits."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
        Index("ix_outbox_ready", "status", "available_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Same key → same message: a retried transaction or a second nudge run cannot enqueue it twice.
    dedupe_key: Mapped[str | None] = mapped_column(String(256))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """Who read or changed confidential data, and when (HR access to talent data, private notes)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


# --- goals ---------------------------------------------------------------------------------------------
# Numbers are Float (double precision on PostgreSQL, REAL on SQLite): the same arithmetic on both databases,
# and key results measure progress, not money that must add up to the cent.


class Goal(TimestampMixin, Base):
    """An objective of a person, a department (team) or the company, for a period; it may align under
    another goal (parent), whose progress it then counts towards with its weight."""

    __tablename__ = "goals"
    __table_args__ = (
        CheckConstraint(
            "(owner_type = 'person' AND owner_person_id IS NOT NULL AND owner_department IS NULL)"
            " OR (owner_type = 'department' AND owner_person_id IS NULL AND owner_department IS NOT NULL)"
            " OR (owner_type = 'company' AND owner_person_id IS NULL AND owner_department IS NULL)",
            name="one_owner",
        ),
        CheckConstraint("period_end >= period_start", name="period_in_order"),
        CheckConstraint("weight >= 0", name="weight_not_negative"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        # Assigning a template twice for the same person and period must not duplicate the goal.
        UniqueConstraint(
            "template_id",
            "owner_person_id",
            "period_start",
            "period_end",
            name="uq_goals_template_assignment",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(16))  # person | department | company
    owner_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    owner_department: Mapped[str | None] = mapped_column(String(200), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    period_label: Mapped[str] = mapped_column(String(32))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    visibility: Mapped[str] = mapped_column(String(16))  # public | team | private
    kind: Mapped[str] = mapped_column(String(16))  # business | development
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id", ondelete="SET NULL"), index=True)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("goal_templates.id", ondelete="SET NULL"), index=True
    )
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    final_score: Mapped[float | None] = mapped_column(Float)
    # The rolled-up progress (0..1), rewritten for the goal and every ancestor by each write that moves it,
    # so pages that show many goals read it instead of loading whole subtrees.
    progress: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    # The card or form that created the goal: a second submit of the same one finds this goal.
    request_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))

    key_results: Mapped[list[KeyResult]] = relationship(
        back_populates="goal", cascade="all, delete-orphan", order_by="KeyResult.position"
    )


class KeyResult(TimestampMixin, Base):
    """A measurable result of a goal: from start to target, currently at current."""

    __tablename__ = "key_results"
    __table_args__ = (
        CheckConstraint("target <> start", name="target_differs_from_start"),
        CheckConstraint("weight >= 0", name="weight_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200))
    metric: Mapped[str] = mapped_column(String(16))  # number | percent | currency | boolean | milestone
    unit: Mapped[str | None] = mapped_column(String(32))
    start: Mapped[float] = mapped_column(Float)
    target: Mapped[float] = mapped_column(Float)
    current: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    # Bumped on every update: a card or form sends the version it showed, so a stale one is detected.
    version: Mapped[int] = mapped_column(Integer, default=1)

    goal: Mapped[Goal] = relationship(back_populates="key_results")


class KeyResultUpdate(Base):
    """One change of a key result's value: who, when, old → new, why, and how confident they are."""

    __tablename__ = "key_result_updates"
    __table_args__ = (
        CheckConstraint("confidence IS NULL OR (confidence >= 1 AND confidence <= 10)", name="confidence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key_result_id: Mapped[int] = mapped_column(ForeignKey("key_results.id", ondelete="CASCADE"), index=True)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    old_value: Mapped[float] = mapped_column(Float)
    new_value: Mapped[float] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[int | None] = mapped_column(Integer)
    # The key result's version this update produced (the double-click check compares it).
    version: Mapped[int] = mapped_column(Integer)


class GoalTemplate(TimestampMixin, Base):
    """A goal defined once by HR or a manager, then assigned to many people in one action."""

    __tablename__ = "goal_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))

    key_results: Mapped[list[KeyResultTemplate]] = relationship(
        back_populates="template", cascade="all, delete-orphan", order_by="KeyResultTemplate.position"
    )


class KeyResultTemplate(Base):
    """A key result every goal made from the template starts with."""

    __tablename__ = "key_result_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("goal_templates.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(200))
    metric: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str | None] = mapped_column(String(32))
    start: Mapped[float] = mapped_column(Float)
    target: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float, default=1.0)

    template: Mapped[GoalTemplate] = relationship(back_populates="key_results")


# --- check-ins -----------------------------------------------------------------------------------------
# Weeks start on Monday and days are UTC dates: the store keeps no schedule per time zone (yet).


class CheckInPreference(Base):
    """The weekday a person wants their check-in card on (0 = Monday), or paused: no cards at all."""

    __tablename__ = "checkin_preferences"
    __table_args__ = (CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday"),)

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    weekday: Mapped[int] = mapped_column(Integer)
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class CheckIn(TimestampMixin, Base):
    """One person's check-in for one week: opened (by the card or the `checkin` command), sent, maybe
    reminded, and submitted once."""

    __tablename__ = "checkins"
    __table_args__ = (
        # One check-in per person and week: a second card, command or submit finds this row.
        UniqueConstraint("person_id", "week_start", name="uq_checkins_person_week"),
        CheckConstraint("mood IS NULL OR (mood >= 1 AND mood <= 5)", name="mood"),
        Index("ix_checkins_manager_week", "manager_id", "week_start"),
        Index("ix_checkins_week_start", "week_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    # Their manager when the check-in was opened: whose digest it belongs to, even after a move.
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    week_start: Mapped[date] = mapped_column(Date)  # the Monday
    due_on: Mapped[date] = mapped_column(Date)  # the person's check-in day that week
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the card went to their chat
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    mood: Mapped[int | None] = mapped_column(Integer)
    wins: Mapped[str | None] = mapped_column(Text)
    blockers: Mapped[str | None] = mapped_column(Text)
    priorities: Mapped[str | None] = mapped_column(Text)
    # The key results moved with this check-in: [{key_result_id, title, unit, old, new}]. Their history
    # is in key_result_updates; this copy lets the digest say what moved without joining it back.
    key_result_changes: Mapped[list[Any] | None] = mapped_column(JSON)


class CheckInDigest(Base):
    """A manager's digest of one week's check-ins went out (at most once per manager and week)."""

    __tablename__ = "checkin_digests"

    manager_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    week_start: Mapped[date] = mapped_column(Date, primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TalkingPoint(Base):
    """Something to talk about in a check-in; it shows on every check-in of the person until resolved."""

    __tablename__ = "talking_points"
    __table_args__ = (Index("ix_talking_points_person_open", "person_id", "resolved_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    checkin_id: Mapped[int] = mapped_column(ForeignKey("checkins.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    raised_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))


class CheckInComment(Base):
    """A reply to a check-in from the person's manager line (or HR)."""

    __tablename__ = "checkin_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    checkin_id: Mapped[int] = mapped_column(ForeignKey("checkins.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


# --- feedback and recognition ----------------------------------------------------------------------------
# The giver of anonymous feedback is stored (HR handles abuse with it); domain/access.py decides who may
# ever read it. Text is stored as typed: escaping it is each transport's job.


class FeedbackRequest(Base):
    """Someone asks named colleagues for feedback about a subject: themselves, or a report of theirs."""

    __tablename__ = "feedback_requests"
    __table_args__ = (CheckConstraint("expires_at > created_at", name="expires_after_created"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Closed by the requester, or by the expiry pass (then at or after expires_at).
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The card or form that asked: a second submit finds this request.
    client_request_id: Mapped[str | None] = mapped_column(String(64), unique=True)


class FeedbackRequestAsk(Base):
    """One person asked in a request: sent a card, maybe reminded once, answered at most once."""

    __tablename__ = "feedback_request_asks"
    __table_args__ = (UniqueConstraint("request_id", "asked_id", name="uq_feedback_request_asks_asked"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("feedback_requests.id", ondelete="CASCADE"))
    asked_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    answered_feedback_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback.id", ondelete="SET NULL"), unique=True
    )
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Feedback(Base):
    """Feedback from a giver to a recipient, seen by whom the giver's chosen visibility allows."""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint(
            "visibility IN ('recipient_and_manager', 'recipient_only', 'manager_only', 'anonymous')",
            name="visibility",
        ),
        CheckConstraint("giver_id IS NULL OR giver_id <> recipient_id", name="not_to_oneself"),
        Index("ix_feedback_recipient_created", "recipient_id", "created_at"),
        Index("ix_feedback_giver_created", "giver_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # SET NULL, not CASCADE: feedback someone received stays theirs if the giver's row ever goes.
    giver_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(24))
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback_requests.id", ondelete="SET NULL"), index=True
    )
    # Evidence: the text of the Teams message the feedback was given from (the message extension).
    quote: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    client_request_id: Mapped[str | None] = mapped_column(String(64), unique=True)

    tags: Mapped[list[FeedbackTag]] = relationship(
        back_populates="feedback", cascade="all, delete-orphan", order_by="FeedbackTag.id"
    )


class FeedbackTag(Base):
    """A free-form tag on feedback (a competency later), with an optional rating from 1 to 5."""

    __tablename__ = "feedback_tags"
    __table_args__ = (
        UniqueConstraint("feedback_id", "tag", name="uq_feedback_tags_feedback_tag"),
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(50), index=True)
    rating: Mapped[int | None] = mapped_column(Integer)

    feedback: Mapped[Feedback] = relationship(back_populates="tags")


class Badge(Base):
    """A badge praise can carry, defined by HR; official ones only HR may give."""

    __tablename__ = "badges"
    __table_args__ = (UniqueConstraint("name", name="uq_badges_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    emoji: Mapped[str | None] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(Text)
    official: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    # Retired badges stay on the praise that carries them; they can't be given any more.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Praise(Base):
    """Recognition from one person to another, public or private, maybe posted to a channel."""

    __tablename__ = "praise"
    __table_args__ = (Index("ix_praise_receiver_created", "receiver_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    giver_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    receiver_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    badge_id: Mapped[int | None] = mapped_column(ForeignKey("badges.id", ondelete="SET NULL"), index=True)
    text: Mapped[str] = mapped_column(Text)
    private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Where the praise card was posted (a channel the bot is installed in), and the posted activity.
    channel_conversation_id: Mapped[str | None] = mapped_column(String(512))
    channel_service_url: Mapped[str | None] = mapped_column(String(512))
    channel_activity_id: Mapped[str | None] = mapped_column(String(128))
    # Evidence: the text of the Teams message the praise was given from (the message extension).
    quote: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    client_request_id: Mapped[str | None] = mapped_column(String(64), unique=True)


# --- where the bot is installed ----------------------------------------------------------------------------


class TeamChannel(Base):
    """A team channel the bot is installed in: where public praise may be posted. Rows are kept when the
    bot is removed (removed_at), so a reinstall brings the same channel back."""

    __tablename__ = "team_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The channel's thread id (19:...@thread.tacv2): a POST there starts a new post in the channel.
    conversation_id: Mapped[str] = mapped_column(String(512), unique=True)
    service_url: Mapped[str] = mapped_column(String(512))
    tenant_id: Mapped[str | None] = mapped_column(String(64), index=True)
    bot_id: Mapped[str | None] = mapped_column(String(128))
    team_id: Mapped[str | None] = mapped_column(String(512), index=True)
    team_name: Mapped[str | None] = mapped_column(String(256))
    # Teams names a channel only for some events, and never the General channel.
    channel_name: Mapped[str | None] = mapped_column(String(256))
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


# --- performance reviews ---
# A template (scale, sections, items) is fixed once created: cycles and their answers point at it. A cycle's
# participants, each one's manager and department are frozen at launch; reviews are one per (cycle,
# reviewee, reviewer, role). Scores are stored rounded to 2 places (the domain shows them as Decimals).


class ReviewTemplate(TimestampMixin, Base):
    """The form of a review: a rating scale and ordered sections."""

    __tablename__ = "review_templates"
    __table_args__ = (UniqueConstraint("name_key", name="uq_review_templates_name_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # The name casefolded: names are unique whatever their case.
    name_key: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    # One label per point of the scale, lowest first: rating r is scale_labels[r - 1].
    scale_labels: Mapped[list[Any]] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))

    sections: Mapped[list[ReviewSection]] = relationship(
        back_populates="template", cascade="all, delete-orphan", order_by="ReviewSection.position"
    )


class ReviewSection(Base):
    """A part of a template: the reviewee's goals, competencies or questions; weighted; answered by some
    of self, manager, peer and report."""

    __tablename__ = "review_sections"
    __table_args__ = (
        UniqueConstraint("template_id", "position", name="uq_review_sections_position"),
        CheckConstraint("kind IN ('goals', 'competencies', 'questions')", name="kind"),
        CheckConstraint("weight >= 0", name="weight_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("review_templates.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    weight: Mapped[float] = mapped_column(Float)
    answered_by: Mapped[list[Any]] = mapped_column(JSON)  # roles: self, manager, peer, report

    template: Mapped[ReviewTemplate] = relationship(back_populates="sections")
    items: Mapped[list[ReviewItem]] = relationship(
        back_populates="section", cascade="all, delete-orphan", order_by="ReviewItem.position"
    )


class ReviewItem(Base):
    """A question or competency of a section (a goals section has none: the goals are its items)."""

    __tablename__ = "review_items"
    __table_args__ = (
        UniqueConstraint("section_id", "key", name="uq_review_items_section_key"),
        CheckConstraint("kind IN ('text', 'rating', 'choice')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("review_sections.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(String(500))
    required: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    choices: Mapped[list[Any] | None] = mapped_column(JSON)
    # The framework's competency this item rates: a released review records it as an assessment.
    competency_id: Mapped[int | None] = mapped_column(
        ForeignKey("competencies.id", ondelete="RESTRICT"), index=True
    )

    section: Mapped[ReviewSection] = relationship(back_populates="items")


class ReviewCycle(TimestampMixin, Base):
    """A round of reviews over a period, moving through its phases; who it reviews is a rule until launch."""

    __tablename__ = "review_cycles"
    __table_args__ = (
        CheckConstraint("period_end >= period_start", name="period_in_order"),
        CheckConstraint(
            "phase IN ('draft', 'self_review', 'peer_review', 'manager_review', 'calibration', 'released',"
            " 'closed')",
            name="phase",
        ),
        Index("ix_review_cycles_phase", "phase"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="regular")  # regular | new_hire
    template_id: Mapped[int] = mapped_column(
        ForeignKey("review_templates.id", ondelete="RESTRICT"), index=True
    )
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    phase: Mapped[str] = mapped_column(String(24), default="draft")
    recurrence: Mapped[str] = mapped_column(String(16), default="none")
    # The participants rule: one of a department, everyone below a manager, or a list of people.
    rule_department: Mapped[str | None] = mapped_column(String(200))
    rule_manager_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    rule_person_ids: Mapped[list[Any] | None] = mapped_column(JSON)
    # The advisory calibration guideline: percent per point of the scale (None: the scale's default).
    guideline: Mapped[list[Any] | None] = mapped_column(JSON)
    # The recurring cycle whose close created this draft: closing it twice creates one next cycle.
    previous_cycle_id: Mapped[int | None] = mapped_column(
        ForeignKey("review_cycles.id", ondelete="SET NULL"), unique=True
    )
    # A new-hire cycle's one person: at most one new-hire review each, however often the scheduler runs.
    new_hire_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), unique=True
    )
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))

    phases: Mapped[list[ReviewCyclePhase]] = relationship(
        back_populates="cycle", cascade="all, delete-orphan"
    )


class ReviewCyclePhase(Base):
    """One phase of a cycle: its deadline (inclusive), and when it opened and closed, by whom."""

    __tablename__ = "review_cycle_phases"

    cycle_id: Mapped[int] = mapped_column(
        ForeignKey("review_cycles.id", ondelete="CASCADE"), primary_key=True
    )
    phase: Mapped[str] = mapped_column(String(24), primary_key=True)
    due_on: Mapped[date | None] = mapped_column(Date)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    cycle: Mapped[ReviewCycle] = relationship(back_populates="phases")


class ReviewParticipant(Base):
    """A person a cycle reviews, with their manager and department as they were when they joined it."""

    __tablename__ = "review_participants"
    __table_args__ = (
        UniqueConstraint("cycle_id", "person_id", name="uq_review_participants_cycle_person"),
        Index("ix_review_participants_person_id", "person_id"),
        Index("ix_review_participants_cycle_manager", "cycle_id", "manager_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("review_cycles.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    department: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16))  # launch | added | new_hire
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    # From the manager review, when it is submitted; final_score is what calibration made of it.
    computed_score: Mapped[float | None] = mapped_column(Float)
    final_score: Mapped[float | None] = mapped_column(Float)
    manager_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledgement_comment: Mapped[str | None] = mapped_column(Text)


class Review(Base):
    """One review of a participant by one reviewer in one role: pending, draft, then submitted once."""

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("cycle_id", "reviewee_id", "reviewer_id", "role", name="uq_reviews_reviewer_role"),
        CheckConstraint("role IN ('self', 'manager', 'peer', 'report')", name="role"),
        CheckConstraint("status IN ('pending', 'draft', 'submitted')", name="status"),
        CheckConstraint(
            "(role = 'self' AND reviewer_id = reviewee_id)"
            " OR (role <> 'self' AND reviewer_id <> reviewee_id)",
            name="self_only_by_self",
        ),
        # The nudge planner's and the dashboard's scans: a cycle's reviews of one role still to submit.
        Index("ix_reviews_cycle_role_status", "cycle_id", "role", "status"),
        Index("ix_reviews_reviewer_id", "reviewer_id"),
        Index("ix_reviews_participant_id", "participant_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("review_cycles.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("review_participants.id", ondelete="CASCADE"))
    reviewee_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # The form step to resume at (the one after the step last saved).
    step: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped by every save that changes an answer: a form sends the version it showed.
    version: Mapped[int] = mapped_column(Integer, default=0)
    nominated_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReviewAnswer(Base):
    """The current answer to one item of a review (a draft until the review is submitted)."""

    __tablename__ = "review_answers"
    __table_args__ = (UniqueConstraint("review_id", "section_id", "item_key", name="uq_review_answers_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    section_id: Mapped[int] = mapped_column(ForeignKey("review_sections.id", ondelete="CASCADE"), index=True)
    item_key: Mapped[str] = mapped_column(String(32))
    rating: Mapped[int | None] = mapped_column(Integer)
    choice: Mapped[str | None] = mapped_column(String(100))
    text: Mapped[str | None] = mapped_column(Text)
    # The review's version this value was saved at.
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReviewAnswerRevision(Base):
    """Every value an answer had, with the review version it was saved at: a save from a form shown at an
    older version merges against the value the form showed (so two devices lose neither's edits)."""

    __tablename__ = "review_answer_revisions"
    __table_args__ = (Index("ix_review_answer_revisions_answer_version", "answer_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("review_answers.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    rating: Mapped[int | None] = mapped_column(Integer)
    choice: Mapped[str | None] = mapped_column(String(100))
    text: Mapped[str | None] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReviewCalibration(Base):
    """A change of a participant's final score in calibration: before, after, why, who and when."""

    __tablename__ = "review_calibrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("review_participants.id", ondelete="CASCADE"), index=True
    )
    before: Mapped[float | None] = mapped_column(Float)
    after: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


# --- performance improvement plans ---
# A plan is about one employee: written as a draft by their manager line or HR, shared (active) from a
# start date, closed with an outcome. Its content is fixed once shared; an extension adds checkpoints and
# moves the end date, and every outcome decision is kept (improvement_plan_decisions).


class ImprovementPlan(Base):
    """A performance improvement plan: the gap, measurable goals, checkpoints, support, outcome."""

    __tablename__ = "improvement_plans"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'active', 'closed')", name="status"),
        CheckConstraint(
            "(status = 'draft' AND outcome = 'open')"
            " OR (status = 'active' AND outcome IN ('open', 'extended'))"
            " OR (status = 'closed' AND outcome IN ('successful', 'unsuccessful', 'cancelled'))",
            name="outcome_fits_status",
        ),
        CheckConstraint("end_date > start_date", name="period_in_order"),
        Index("ix_improvement_plans_employee_id", "employee_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    outcome: Mapped[str] = mapped_column(String(16), default="open")
    gap: Mapped[str] = mapped_column(Text)
    support: Mapped[list[Any]] = mapped_column(JSON)  # what the organization promises: training, coaching...
    # Planned while a draft; activation may move it (and every checkpoint with it).
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    activated_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledgement_comment: Mapped[str | None] = mapped_column(Text)
    # The card or form that created the plan: a second submit finds this plan.
    client_request_id: Mapped[str | None] = mapped_column(String(64), unique=True)

    examples: Mapped[list[ImprovementPlanExample]] = relationship(
        cascade="all, delete-orphan", order_by="ImprovementPlanExample.position"
    )
    goals: Mapped[list[ImprovementPlanGoal]] = relationship(
        cascade="all, delete-orphan", order_by="ImprovementPlanGoal.position"
    )
    checkpoints: Mapped[list[ImprovementPlanCheckpoint]] = relationship(
        cascade="all, delete-orphan", order_by="ImprovementPlanCheckpoint.position"
    )
    decisions: Mapped[list[ImprovementPlanDecision]] = relationship(
        cascade="all, delete-orphan", order_by="ImprovementPlanDecision.id"
    )


# One plan in progress (a draft or an active one) per employee, whoever opens it, however racing.
Index(
    "uq_improvement_plans_one_open",
    ImprovementPlan.employee_id,
    unique=True,
    sqlite_where=ImprovementPlan.status != "closed",
    postgresql_where=ImprovementPlan.status != "closed",
)


class ImprovementPlanExample(Base):
    """A dated example of the gap."""

    __tablename__ = "improvement_plan_examples"
    __table_args__ = (UniqueConstraint("plan_id", "position", name="uq_improvement_plan_examples_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("improvement_plans.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    happened_on: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)


class ImprovementPlanGoal(Base):
    """A measurable goal of a plan, maybe pointing at one of the employee's goals."""

    __tablename__ = "improvement_plan_goals"
    __table_args__ = (UniqueConstraint("plan_id", "position", name="uq_improvement_plan_goals_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("improvement_plans.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    measure: Mapped[str] = mapped_column(Text)
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id", ondelete="SET NULL"), index=True)


class ImprovementPlanCheckpoint(Base):
    """A checkpoint of a plan: due on a day, recorded once (status and notes, by whom, when)."""

    __tablename__ = "improvement_plan_checkpoints"
    __table_args__ = (
        UniqueConstraint("plan_id", "position", name="uq_improvement_plan_checkpoints_position"),
        CheckConstraint("status IN ('pending', 'met', 'partly_met', 'not_met')", name="status"),
        CheckConstraint(
            "(status = 'pending' AND recorded_at IS NULL)"
            " OR (status <> 'pending' AND recorded_at IS NOT NULL)",
            name="recorded_when_not_pending",
        ),
        # The reminder scan: pending checkpoints due by a day.
        Index("ix_improvement_plan_checkpoints_status_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("improvement_plans.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The (UTC) day the manager was last reminded: at most one reminder per checkpoint per day.
    reminded_on: Mapped[date | None] = mapped_column(Date)


class ImprovementPlanDecision(Base):
    """An outcome recorded on an active plan: an extension (new end date) or the one that closed it."""

    __tablename__ = "improvement_plan_decisions"
    __table_args__ = (
        CheckConstraint("outcome IN ('extended', 'successful', 'unsuccessful', 'cancelled')", name="outcome"),
        CheckConstraint(
            "(outcome = 'extended' AND new_end_date IS NOT NULL)"
            " OR (outcome <> 'extended' AND new_end_date IS NULL)",
            name="end_date_only_when_extended",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("improvement_plans.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    previous_end_date: Mapped[date] = mapped_column(Date)
    new_end_date: Mapped[date | None] = mapped_column(Date)


# --- competency framework ---
# The shared language of both halves: review items rate competencies, assessments record a person's level
# (every one kept: the latest is the current level), role profiles say what a role expects.


class Competency(Base):
    """A competency with a category and one description per level, lowest first."""

    __tablename__ = "competencies"
    __table_args__ = (UniqueConstraint("name_key", name="uq_competencies_name_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))  # the name casefolded
    category: Mapped[str] = mapped_column(String(64))  # leadership | functional | behaviours | ...
    description: Mapped[str | None] = mapped_column(Text)
    # Level n is described by levels[n - 1]; a competency has 2 to 10 levels.
    levels: Mapped[list[Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RoleProfile(Base):
    """What a role expects: competencies at levels, with weights; a job title maps people to it."""

    __tablename__ = "role_profiles"
    __table_args__ = (
        UniqueConstraint("name_key", name="uq_role_profiles_name_key"),
        UniqueConstraint("job_title_key", name="uq_role_profiles_job_title_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    # People whose job title is this (casefolded) hold the role when no position says otherwise.
    job_title_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    requirements: Mapped[list[RoleRequirement]] = relationship(cascade="all, delete-orphan")


class RoleRequirement(Base):
    """One competency a role profile expects, at a level, with a weight."""

    __tablename__ = "role_requirements"
    __table_args__ = (
        CheckConstraint("expected_level >= 1", name="level_positive"),
        CheckConstraint("weight > 0", name="weight_positive"),
    )

    role_profile_id: Mapped[int] = mapped_column(
        ForeignKey("role_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    competency_id: Mapped[int] = mapped_column(
        ForeignKey("competencies.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    expected_level: Mapped[int] = mapped_column(Integer)
    weight: Mapped[float] = mapped_column(Float, default=1.0)


class CompetencyAssessment(Base):
    """A person's level on a competency, as assessed on a day (from a review or by their manager)."""

    __tablename__ = "competency_assessments"
    __table_args__ = (
        CheckConstraint("level >= 1", name="level_positive"),
        CheckConstraint("source IN ('review', 'manager')", name="source"),
        # One assessment per competency per released review, however often release is replayed.
        UniqueConstraint("review_participant_id", "competency_id", name="uq_competency_assessments_review"),
        # In the order "newest" means (day, then the row recorded last) and covering the level: a person's
        # level on a competency as of a day is read from the index alone (skill-gap closure).
        Index(
            "ix_competency_assessments_person_competency",
            "person_id",
            "competency_id",
            "assessed_on",
            "id",
            "level",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))
    review_participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("review_participants.id", ondelete="SET NULL")
    )
    assessed_on: Mapped[date] = mapped_column(Date)
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The card or form that recorded it: a second submit finds this row.
    client_request_id: Mapped[str | None] = mapped_column(String(64), unique=True)


class CareerStep(Base):
    """A next role from a role profile: up the ladder or a lateral move."""

    __tablename__ = "career_steps"
    __table_args__ = (
        CheckConstraint("from_profile_id <> to_profile_id", name="not_to_itself"),
        CheckConstraint("kind IN ('ladder', 'lateral')", name="kind"),
    )

    from_profile_id: Mapped[int] = mapped_column(
        ForeignKey("role_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    to_profile_id: Mapped[int] = mapped_column(
        ForeignKey("role_profiles.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(16))


# --- talent reviews ---
# A talent review reads one closed performance cycle: each participant's final score gives the performance
# axis; the manager rates potential (ability, aspiration, engagement), risk and impact of loss. Axes are
# 1 (low) to 3 (high). Calibration moves people between boxes with a reason; finalizing locks it.


def talent_review_name_key(name: str) -> str:
    """What makes two talent review names the same: case and spacing aside."""
    return " ".join(name.split()).casefold()[:200]


class TalentReview(Base):
    """A talent-review session over a closed performance cycle."""

    __tablename__ = "talent_reviews"
    __table_args__ = (
        CheckConstraint("status IN ('rating', 'calibration', 'finalized')", name="status"),
        CheckConstraint("high_from > medium_from", name="thresholds_in_order"),
        # One review of a name per cycle: a second submit of the open form, even racing, opens nothing.
        UniqueConstraint("performance_cycle_id", "name_key", name="uq_talent_reviews_cycle_name_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(
        String(200), default=lambda ctx: talent_review_name_key(ctx.get_current_parameters()["name"])
    )
    performance_cycle_id: Mapped[int] = mapped_column(
        ForeignKey("review_cycles.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="rating")
    # Scores below medium_from are low performance, from high_from high (on the cycle's scale).
    medium_from: Mapped[float] = mapped_column(Float)
    high_from: Mapped[float] = mapped_column(Float)
    # Nine cell names, high potential row first, low performance first (None: PRODUCT.md's defaults).
    box_labels: Mapped[list[Any] | None] = mapped_column(JSON)
    # HR opened the placements of their line to managers.
    opened_to_managers: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    calibration_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finalized_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finalized_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))


_LEVEL = "{0} IS NULL OR {0} BETWEEN 1 AND 3"


class TalentReviewEntry(Base):
    """One person in a talent review: the inputs and their place on the 9-box."""

    __tablename__ = "talent_review_entries"
    __table_args__ = (
        UniqueConstraint("talent_review_id", "person_id", name="uq_talent_review_entries_person"),
        *(
            CheckConstraint(_LEVEL.format(column), name=f"{column}_level")
            for column in (
                "performance",
                "ability",
                "aspiration",
                "engagement",
                "potential",
                "risk_of_loss",
                "impact_of_loss",
            )
        ),
        Index("ix_talent_review_entries_person_id", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    talent_review_id: Mapped[int] = mapped_column(ForeignKey("talent_reviews.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    department: Mapped[str | None] = mapped_column(String(200))
    # The released review's final score, and the axis it gives (calibration may move the axis).
    performance_score: Mapped[float | None] = mapped_column(Float)
    performance: Mapped[int | None] = mapped_column(Integer)
    ability: Mapped[int | None] = mapped_column(Integer)
    aspiration: Mapped[int | None] = mapped_column(Integer)
    engagement: Mapped[int | None] = mapped_column(Integer)
    potential: Mapped[int | None] = mapped_column(Integer)
    risk_of_loss: Mapped[int | None] = mapped_column(Integer)
    impact_of_loss: Mapped[int | None] = mapped_column(Integer)
    high_potential: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    notes: Mapped[str | None] = mapped_column(Text)
    rated_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=0)


class TalentReviewMove(Base):
    """A calibration move between boxes: before, after, why, who and when."""

    __tablename__ = "talent_review_moves"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("talent_review_entries.id", ondelete="CASCADE"), index=True
    )
    performance_before: Mapped[int | None] = mapped_column(Integer)
    potential_before: Mapped[int | None] = mapped_column(Integer)
    performance_after: Mapped[int] = mapped_column(Integer)
    potential_after: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- succession and internal mobility ---
# A slate belongs to a position, so it survives a change of incumbent. How each position was filled is
# kept (position_fills): it gives the internal fill rate.


class Successor(Base):
    """A person on a position's succession slate."""

    __tablename__ = "successors"
    __table_args__ = (
        UniqueConstraint("position_id", "person_id", name="uq_successors_position_person"),
        CheckConstraint("readiness IN ('ready_now', '1_2_years', '3_5_years')", name="readiness"),
        CheckConstraint("months_to_ready IS NULL OR months_to_ready >= 0", name="months_not_negative"),
        Index("ix_successors_person_id", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    position_id: Mapped[int] = mapped_column(ForeignKey("positions.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    readiness: Mapped[str] = mapped_column(String(16))
    months_to_ready: Mapped[int | None] = mapped_column(Integer)
    emergency: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    notes: Mapped[str | None] = mapped_column(Text)
    nominated_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    nominated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


# One emergency successor per position, however racing.
Index(
    "uq_successors_one_emergency",
    Successor.position_id,
    unique=True,
    sqlite_where=text("emergency"),
    postgresql_where=text("emergency"),
)


class TalentPool(Base):
    """A named group of people being grown for a kind of role (e.g. future leaders)."""

    __tablename__ = "talent_pools"
    __table_args__ = (UniqueConstraint("name_key", name="uq_talent_pools_name_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TalentPoolMember(Base):
    """A person in a talent pool."""

    __tablename__ = "talent_pool_members"

    pool_id: Mapped[int] = mapped_column(ForeignKey("talent_pools.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PositionFill(Base):
    """How a position was filled: by whom, when, from inside or outside, from its slate or not."""

    __tablename__ = "position_fills"
    __table_args__ = (
        CheckConstraint("source IN ('internal', 'external')", name="source"),
        CheckConstraint("source = 'internal' OR NOT from_slate", name="slate_is_internal"),
        Index("ix_position_fills_filled_on", "filled_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    position_id: Mapped[int] = mapped_column(ForeignKey("positions.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    previous_incumbent_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    filled_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16))
    from_slate: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- development plans ---
# One plan per person, with actions linked to a competency gap and/or a goal. The person, their manager
# line and HR write it; the bot reminds the person of actions coming due (reminded_on: once a day at most).


class DevelopmentPlan(Base):
    """A person's individual development plan."""

    __tablename__ = "development_plans"
    __table_args__ = (UniqueConstraint("person_id", name="uq_development_plans_person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    # What started it: the person, a released review or a talent review.
    source: Mapped[str] = mapped_column(String(16), default="self")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    actions: Mapped[list[DevelopmentAction]] = relationship(
        cascade="all, delete-orphan", order_by="DevelopmentAction.id"
    )


class DevelopmentAction(Base):
    """One action of a development plan."""

    __tablename__ = "development_actions"
    __table_args__ = (
        CheckConstraint("kind IN ('training', 'mentoring', 'stretch', 'course', 'project')", name="kind"),
        CheckConstraint("status IN ('planned', 'in_progress', 'done', 'cancelled')", name="status"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_percent"),
        # The reminder scan: open actions by due day.
        Index("ix_development_actions_status_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("development_plans.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    competency_id: Mapped[int | None] = mapped_column(ForeignKey("competencies.id", ondelete="SET NULL"))
    target_level: Mapped[int | None] = mapped_column(Integer)
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id", ondelete="SET NULL"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(Text)
    # What suggested it: manual | review (a released review's gap) | talent_review (a talent review's).
    source: Mapped[str] = mapped_column(String(16), default="manual")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=0)
    reminded_on: Mapped[date | None] = mapped_column(Date)
    client_request_id: Mapped[str | None] = mapped_column(String(64), unique=True)


# --- the bridge: suggestions from performance signals ---
# Suggestions are computed from the store on demand (domain/signals.py); what people decided about one is
# kept here, keyed by what it suggests (kind, person, target), with the evidence as it was shown.


class SuggestionDecision(Base):
    """A person's decision on a suggestion: accepted (with what it created) or dismissed, and why."""

    __tablename__ = "suggestion_decisions"
    __table_args__ = (
        UniqueConstraint("kind", "person_id", "target_key", name="uq_suggestion_decisions_suggestion"),
        CheckConstraint("status IN ('accepted', 'dismissed')", name="status"),
        Index("ix_suggestion_decisions_person_id", "person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    # Whom the suggestion is about (for a calibration bias flag: the manager).
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    # What it proposes for them, e.g. "position:12", "pool:3", "role:7"; "" when nothing more.
    target_key: Mapped[str] = mapped_column(String(64), default="", server_default="")
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    score: Mapped[float] = mapped_column(Float)
    # The evidence as shown when decided (the store moves on; the decision keeps what it was based on).
    evidence: Mapped[list[Any]] = mapped_column(JSON)
    # What accepting created, e.g. "successor:41", "development_action:9", "goal:77", "talent_entry:5".
    outcome: Mapped[str | None] = mapped_column(String(64))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
