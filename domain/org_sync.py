"""Keeping people in step with the organization's directory (Microsoft Entra ID, through Graph)."""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Actor, audit, manager_chain, may_administer, require
from domain.errors import Invalid, NotFound
from domain.org_people import (
    Directory,
    DirectoryEntry,
    find_cycles,
    insert_people,
    load_directory,
    update_people,
)
from storage.bulk import Progress, batches, progress_advancer
from storage.models import DirectorySyncState, Person, utcnow


@dataclass(frozen=True)
class DirectoryUser:
    """One user as the directory describes them; `removed` marks a deletion reported by a delta query."""

    id: str  # Entra object id
    display_name: str | None = None
    mail: str | None = None
    user_principal_name: str | None = None
    job_title: str | None = None
    department: str | None = None
    office_location: str | None = None
    hire_date: date | None = None
    enabled: bool = True
    manager_id: str | None = None  # the manager's Entra object id; None when the directory names none
    removed: bool = False
    # Which fields the directory sent: a delta page carries only what changed, so absent ≠ empty.
    fields: frozenset[str] = frozenset()


# Everything below reads a DirectoryUser; the dataclass above is the contract with the Graph client.

# The DirectoryUser attributes a sync may write, and the Graph property names a client may put in `fields`.
SYNCED_FIELDS = frozenset(
    {
        "display_name",
        "mail",
        "user_principal_name",
        "job_title",
        "department",
        "office_location",
        "hire_date",
        "enabled",
        "manager_id",
    }
)
_GRAPH_NAMES = {
    "displayName": "display_name",
    "userPrincipalName": "user_principal_name",
    "jobTitle": "job_title",
    "officeLocation": "office_location",
    "employeeHireDate": "hire_date",
    "accountEnabled": "enabled",
    "manager": "manager_id",
    "manager@delta": "manager_id",
}
# Stored column lengths (Graph allows longer values; PostgreSQL would refuse them).
_LIMITS = {"display_name": 200, "job_title": 200, "department": 200, "office_location": 200, "email": 320}
# Every update of a person writes these columns, so one statement serves a whole batch.
_COLUMNS = (
    "email",
    "display_name",
    "job_title",
    "department",
    "office_location",
    "hire_date",
    "active",
    "deactivated_at",
    "tenant_id",
    "aad_object_id",
)
_NOTE_LIMIT = 200  # notes kept in the stored report; the CLI shows fewer


@dataclass(frozen=True, slots=True)
class SyncNote:
    """One line of a report: who, what happened (or did not), and why."""

    person: str
    what: str
    why: str = ""

    def __str__(self) -> str:
        return f"{self.person}: {self.what}" + (f" ({self.why})" if self.why else "")


@dataclass
class SyncReport:
    """What a sync changed (or, in a dry run, would change) and what it refused or skipped, with reasons."""

    full: bool = False
    dry_run: bool = False
    seen: int = 0
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    reactivated: int = 0
    managers_changed: int = 0
    unchanged: int = 0
    skipped: int = 0
    changes: list[SyncNote] = field(default_factory=list)
    notes: list[SyncNote] = field(default_factory=list)

    def render(self, limit: int = 50) -> str:
        """The report for a person at a terminal: counts, then changes and notes (at most `limit` each)."""
        head = "Dry run: nothing was written. " if self.dry_run else ""
        kind = "full" if self.full else "incremental"
        lines = [
            f"{head}Directory sync ({kind}): {self.seen} users read; {self.created} created, "
            f"{self.updated} updated, {self.deactivated} deactivated, {self.reactivated} reactivated, "
            f"{self.managers_changed} manager changes, {self.unchanged} unchanged, {self.skipped} skipped."
        ]
        for title, items in (("Changes", self.changes), ("Notes", self.notes)):
            if items:
                lines.append(f"{title}:")
                lines.extend(f"  {item}" for item in items[:limit])
                if len(items) > limit:
                    lines.append(f"  … and {len(items) - limit} more")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary for DirectorySyncState.last_report (notes capped)."""
        counts = {
            name: getattr(self, name)
            for name in (
                "full",
                "dry_run",
                "seen",
                "created",
                "updated",
                "deactivated",
                "reactivated",
                "managers_changed",
                "unchanged",
                "skipped",
            )
        }
        counts["notes"] = [asdict(note) for note in self.notes[:_NOTE_LIMIT]]
        counts["notes_total"] = len(self.notes)
        return counts


@dataclass(frozen=True, slots=True)
class SyncState:
    """Where a tenant's sync stands; no delta link means the next sync must be a full one."""

    tenant_id: str
    delta_link: str | None = None
    last_full_sync_at: datetime | None = None
    last_sync_at: datetime | None = None
    last_report: dict[str, Any] | None = None


