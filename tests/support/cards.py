"""Card checks for tests: Teams Store rules in Python, plus the real `adaptivecards` JS renderer.

The renderer runs in one long-lived node process (tests/support/card_validator.cjs) spoken to in JSON
lines, so hundreds of cards validate in well under a second each. Use the session fixture:

    from tests.support.cards import card_validator, validate_card  # noqa: F401

    async def test_x(card_validator):
        report = await validate_card(my_card())
        assert "Save" in report["texts"]
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest_asyncio

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO_ROOT / "node_modules"
SCRIPT = Path(__file__).with_name("card_validator.cjs")

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
MAX_VERSION = (1, 5)  # the newest schema Teams renders
MAX_ACTIONS = 6
MAX_BYTES = 80_000
MAX_REFRESH_USER_IDS = 60
STARTUP_TIMEOUT = 30.0
REPLY_TIMEOUT = 30.0
# Replies echo the card's text; the default 64 KiB stream limit is too small for an 80 KB card.
LINE_LIMIT = 16 * 1024 * 1024

# Keys under which an action is not a button: select actions, fallbacks, the refresh action.
_NON_BUTTON_ACTION_KEYS = frozenset({"selectAction", "fallback", "action"})


class CardValidatorError(RuntimeError):
    """The node validator could not be started or stopped answering."""


# --- Python-side Store rules ---------------------------------------------------------------------------


def store_rule_problems(card: dict[str, Any]) -> list[str]:
    """Every Teams Store / Adaptive Card rule the card breaks, as readable lines (empty when fine)."""
    problems: list[str] = []
    try:
        serialized = json.dumps(card, allow_nan=False)
    except (TypeError, ValueError) as exc:
        return [f"card is not plain JSON: {exc}"]
    if len(serialized) * 2 >= MAX_BYTES:
        problems.append(f"card is {len(serialized) * 2} bytes (UTF-16), limit {MAX_BYTES}")
    if card.get("type") != "AdaptiveCard":
        problems.append(f"top-level type is {card.get('type')!r}, expected 'AdaptiveCard'")
    if card.get("$schema") != SCHEMA:
        problems.append(f"$schema is {card.get('$schema')!r}, expected {SCHEMA!r}")
    problems += _version_problems(card.get("version"))
    problems += _refresh_problems(card.get("refresh"))

    buttons = 0
    input_ids: list[str] = []
    for where, key, node in _walk(card, "card", None):
        kind = node.get("type")
        if not isinstance(kind, str):
            continue
        if kind.startswith("Action."):
            buttons += key not in _NON_BUTTON_ACTION_KEYS
            problems += _action_problems(where, kind, node, is_button=key not in _NON_BUTTON_ACTION_KEYS)
        elif kind.startswith("Input."):
            input_ids.append(node.get("id"))
            problems += _input_problems(where, kind, node)
        elif kind == "TextBlock" and node.get("wrap") is not True:
            problems.append(f"{where}: TextBlock without wrap: true ({str(node.get('text'))[:40]!r})")
        elif kind == "Image" and not _non_empty(node.get("altText")):
            problems.append(f"{where}: Image without altText")
        elif kind == "AdaptiveCard" and where != "card" and "version" in node:
            problems += _version_problems(node.get("version"), where)
    if buttons > MAX_ACTIONS:
        problems.append(f"card has {buttons} actions, at most {MAX_ACTIONS} (ActionSets and ShowCards count)")
    duplicates = sorted({i for i in input_ids if isinstance(i, str) and input_ids.count(i) > 1})
    if duplicates:
        problems.append(f"duplicate input ids: {duplicates}")
    return problems


def _walk(node: Any, where: str, key: str | None) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
    # Yields every typed object with its path and the key it sits under (lists pass their key down).
    if isinstance(node, dict):
        if "type" in node:
            yield where, key, node
        for child_key, child in node.items():
            if child_key == "data":  # action data is the bot's, free-form; a "type" key there is no element
                continue
            yield from _walk(child, f"{where}.{child_key}", child_key)
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from _walk(child, f"{where}[{i}]", key)


def _version_problems(version: Any, where: str = "card") -> list[str]:
    try:
        parsed = tuple(int(part) for part in str(version).split("."))
    except ValueError:
        return [f"{where}: version {version!r} is not MAJOR.MINOR"]
    if version is None or len(parsed) != 2:
        return [f"{where}: version {version!r} is not MAJOR.MINOR"]
    if parsed > MAX_VERSION:
        return [f"{where}: version {version} is newer than Teams renders (1.5)"]
    return []


def _refresh_problems(refresh: Any) -> list[str]:
    if refresh is None:
        return []
    if not isinstance(refresh, dict) or not isinstance(refresh.get("action"), dict):
        return ["refresh needs an action"]
    problems = []
    if refresh["action"].get("type") != "Action.Execute":
        problems.append("refresh.action must be an Action.Execute")
    if len(refresh.get("userIds") or []) > MAX_REFRESH_USER_IDS:
        problems.append(f"refresh.userIds lists more than {MAX_REFRESH_USER_IDS} people")
    return problems


def _action_problems(where: str, kind: str, node: dict[str, Any], *, is_button: bool) -> list[str]:
    problems = []
    if is_button and not _non_empty(node.get("title")):
        problems.append(f"{where}: {kind} without a title")
    if kind == "Action.Execute" and not _non_empty(node.get("verb")):
        problems.append(f"{where}: Action.Execute without a verb")
    if kind == "Action.OpenUrl" and not str(node.get("url", "")).startswith(("https://", "mailto:")):
        problems.append(f"{where}: Action.OpenUrl url must be https:// or mailto: ({node.get('url')!r})")
    if kind in ("Action.Execute", "Action.Submit") and not isinstance(node.get("data", {}), dict):
        problems.append(f"{where}: {kind} data must be an object")
    return problems


def _input_problems(where: str, kind: str, node: dict[str, Any]) -> list[str]:
    problems = []
    if not _non_empty(node.get("id")):
        problems.append(f"{where}: {kind} without an id")
    if not _non_empty(node.get("label")):
        problems.append(f"{where}: {kind} {node.get('id')!r} without a label")
    if node.get("isRequired") and not _non_empty(node.get("errorMessage")):
        problems.append(f"{where}: required {kind} {node.get('id')!r} without an errorMessage")
    if kind == "Input.ChoiceSet":
        choices = node.get("choices")
        if not choices or not all(_non_empty(c.get("title")) and "value" in c for c in choices):
            problems.append(f"{where}: Input.ChoiceSet {node.get('id')!r} needs choices with title and value")
    return problems


def _non_empty(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def renderer_problems(report: dict[str, Any]) -> list[str]:
    """The renderer's complaints about a card, from a validator report."""
    problems = [f"renderer {e['phase']}: {e['event']}: {e['message']}" for e in report.get("parseEvents", [])]
    problems += [
        f"renderer {e['phase']}: {e['event']}: {e['message']}" for e in report.get("validationEvents", [])
    ]
    if report.get("error"):
        problems.append(f"renderer crashed: {report['error']}")
    elif not report.get("rendered"):
        problems.append("renderer did not return an HTMLElement")
    return problems


