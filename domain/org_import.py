"""Import the organization from a CSV file: parse, validate every row, then upsert people and managers.

The file is the source of truth for the people it lists; people it does not list are left alone. A file
with any bad row writes nothing, and every bad row is reported with its spreadsheet line number, so one
round of fixes is enough.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Invalid
from domain.org_people import (
    DEFAULT_TIME_ZONE,
    Directory,
    DirectoryEntry,
    find_cycles,
    insert_people,
    load_directory,
    update_people,
)
from storage.bulk import Progress, batches, progress_advancer
from storage.models import Person, utcnow

COLUMNS = (
    "email",
    "display_name",
    "manager_email",
    "job_title",
    "department",
    "aad_object_id",
    "time_zone",
    "hire_date",
)
REQUIRED_COLUMNS = ("email", "display_name")

# Deliberately loose: the mail system is the judge of deliverability; this only catches typos and
# shifted columns (a name in the email column).
_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_BOM = "\ufeff"


# --- values ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One data row of the file, cells stripped of surrounding spaces ('' when empty)."""

    line: int
    email: str
    display_name: str
    manager_email: str = ""
    job_title: str = ""
    department: str = ""
    aad_object_id: str = ""
    time_zone: str = ""
    hire_date: str = ""

    @property
    def key(self) -> str:
        """The email as compared and stored: emails are case-insensitive."""
        return self.email.lower()

    @property
    def manager_key(self) -> str:
        return self.manager_email.lower()

    @property
    def aad_key(self) -> str:
        return self.aad_object_id.lower()


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Why a row cannot be imported; `line` is the spreadsheet row (the header is line 1)."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class ImportRejected(Invalid):
    """The file has problems; nothing was written. `problems` lists every bad row."""

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: p.line)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"The file has {count} {noun}; nothing was imported. Fix them and import again.")


@dataclass(frozen=True, slots=True)
class ImportResult:
    """How many listed people were created, changed, or already up to date."""

    created: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


# --- parsing -----------------------------------------------------------------------------------------


def parse_people_csv(text_or_file: str | bytes | os.PathLike[str] | IO[str] | IO[bytes]) -> list[ImportRow]:
    """Read the CSV (text, bytes, a path, or an open file; UTF-8 with or without BOM) into rows."""
    text = _read_text(text_or_file)
    records = csv.reader(io.StringIO(text, newline=""))
    header = next(records, None)
    if header is None or not any(cell.strip() for cell in header):
        raise ImportRejected(
            [RowProblem(1, "the file is empty (expected a header row: email,display_name,...)")]
        )
    positions = _column_positions(header)
    rows: list[ImportRow] = []
    # Spreadsheet rows count records, not physical lines: a quoted cell may span lines.
    for line, record in enumerate(records, start=2):
        if not any(cell.strip() for cell in record):
            continue  # blank rows at the end of an exported sheet are noise, not people
        cells = {name: _cell(record, index) for name, index in positions.items()}
        rows.append(ImportRow(line=line, **cells))
    return rows


def _read_text(source: str | bytes | os.PathLike[str] | IO[str] | IO[bytes]) -> str:
    if isinstance(source, os.PathLike):
        with open(source, "rb") as handle:
            return _decode(handle.read())
    if isinstance(source, bytes | bytearray):
        return _decode(bytes(source))
    if isinstance(source, str):
        return source.removeprefix(_BOM)
    data = source.read()
    return _decode(data) if isinstance(data, bytes) else data.removeprefix(_BOM)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Excel's plain "CSV" export is a legacy code page; "CSV UTF-8" is the one that keeps names intact.
        problem = RowProblem(1, "the file is not UTF-8 text (in Excel, save it as 'CSV UTF-8')")
        raise ImportRejected([problem]) from exc


def _column_positions(header: list[str]) -> dict[str, int]:
    names = [_column_name(cell) for cell in header]
    positions: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in COLUMNS and name not in positions:
            positions[name] = index
    missing = [name for name in REQUIRED_COLUMNS if name not in positions]
    if missing:
        found = ", ".join(n for n in names if n) or "nothing"
        reason = f"missing column {', '.join(missing)} in the header row (found: {found})"
        raise ImportRejected([RowProblem(1, reason)])
    return positions