# --- the sync ----------------------------------------------------------------------------------------


async def apply_directory(
    session: AsyncSession,
    users: Iterable[DirectoryUser | Sequence[DirectoryUser]]
    | AsyncIterable[DirectoryUser | Sequence[DirectoryUser]],
    *,
    tenant_id: str,
    full: bool,
    now: datetime,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> SyncReport:
    """Bring the tenant's people in line with the directory, in the caller's transaction (never commits).

    `users` may yield users or whole pages of them. Everything is read before anything is written, so a
    failing source (Graph going away mid-paging) leaves the database untouched. `full` is a complete
    listing (people of the tenant it does not name are deactivated); otherwise a delta of changes.
    People are only ever inserted or updated in place, never deleted or re-keyed, so anything that
    points at a person (a frozen review cycle's population, once cycles exist) keeps pointing at them.
    """
    listed = await _collect(users)
    plan = _Planner(await load_directory(session), tenant_id=tenant_id, full=full, now=now)
    plan.report.dry_run = dry_run
    plan.report.seen = len(listed)
    for user in listed.values():
        plan.person(user)
    if full:
        plan.deactivate_unlisted(listed.keys())
    for user in listed.values():
        plan.manager(user)
    plan.refuse_cycles()
    plan.finish()
    if not dry_run:
        await _write(session, plan, now, progress_advancer(progress, len(listed)))
    return plan.report


async def _collect(
    source: Iterable[DirectoryUser | Sequence[DirectoryUser]]
    | AsyncIterable[DirectoryUser | Sequence[DirectoryUser]],
) -> dict[str, DirectoryUser]:
    """Every user by lowercase Entra id; one listed twice (a delta may) is merged, the later one winning."""
    listed: dict[str, DirectoryUser] = {}

    def add(item: DirectoryUser | Sequence[DirectoryUser]) -> None:
        for user in (item,) if isinstance(item, DirectoryUser) else item:
            key = user.id.lower()
            earlier = listed.get(key)
            listed[key] = user if earlier is None else _merge(earlier, user)

    if isinstance(source, AsyncIterable):
        async for item in source:
            add(item)
    else:
        for item in source:
            add(item)
    return listed


def _merge(earlier: DirectoryUser, later: DirectoryUser) -> DirectoryUser:
    if later.removed or earlier.removed:
        return later  # a deletion, or a comeback after one: the later entry is the truth
    sent = _sent(later, full=False)
    fields = frozenset(_sent(earlier, full=False) | sent)
    return replace(earlier, **{name: getattr(later, name) for name in sent}, fields=fields)


def _sent(user: DirectoryUser, *, full: bool) -> frozenset[str]:
    """The fields this user carries: all of them in a full listing, else those named in `fields`.

    A delta entry naming no field (Graph sends just the id when an unselected property changed)
    changes nothing.
    """
    if full:
        return SYNCED_FIELDS
    return frozenset(_GRAPH_NAMES.get(name, name) for name in user.fields) & SYNCED_FIELDS


def _email_of(user: DirectoryUser) -> str | None:
    for value in (user.mail, user.user_principal_name):
        if value and value.strip():
            return value.strip().lower()
    return None


def _fit(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value[: _LIMITS[name]] or None


class _Planner:
    """Works out every change against people read once; writes nothing itself.

    New people get negative ids until they are inserted, so manager links and the cycle check treat
    them like everyone else.
    """

    def __init__(self, directory: Directory, *, tenant_id: str, full: bool, now: datetime) -> None:
        self.directory = directory
        self.tenant_id = tenant_id
        self.full = full
        self.now = now
        self.report = SyncReport(full=full)
        self.by_aad: dict[str, DirectoryEntry] = directory.by_aad(tenant_id)
        self.email_owner: dict[str, int] = {e.email.lower(): e.id for e in directory.entries.values()}
        self.id_of_aad: dict[str, int] = {aad: e.id for aad, e in self.by_aad.items()}
        self.manager_of: dict[int, int | None] = {e.id: e.manager_id for e in directory.entries.values()}
        self.label: dict[int, str] = {e.id: e.email for e in directory.entries.values()}
        self.updates: dict[int, dict[str, Any]] = {}  # existing person id → every _COLUMNS value
        self.inserts: dict[int, dict[str, Any]] = {}  # temporary id → values
        self.moves: dict[int, int | None] = {}  # person id → new manager id
        self.kind: dict[int, set[str]] = {}  # person id → what happened ("updated", "deactivated", ...)
        self.unlisted: set[int] = set()  # deactivated by a full sync for not being listed
        self._next_new = -1

    def _name(self, person_id: int | None) -> str:
        return "no one" if person_id is None else self.label.get(person_id, "?")

    # -- people -------------------------------------------------------------------------------------

    def person(self, user: DirectoryUser) -> None:
        aad = user.id.lower()
        entry = self.by_aad.get(aad)
        if entry is None:
            if user.removed:
                return  # deleted before we ever knew them: nothing to keep
            entry = self._adopt_or_create(user, aad)
            if entry is None:
                return
        self._update(entry, user, aad)

    def _adopt_or_create(self, user: DirectoryUser, aad: str) -> DirectoryEntry | None:
        email = _fit("email", _email_of(user))
        who = user.display_name or user.id
        if not email:
            self._skip(who, "has no mail or userPrincipalName")
            return None
        owner_id = self.email_owner.get(email)
        if owner_id is not None:
            owner = self.directory.entries.get(owner_id)
            # Someone imported by CSV (no Entra id yet) becomes this directory user: same email, same person.
            if owner is not None and not owner.aad_object_id and owner.tenant_id in (None, self.tenant_id):
                self.id_of_aad[aad] = owner.id
                return owner
            self._skip(email, f"email already belongs to another person ({self.label.get(owner_id, '?')})")
            return None
        new_id = self._next_new
        self._next_new -= 1
        disabled = not user.enabled
        self.inserts[new_id] = {
            "email": email,
            "display_name": _fit("display_name", user.display_name) or email,
            "job_title": _fit("job_title", user.job_title),
            "department": _fit("department", user.department),
            "office_location": _fit("office_location", user.office_location),
            "hire_date": user.hire_date,
            # A disabled account is still created (inactive), so reporting lines through it stay whole.
            "active": not disabled,
            "deactivated_at": self.now if disabled else None,
            "tenant_id": self.tenant_id,
            "aad_object_id": aad,
        }
        self.email_owner[email] = new_id
        self.id_of_aad[aad] = new_id
        self.manager_of[new_id] = None
        self.label[new_id] = email
        self.report.created += 1
        self.report.changes.append(
            SyncNote(email, "created", "account disabled: inactive" if disabled else "")
        )
        return None

    def _update(self, entry: DirectoryEntry, user: DirectoryUser, aad: str) -> None:
        sent = _sent(user, full=self.full)
        old = {name: getattr(entry, name) for name in _COLUMNS}
        new = dict(old)
        new["tenant_id"] = entry.tenant_id or self.tenant_id
        new["aad_object_id"] = entry.aad_object_id or aad
        if user.removed:
            self._set_active(new, False)
        else:
            for name in ("display_name", "job_title", "department", "office_location"):
                if name in sent:
                    new[name] = _fit(name, getattr(user, name))
            if new["display_name"] is None:
                new["display_name"] = old["display_name"]  # the column needs one; keep what we had
            if "hire_date" in sent:
                new["hire_date"] = user.hire_date
            if "enabled" in sent:
                self._set_active(new, user.enabled)
            if "mail" in sent and (email := _fit("email", _email_of(user))) and email != old["email"]:
                self._change_email(entry, new, email)
        if new == old:
            return
        self.updates[entry.id] = new
        what = self.kind.setdefault(entry.id, set())
        if new["active"] != old["active"]:
            what.add("reactivated" if new["active"] else "deactivated")
            self.report.changes.append(
                SyncNote(entry.email, "reactivated" if new["active"] else "deactivated", _why_inactive(user))
            )
        fields = [n for n in _COLUMNS if n not in ("active", "deactivated_at") and new[n] != old[n]]
        if fields:
            what.add("updated")
            detail = ", ".join(f"{n}: {old[n]!r} → {new[n]!r}" for n in fields)
            self.report.changes.append(SyncNote(entry.email, "updated", detail))

    def _set_active(self, values: dict[str, Any], active: bool) -> None:
        if active and not values["active"]:
            values["active"], values["deactivated_at"] = True, None
        elif not active and values["active"]:
            values["active"], values["deactivated_at"] = False, self.now

    def _change_email(self, entry: DirectoryEntry, values: dict[str, Any], email: str) -> None:
        owner = self.email_owner.get(email)
        if owner is not None and owner != entry.id:
            why = f"{email} already belongs to {self.label.get(owner, 'another person')}"
            self.report.notes.append(SyncNote(entry.email, "kept email", why))
            return
        self.email_owner.pop(values["email"].lower(), None)
        self.email_owner[email] = entry.id
        values["email"] = email

    def deactivate_unlisted(self, listed: Iterable[str]) -> None:
        """A full listing is the whole tenant: its people the directory no longer names have left.

        Only people of exactly this tenant with an Entra id: a CSV-imported person without one (or
        without a tenant) was never the directory's to remove.
        """
        names = set(listed)
        for entry in self.directory.entries.values():
            if (
                entry.active
                and entry.tenant_id == self.tenant_id
                and entry.aad_object_id
                and entry.aad_object_id.lower() not in names
                and entry.id not in self.updates
            ):
                values = {name: getattr(entry, name) for name in _COLUMNS}
                self._set_active(values, False)
                self.updates[entry.id] = values
                self.kind.setdefault(entry.id, set()).add("deactivated")
                self.unlisted.add(entry.id)
                self.report.changes.append(SyncNote(entry.email, "deactivated", "no longer in the directory"))

    def _skip(self, who: str, why: str) -> None:
        self.report.skipped += 1
        self.report.notes.append(SyncNote(who, "skipped", why))

    # -- managers -----------------------------------------------------------------------------------

    def manager(self, user: DirectoryUser) -> None:
        aad = user.id.lower()
        person_id = self.id_of_aad.get(aad)
        if person_id is None or user.removed or "manager_id" not in _sent(user, full=self.full):
            return  # skipped, or deleted (their last manager stays in the history), or not sent
        who = self.label[person_id]
        current = self.manager_of.get(person_id)
        if user.manager_id is None:
            wanted = None
        else:
            wanted = self.id_of_aad.get(user.manager_id.lower())
            if wanted is None:
                why = f"manager {user.manager_id} is outside the synced scope"
                self.report.notes.append(SyncNote(who, "kept previous manager", why))
                return
        if wanted == current:
            return
        entry = self.directory.entries.get(person_id)
        if entry is not None and entry.manager_overridden:
            why = f"the directory names {self._name(wanted)}"
            self.report.notes.append(SyncNote(who, "kept admin override", why))
            return
        if wanted == person_id:
            self.report.notes.append(
                SyncNote(who, "kept previous manager", "the directory names them as their own manager")
            )
            return
        self.moves[person_id] = wanted

    def refuse_cycles(self) -> None:
        """Drop the manager changes that would close a reporting cycle, until none is left."""
        while True:
            graph = {pid: mid for pid, mid in self.manager_of.items() if mid is not None}
            for pid, mid in self.moves.items():
                if mid is None:
                    graph.pop(pid, None)
                else:
                    graph[pid] = mid
            refused = False
            for cycle in find_cycles(graph):
                path = " → ".join(self.label.get(n, "?") for n in [*cycle, cycle[0]])
                for node in cycle:
                    if node in self.moves:
                        del self.moves[node]
                        refused = True
                        why = f"the directory's reporting lines form a cycle: {path}"
                        self.report.notes.append(SyncNote(self.label[node], "kept previous manager", why))
            if not refused:
                return  # any cycle left was already stored (the import refuses them): not ours to fix

    def finish(self) -> None:
        report = self.report
        for person_id in self.moves:
            if person_id > 0:
                self.kind.setdefault(person_id, set()).add("updated")
            old, new = self.manager_of.get(person_id), self.moves[person_id]
            report.changes.append(
                SyncNote(self.label[person_id], "manager", f"{self._name(old)} → {self._name(new)}")
            )
        report.managers_changed = len(self.moves)
        for what in self.kind.values():
            report.updated += "updated" in what
            report.deactivated += "deactivated" in what
            report.reactivated += "reactivated" in what
        touched = len(self.inserts) + sum(1 for pid in self.kind if pid > 0 and pid not in self.unlisted)
        report.unchanged = max(report.seen - report.skipped - touched, 0)


def _why_inactive(user: DirectoryUser) -> str:
    if user.removed:
        return "deleted from the directory"
    return "account disabled" if not user.enabled else "account enabled again"


async def _write(session: AsyncSession, plan: _Planner, now: datetime, tick: Callable[[int], None]) -> None:
    stamp = {"directory_synced_at": now}
    tick(plan.report.unchanged)
    await update_people(session, [(pid, {**values, **stamp}) for pid, values in plan.updates.items()], tick)
    temp_ids = list(plan.inserts)
    real_ids = await insert_people(session, [{**plan.inserts[t], **stamp} for t in temp_ids], tick)
    real = dict(zip(temp_ids, real_ids, strict=True))
    moves = [
        {"b_id": real.get(pid, pid), "b_manager_id": real.get(mid, mid) if mid is not None else None}
        for pid, mid in plan.moves.items()
    ]
    table = Person.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(manager_id=bindparam("b_manager_id"), directory_synced_at=now, updated_at=utcnow())
    )
    for batch in batches(moves):
        await session.execute(statement, batch)


# --- admin overrides and sync state ------------------------------------------------------------------


async def set_manager_override(
    session: AsyncSession, *, actor: Actor, person_id: int, manager_id: int | None
) -> None:
    """HR sets someone's manager by hand; directory syncs keep it until `clear_manager_override`."""
    require(may_administer(actor), "changing managers")
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound("That person is not in the directory.")
    if manager_id is not None:
        manager = await session.get(Person, manager_id)
        if manager is None:
            raise NotFound("That manager is not in the directory.")
        if not manager.active:
            raise Invalid(f"{manager.display_name} no longer works here and cannot be a manager.")
        if manager_id == person_id or person_id in await manager_chain(session, manager_id):
            raise Invalid(
                f"{manager.display_name} reports to {person.display_name}: that would make a reporting cycle."
            )
    previous = person.manager_id
    person.manager_id = manager_id
    person.manager_overridden = True
    await audit(
        session,
        actor,
        action="manager_override",
        subject_type="person",
        subject_id=person_id,
        previous_manager_id=previous,
        manager_id=manager_id,
    )
    await session.flush()


async def clear_manager_override(session: AsyncSession, *, actor: Actor, person_id: int) -> None:
    """Hand someone's manager back to the directory (the next full sync sets it)."""
    require(may_administer(actor), "changing managers")
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound("That person is not in the directory.")
    person.manager_overridden = False
    await audit(
        session, actor, action="manager_override_cleared", subject_type="person", subject_id=person_id
    )
    await session.flush()


async def load_sync_state(session: AsyncSession, tenant_id: str) -> SyncState:
    """The tenant's sync state; a tenant never synced has no delta link (the next sync is full)."""
    row = await session.get(DirectorySyncState, tenant_id)
    if row is None:
        return SyncState(tenant_id=tenant_id)
    return SyncState(
        tenant_id=row.tenant_id,
        delta_link=row.delta_link,
        last_full_sync_at=row.last_full_sync_at,
        last_sync_at=row.last_sync_at,
        last_report=row.last_report,
    )


async def save_sync_state(
    session: AsyncSession,
    *,
    tenant_id: str,
    delta_link: str | None,
    now: datetime,
    report: SyncReport,
) -> None:
    """Remember the delta link for the next run, in the same transaction as the sync it belongs to."""
    if report.dry_run:
        return  # a dry run applied nothing: its delta link would skip changes never written
    row = await session.get(DirectorySyncState, tenant_id)
    if row is None:
        row = DirectorySyncState(tenant_id=tenant_id)
        session.add(row)
    row.delta_link = delta_link
    row.last_sync_at = now
    if report.full:
        row.last_full_sync_at = now
    row.last_report = report.as_dict()
    await session.flush()