# --- the node renderer -------------------------------------------------------------------------------


def _node_command() -> list[str]:
    node = shutil.which("node")
    if node is None:
        raise CardValidatorError("node is not on PATH; the Adaptive Cards renderer needs it")
    if not (NODE_MODULES / "adaptivecards").is_dir() or not (NODE_MODULES / "jsdom").is_dir():
        raise CardValidatorError(f"adaptivecards and jsdom must be installed in {NODE_MODULES} (npm install)")
    return [node, str(SCRIPT), str(NODE_MODULES)]


def _decode(line: bytes, stderr_tail: str) -> dict[str, Any]:
    if not line:
        raise CardValidatorError(f"card validator exited; its stderr ends with:\n{stderr_tail}")
    return json.loads(line)


class CardValidator:
    """A node process running the real adaptivecards renderer under jsdom (asyncio client)."""

    def __init__(self) -> None:
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()
        self._ids = itertools.count(1)
        self._stderr: list[str] = []
        self._stderr_task: asyncio.Task[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.adaptivecards_version: str | None = None

    async def start(self) -> None:
        """Start node and wait until the renderer is loaded."""
        self._proc = await asyncio.create_subprocess_exec(
            *_node_command(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=LINE_LIMIT,
        )
        self.loop = asyncio.get_running_loop()
        self._stderr_task = asyncio.create_task(self._drain_stderr())
        assert self._proc.stdout is not None
        try:
            ready = _decode(
                await asyncio.wait_for(self._proc.stdout.readline(), STARTUP_TIMEOUT), self.stderr_tail()
            )
        except TimeoutError as exc:
            await self.close()
            raise CardValidatorError("card validator did not start in time") from exc
        if not ready.get("ready"):
            raise CardValidatorError(f"unexpected first line from card validator: {ready}")
        self.adaptivecards_version = ready.get("adaptivecards")

    async def validate(self, card: dict[str, Any]) -> dict[str, Any]:
        """Parse, validate and render one card; returns the renderer's report."""
        if self._proc is None or self._proc.returncode is not None:
            raise CardValidatorError("card validator is not running")
        assert self._proc.stdin is not None and self._proc.stdout is not None
        async with self._lock:  # one request in flight: replies are matched by order and id
            request_id = next(self._ids)
            self._proc.stdin.write(json.dumps({"id": request_id, "card": card}).encode() + b"\n")
            await self._proc.stdin.drain()
            line = await asyncio.wait_for(self._proc.stdout.readline(), REPLY_TIMEOUT)
        report = _decode(line, self.stderr_tail())
        if report.get("id") != request_id:
            raise CardValidatorError(f"card validator answered {report.get('id')}, expected {request_id}")
        return report

    async def close(self) -> None:
        """Stop node (closing stdin ends it; kill it if it lingers)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None and not proc.stdin.is_closing():
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        if self._stderr_task is not None:
            await self._stderr_task

    def stderr_tail(self, lines: int = 20) -> str:
        """The last lines node wrote to stderr (for error messages)."""
        return "".join(self._stderr[-lines:])

    async def _drain_stderr(self) -> None:
        # Reading stderr continuously keeps node from blocking on a full pipe.
        assert self._proc is not None and self._proc.stderr is not None
        async for line in self._proc.stderr:
            self._stderr.append(line.decode(errors="replace"))
            del self._stderr[:-200]


class SyncCardValidator:
    """The same renderer for synchronous code (scripts, benches, non-async tests)."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            _node_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self._ids = itertools.count(1)
        self.adaptivecards_version = self._read().get("adaptivecards")

    def validate(self, card: dict[str, Any]) -> dict[str, Any]:
        """Parse, validate and render one card; returns the renderer's report."""
        assert self._proc.stdin is not None
        request_id = next(self._ids)
        self._proc.stdin.write(json.dumps({"id": request_id, "card": card}).encode() + b"\n")
        self._proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        """Stop node."""
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def _read(self) -> dict[str, Any]:
        assert self._proc.stdout is not None
        return _decode(self._proc.stdout.readline(), "(stderr not captured)")


# --- the shared validator, the fixture and the one-call check ------------------------------------------

_shared: CardValidator | None = None


async def shared_validator() -> CardValidator:
    """The session's validator, started on first use (restarted if the event loop changed)."""
    global _shared
    if _shared is not None and _shared.loop is not asyncio.get_running_loop():
        # Its pipes belong to another (closed) loop; node exits once those pipes close.
        _shared = None
    if _shared is None:
        validator = CardValidator()
        await validator.start()
        _shared = validator
    return _shared


async def close_shared_validator() -> None:
    """Stop the shared validator if it is running."""
    global _shared
    validator, _shared = _shared, None
    if validator is not None:
        await validator.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def card_validator() -> AsyncIterator[CardValidator]:
    """One renderer process for the whole test session."""
    validator = await shared_validator()
    yield validator
    with contextlib.suppress(CardValidatorError):
        await close_shared_validator()


async def validate_card(card: dict[str, Any], validator: CardValidator | None = None) -> dict[str, Any]:
    """Check a card against the Store rules and the real renderer; AssertionError lists every problem.

    Returns the renderer's report (texts, inputIds, actionCount, images) for further assertions.
    """
    report = await (validator or await shared_validator()).validate(card)
    problems = store_rule_problems(card) + renderer_problems(report)
    if problems:
        raise AssertionError("card breaks the rules:\n  " + "\n  ".join(problems))
    return report


def validate_card_sync(card: dict[str, Any]) -> dict[str, Any]:
    """validate_card for synchronous callers (starts a short-lived node process: slower)."""
    validator = SyncCardValidator()
    try:
        report = validator.validate(card)
    finally:
        validator.close()
    problems = store_rule_problems(card) + renderer_problems(report)
    if problems:
        raise AssertionError("card breaks the rules:\n  " + "\n  ".join(problems))
    return report
