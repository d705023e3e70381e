"""Keeping people in step with the organization's directory (Microsoft Entra ID, through Graph)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


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
