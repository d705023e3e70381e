"""Store-rule checks and the app package (the zip an admin uploads to Teams)."""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from manifest.build import COLOR_ICON, OUTLINE_ICON, build_manifest
from manifest.icons import color_icon, outline_icon
from manifest.settings import SEMVER, ManifestSettings

MAX_SHORT_NAME = 30
MAX_FULL_NAME = 100
MAX_SHORT_DESCRIPTION = 80
MAX_FULL_DESCRIPTION = 4000
MAX_STATIC_TABS = 16
MAX_COMMANDS = 10
MAX_COMMAND_TITLE = 32
MAX_COMMAND_DESCRIPTION = 128
MAX_VALID_DOMAINS = 16
RESERVED_WORDS = ("teams", "microsoft")

# Zip entries get a fixed timestamp so the same settings always produce byte-identical packages.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def validate_manifest(manifest: Mapping[str, Any]) -> list[str]:
    """Return the Teams Store rule violations in a manifest (an empty list means none were found)."""
    return [
        *_check_names(manifest.get("name") or {}),
        *_check_descriptions(manifest.get("description") or {}),
        *_check_version(manifest.get("version")),
        *_check_static_tabs(manifest.get("staticTabs") or []),
        *_check_commands(manifest.get("bots") or []),
        *_check_message_extensions(manifest.get("composeExtensions") or []),
        *_check_valid_domains(manifest.get("validDomains") or []),
    ]


def package_files(settings: ManifestSettings) -> dict[str, bytes]:
    """Return the package's files by name, after checking the manifest against the Store rules."""
    manifest = build_manifest(settings)
    problems = validate_manifest(manifest)
    if problems:
        raise ValueError("The Teams app manifest breaks Store rules: " + " ".join(problems))
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    return {"manifest.json": text.encode("utf-8"), COLOR_ICON: color_icon(), OUTLINE_ICON: outline_icon()}


def write_package(settings: ManifestSettings, out_path: str | os.PathLike[str]) -> Path:
    """Write the app package zip (manifest.json, color.png, outline.png at the root) and return its path."""
    files = package_files(settings)
    target = Path(out_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename, so a failed run never leaves a truncated zip to upload.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w") as archive:
            for name, data in files.items():
                info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target


def _check_names(name: Mapping[str, Any]) -> list[str]:
    problems = []
    short, full = name.get("short") or "", name.get("full") or ""
    if not short.strip():
        problems.append("name.short is empty.")
    problems += _too_long("name.short", short, MAX_SHORT_NAME)
    problems += _too_long("name.full", full, MAX_FULL_NAME)
    for field, value in (("name.short", short), ("name.full", full)):
        for word in RESERVED_WORDS:
            if word in value.lower():
                problems.append(
                    f"{field} {value!r} contains {word.title()!r}, which the Store does not allow."
                )
    return problems


def _check_descriptions(description: Mapping[str, Any]) -> list[str]:
    problems = []
    for field, limit in (("short", MAX_SHORT_DESCRIPTION), ("full", MAX_FULL_DESCRIPTION)):
        value = description.get(field) or ""
        if not value.strip():
            problems.append(f"description.{field} is empty.")
        problems += _too_long(f"description.{field}", value, limit)
    return problems


def _check_version(version: Any) -> list[str]:
    if isinstance(version, str) and SEMVER.fullmatch(version):
        return []
    return [f"version {version!r} is not MAJOR.MINOR.PATCH (for example 1.0.0)."]


def _check_static_tabs(tabs: list[Mapping[str, Any]]) -> list[str]:
    problems = []
    if len(tabs) > MAX_STATIC_TABS:
        problems.append(f"staticTabs has {len(tabs)} tabs; the limit is {MAX_STATIC_TABS}.")
    ids = [tab.get("entityId") for tab in tabs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1}, key=str)
    if duplicates:
        problems.append(f"staticTabs repeats entityId {', '.join(map(str, duplicates))}.")
    return problems


def _check_commands(bots: list[Mapping[str, Any]]) -> list[str]:
    problems = []
    for bot in bots:
        command_lists = bot.get("commandLists") or []
        if not any(command_list.get("commands") for command_list in command_lists):
            problems.append("the bot has no commands; the Store expects at least one with a description.")
        for command_list in command_lists:
            problems += _check_command_list(command_list)
    return problems


def _check_command_list(command_list: Mapping[str, Any]) -> list[str]:
    scopes = "/".join(command_list.get("scopes") or [])
    commands = command_list.get("commands") or []
    problems = []
    if len(commands) > MAX_COMMANDS:
        problems.append(
            f"the {scopes} command list has {len(commands)} commands; the limit is {MAX_COMMANDS}."
        )
    for command in commands:
        title, description = command.get("title") or "", command.get("description") or ""
        label = f"command {title!r} ({scopes})"
        problems += _too_long(f"{label} title", title, MAX_COMMAND_TITLE)
        problems += _too_long(f"{label} description", description, MAX_COMMAND_DESCRIPTION)
        if not title.strip() or not description.strip():
            problems.append(f"{label} needs both a title and a description.")
        if title.startswith("/"):
            problems.append(f"{label} title starts with '/'; Teams commands have no slash prefix.")
    return problems


def _check_message_extensions(extensions: list[Mapping[str, Any]]) -> list[str]:
    problems = []
    for extension in extensions:
        commands = extension.get("commands") or []
        if len(commands) > MAX_COMMANDS:
            problems.append(
                f"the message extension has {len(commands)} commands; the limit is {MAX_COMMANDS}."
            )
        ids = [command.get("id") for command in commands]
        repeated = sorted({i for i in ids if ids.count(i) > 1}, key=str)
        problems += [f"message extension command id {i!r} is repeated." for i in repeated]
        for command in commands:
            problems += _check_message_extension_command(command)
    return problems


def _check_message_extension_command(command: Mapping[str, Any]) -> list[str]:
    # The schema caps the lengths but lets a command go without a description, which the Store does not.
    title, description = command.get("title") or "", command.get("description") or ""
    label = f"message extension command {command.get('id')!r}"
    problems = _too_long(f"{label} title", title, MAX_COMMAND_TITLE)
    problems += _too_long(f"{label} description", description, MAX_COMMAND_DESCRIPTION)
    if not title.strip() or not description.strip():
        problems.append(f"{label} needs both a title and a description.")
    return problems


def _check_valid_domains(domains: list[Any]) -> list[str]:
    problems = []
    if len(domains) > MAX_VALID_DOMAINS:
        problems.append(f"validDomains has {len(domains)} entries; the limit is {MAX_VALID_DOMAINS}.")
    for domain in domains:
        text = str(domain)
        if "://" in text or "/" in text:
            problems.append(f"validDomains entry {text!r} must be a bare domain without scheme or path.")
        elif _wildcard_only(text):
            problems.append(
                f"validDomains entry {text!r} is a wildcard that matches whole top-level domains."
            )
    return problems


def _wildcard_only(domain: str) -> bool:
    # "*", "*.*" and "*.com" name no organisation; "*.example.com" is allowed.
    if "*" not in domain:
        return False
    literal = [label for label in domain.split(":")[0].split(".") if label and "*" not in label]
    return len(literal) < 2


def _too_long(field: str, value: str, limit: int) -> list[str]:
    if len(value) <= limit:
        return []
    return [f"{field} is {len(value)} characters; the limit is {limit}."]