def _column_name(cell: str) -> str:
    # "Display Name" and "display-name" are what people type in a spreadsheet header.
    return re.sub(r"[\s\-]+", "_", cell.strip().lower())


def _cell(record: list[str], index: int) -> str:
    return record[index].strip() if index < len(record) else ""


# --- validation --------------------------------------------------------------------------------------


def validate(
    rows: Sequence[ImportRow],
    existing: Directory | Iterable[DirectoryEntry] = (),
    *,
    tenant_id: str | None = None,
) -> list[RowProblem]:
    """Every problem in every row, checked against the file and the people already stored."""
    directory = existing if isinstance(existing, Directory) else Directory.of(existing)
    return _check(rows, directory, tenant_id).problems


@dataclass
class _Plan:
    """What the file means against the directory: each row's existing person and manager."""

    problems: list[RowProblem]
    # Per row: the existing person it updates, or None for a new person.
    targets: list[DirectoryEntry | None]
    # Email (lowercase) → index of its first row: managers named in the file resolve here first.
    first_row: dict[str, int]


def _check(rows: Sequence[ImportRow], directory: Directory, tenant_id: str | None) -> _Plan:
    problems: list[RowProblem] = []
    first_row = _first_rows(rows)
    for row in rows:
        problems.extend(_field_problems(row))
    problems.extend(_duplicates(rows, lambda r: r.key if _EMAIL.match(r.email) else "", "email"))
    problems.extend(
        _duplicates(rows, lambda r: r.aad_key if _GUID.match(r.aad_key) else "", "Entra object id")
    )
    targets, match_problems = _match(rows, directory, tenant_id)
    problems.extend(match_problems)
    problems.extend(_unknown_managers(rows, first_row, directory))
    problems.extend(_cycles(rows, targets, first_row, directory))
    return _Plan(problems=_one_per_reason(problems), targets=targets, first_row=first_row)


def _first_rows(rows: Sequence[ImportRow]) -> dict[str, int]:
    first: dict[str, int] = {}
    for index, row in enumerate(rows):
        if row.email:
            first.setdefault(row.key, index)
    return first


def _field_problems(row: ImportRow) -> Iterator[RowProblem]:
    if not row.email:
        yield RowProblem(row.line, "missing email")
    elif not _EMAIL.match(row.email):
        yield RowProblem(row.line, f"invalid email '{row.email}'")
    if not row.display_name:
        yield RowProblem(row.line, "missing display name")
    if row.manager_email and not _EMAIL.match(row.manager_email):
        yield RowProblem(row.line, f"invalid manager email '{row.manager_email}'")
    if row.aad_object_id and not _GUID.match(row.aad_key):
        example = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
        yield RowProblem(
            row.line, f"bad Entra object id '{row.aad_object_id}' (expected a GUID like {example})"
        )
    if row.time_zone and not _known_time_zone(row.time_zone):
        yield RowProblem(row.line, f"bad time zone '{row.time_zone}' (use an IANA name like Europe/London)")
    if row.hire_date and _parse_date(row.hire_date) is None:
        yield RowProblem(row.line, f"bad hire date '{row.hire_date}' (use YYYY-MM-DD)")


@lru_cache(maxsize=1024)
def _known_time_zone(name: str) -> bool:
    # Cached: a large file repeats a handful of zones, and a failed ZoneInfo lookup is not cached by zoneinfo.
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _parse_date(text: str) -> date | None:
    # fromisoformat alone would also take 20240101 and week dates; the file promises YYYY-MM-DD.
    if not _ISO_DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _duplicates(
    rows: Sequence[ImportRow], key_of: Callable[[ImportRow], str], what: str
) -> Iterator[RowProblem]:
    lines_by_key: dict[str, list[int]] = {}
    for row in rows:
        key = key_of(row)
        if key:
            lines_by_key.setdefault(key, []).append(row.line)
    shown = {row.line: row for row in rows}
    for lines in lines_by_key.values():
        if len(lines) < 2:
            continue
        # Every copy is reported: which one is right is the person's call, not ours.
        for line in lines:
            others = ", ".join(str(n) for n in lines if n != line)
            value = shown[line].email if what == "email" else shown[line].aad_object_id
            yield RowProblem(line, f"duplicate {what} {value} (also on line {others})")


def _match(
    rows: Sequence[ImportRow], directory: Directory, tenant_id: str | None
) -> tuple[list[DirectoryEntry | None], list[RowProblem]]:
    """Find the existing person each row updates: by Entra object id first, else by email."""
    by_aad = directory.by_aad(tenant_id)
    targets: list[DirectoryEntry | None] = []
    problems: list[RowProblem] = []
    claimed: dict[int, ImportRow] = {}  # person id → the row that updates them
    for row in rows:
        target, problem = _match_row(row, directory, by_aad)
        if problem:
            problems.append(problem)
        if target is not None:
            first = claimed.setdefault(target.id, row)
            # Same email or same Entra id is already reported as a duplicate; this catches the mixed case.
            if first is not row and first.key != row.key and first.aad_key != row.aad_key:
                reason = (
                    f"{row.email} is the same person in the directory as line {first.line} ({first.email})"
                )
                problems.append(RowProblem(row.line, reason))
        targets.append(target)
    return targets, problems


def _match_row(
    row: ImportRow, directory: Directory, by_aad: Mapping[str, DirectoryEntry]
) -> tuple[DirectoryEntry | None, RowProblem | None]:
    by_id = by_aad.get(row.aad_key) if row.aad_key else None
    by_mail = directory.by_email.get(row.key) if row.email else None
    if by_id is not None:
        if by_mail is not None and by_mail.id != by_id.id:
            # Changing the email would collide with someone else's: the unique constraint would refuse.
            reason = (
                f"email {row.email} already belongs to another person in the directory, "
                f"not to the one with Entra object id {row.aad_object_id}"
            )
            return by_id, RowProblem(row.line, reason)
        return by_id, None
    if (
        by_mail is not None
        and row.aad_key
        and by_mail.aad_object_id
        and by_mail.aad_object_id.lower() != row.aad_key
    ):
        # Entra ids never change for a person: a different one means a different account or a typo.
        reason = (
            f"{row.email} is in the directory with Entra object id {by_mail.aad_object_id}, "
            f"not {row.aad_object_id}"
        )
        return by_mail, RowProblem(row.line, reason)
    return by_mail, None


def _unknown_managers(
    rows: Sequence[ImportRow], first_row: Mapping[str, int], directory: Directory
) -> Iterator[RowProblem]:
    for row in rows:
        key = row.manager_key
        if key and _EMAIL.match(key) and key not in first_row and key not in directory.by_email:
            yield RowProblem(
                row.line, f"unknown manager {row.manager_email} (not in this file or the directory)"
            )


# A node of the combined reporting graph: ("p", person id) for a stored person, ("r", row index) for a
# row that creates someone new.
_Node = tuple[str, int]


def _cycles(
    rows: Sequence[ImportRow],
    targets: Sequence[DirectoryEntry | None],
    first_row: Mapping[str, int],
    directory: Directory,
) -> list[RowProblem]:
    """Rows on a reporting cycle in the file plus the stored people whose manager the file keeps."""
    node_of_row = [("p", t.id) if t is not None else ("r", i) for i, t in enumerate(targets)]
    manager_of: dict[_Node, _Node] = {}
    label: dict[_Node, str] = {}
    line_of: dict[_Node, int] = {}
    for entry in directory.entries.values():
        label[("p", entry.id)] = entry.email
        if entry.manager_id is not None:
            manager_of[("p", entry.id)] = ("p", entry.manager_id)
    for index, row in enumerate(rows):
        node = node_of_row[index]
        if first_row.get(row.key) != index and node in line_of:
            continue  # a duplicate row is already reported; its first copy speaks for the person
        label[node] = row.email or f"line {row.line}"
        line_of[node] = row.line
        manager_of.pop(node, None)  # the file replaces this person's manager
        manager = _manager_node(row, first_row, node_of_row, directory)
        if manager is not None:
            manager_of[node] = manager
    return [
        RowProblem(line_of[node], _cycle_reason(cycle, node, label))
        for cycle in find_cycles(manager_of)
        for node in cycle
        if node in line_of
    ]


def _manager_node(
    row: ImportRow, first_row: Mapping[str, int], node_of_row: Sequence[_Node], directory: Directory
) -> _Node | None:
    if not row.manager_key:
        return None
    if row.manager_key in first_row:
        return node_of_row[first_row[row.manager_key]]
    entry = directory.by_email.get(row.manager_key)
    return ("p", entry.id) if entry is not None else None


def _cycle_reason(cycle: list[_Node], start: _Node, label: Mapping[_Node, str]) -> str:
    if len(cycle) == 1:
        return f"{label[start]} is listed as their own manager"
    at = cycle.index(start)
    ordered = cycle[at:] + cycle[:at] + [start]
    return "reporting cycle: " + " → ".join(label.get(node, "?") for node in ordered)


def _one_per_reason(problems: list[RowProblem]) -> list[RowProblem]:
    seen: set[tuple[int, str]] = set()
    unique = []
    for problem in sorted(problems, key=lambda p: p.line):
        if (problem.line, problem.reason) not in seen:
            seen.add((problem.line, problem.reason))
            unique.append(problem)
    return unique


# --- applying ----------------------------------------------------------------------------------------


async def import_people(
    session: AsyncSession,
    rows: Sequence[ImportRow],
    *,
    tenant_id: str | None,
    progress: Progress | None = None,
) -> ImportResult:
    """Validate, then create or update every listed person and their manager; raises ImportRejected."""
    directory = await load_directory(session)
    plan = _check(rows, directory, tenant_id)
    if plan.problems:
        raise ImportRejected(plan.problems)
    tick = progress_advancer(progress, len(rows))
    values = [_values(row, target, tenant_id) for row, target in zip(rows, plan.targets, strict=True)]
    changed = [
        i for i, target in enumerate(plan.targets) if target is not None and _differs(values[i], target)
    ]
    new = [i for i, target in enumerate(plan.targets) if target is None]
    ids = [target.id if target is not None else 0 for target in plan.targets]
    tick(len(rows) - len(changed) - len(new))
    await update_people(session, [(ids[i], values[i]) for i in changed], tick)
    for index, person_id in zip(
        new, await insert_people(session, [values[i] for i in new], tick), strict=True
    ):
        ids[index] = person_id
    moved = await _set_managers(session, rows, plan, ids, directory)
    updated = len(set(changed) | (moved - set(new)))
    return ImportResult(created=len(new), updated=updated, unchanged=len(rows) - len(new) - updated)


def _values(row: ImportRow, target: DirectoryEntry | None, tenant_id: str | None) -> dict[str, Any]:
    """The stored fields a row asks for (manager aside: it is set once everyone has an id)."""
    values: dict[str, Any] = {
        "email": row.key,
        "display_name": row.display_name,
        "job_title": row.job_title or None,
        "department": row.department or None,
        "time_zone": row.time_zone or DEFAULT_TIME_ZONE,
        "hire_date": _parse_date(row.hire_date) if row.hire_date else None,
        # Someone listed in the org file works here, even if they were deactivated earlier.
        "active": True,
        # An empty cell never erases an identity: the bot finds people by their Entra id.
        "aad_object_id": row.aad_key or (target.aad_object_id if target else None),
        "tenant_id": tenant_id if tenant_id is not None else (target.tenant_id if target else None),
    }
    return values


def _differs(values: Mapping[str, Any], entry: DirectoryEntry) -> bool:
    return any(getattr(entry, name) != value for name, value in values.items())


async def _set_managers(
    session: AsyncSession, rows: Sequence[ImportRow], plan: _Plan, ids: Sequence[int], directory: Directory
) -> set[int]:
    """Point everyone at their manager now that every row has an id; returns the rows that moved."""
    moves: list[dict[str, Any]] = []
    moved: set[int] = set()
    for index, row in enumerate(rows):
        manager_id = _manager_id(row, plan, ids, directory)
        target = plan.targets[index]
        current = target.manager_id if target is not None else None
        if manager_id != current:
            moves.append({"b_id": ids[index], "b_manager_id": manager_id})
            moved.add(index)
    table = Person.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(manager_id=bindparam("b_manager_id"), updated_at=utcnow())
    )
    for batch in batches(moves):
        await session.execute(statement, batch)
    return moved


def _manager_id(row: ImportRow, plan: _Plan, ids: Sequence[int], directory: Directory) -> int | None:
    if not row.manager_key:
        return None
    if row.manager_key in plan.first_row:
        return ids[plan.first_row[row.manager_key]]
    return directory.by_email[row.manager_key].id
