"""Tests for the Teams app manifest, its icons and the app package."""

from __future__ import annotations

import copy
import json
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import jsonschema
import pytest

# Import from the submodules: they resolve even where a stale editable install makes `manifest` a namespace.
from adaptive_cards import COMMANDS as CARD_COMMANDS
from bot.routes import default_router
from manifest.build import (
    COMMANDS,
    MANIFEST_VERSION,
    MESSAGE_ACTIONS,
    OFFERED_MESSAGE_ACTIONS,
    build_manifest,
)
from manifest.icons import color_icon, outline_icon
from manifest.package import validate_manifest, write_package
from manifest.settings import ManifestSettings

REPO = Path(__file__).parents[2]
APP_MANIFEST_PKG = REPO / "node_modules" / "@microsoft" / "app-manifest"
NODE_VALIDATOR = Path(__file__).with_name("validate_manifest.mjs")

APP_ID = "0b3a8c9e-6f1d-4e2a-9c7b-1d2e3f405162"
BOT_ID = "7c1d2e3f-4a5b-4c6d-8e9f-a0b1c2d3e4f5"
SSO_ID = "f0e1d2c3-b4a5-4968-8776-655443322110"

# Third-party runtimes and the other project layers: the manifest must build with neither.
FORBIDDEN_IMPORTS = (
    "aiohttp",
    "jinja2",
    "botbuilder",
    "sqlalchemy",
    "trellis",
    "bot",
    "tabs",
    "adaptive_cards",
    "domain",
    "storage",
)


@pytest.fixture
def settings() -> ManifestSettings:
    return ManifestSettings(
        app_id=APP_ID,
        bot_id=BOT_ID,
        public_base_url="https://trellis.example.org/",
        sso_client_id=SSO_ID,
    )


@pytest.fixture
def manifest(settings: ManifestSettings) -> dict[str, Any]:
    """The manifest with the message actions too, so every schema and Store check covers them."""
    return build_manifest(settings, message_actions=MESSAGE_ACTIONS)


def test_a_built_package_offers_only_the_message_actions_the_bot_answers(settings: ManifestSettings) -> None:
    shipped = build_manifest(settings)
    offered = {c["id"] for e in shipped.get("composeExtensions", []) for c in e["commands"]}
    assert offered == {action.id for action in OFFERED_MESSAGE_ACTIONS} == default_router().message_actions


def test_package_uses_only_the_standard_library() -> None:
    code = (
        "import sys, manifest, manifest.package\n"
        f"roots = {{name.split('.')[0] for name in sys.modules}}\n"
        f"print(sorted(roots & set({FORBIDDEN_IMPORTS!r})))"
    )
    # A fresh interpreter, so modules that other tests imported cannot hide or fake a dependency.
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


# --- schema validation ------------------------------------------------------------------------------


def _bundled_schema(manifest_version: str) -> dict[str, Any]:
    path = (
        APP_MANIFEST_PKG
        / "build"
        / "json-schemas"
        / "teams"
        / f"v{manifest_version}"
        / "MicrosoftTeams.schema.json"
    )
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make test`, which installs the node packages", pytrace=False)
    return json.loads(path.read_text(encoding="utf-8"))


def test_manifest_validates_against_bundled_teams_schema(manifest: dict[str, Any]) -> None:
    schema = _bundled_schema(manifest["manifestVersion"])
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(manifest)]
    assert errors == []
    # Draft 4 has no "const", so Python's validator silently ignores the schema's manifestVersion pin.
    assert manifest["manifestVersion"] == schema["properties"]["manifestVersion"]["const"]


def test_schema_url_points_at_the_emitted_manifest_version(manifest: dict[str, Any]) -> None:
    assert tuple(map(int, MANIFEST_VERSION.split("."))) >= (1, 22)
    assert manifest["manifestVersion"] == MANIFEST_VERSION
    assert manifest["$schema"] == (
        f"https://developer.microsoft.com/en-us/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
    )


def _node_validate(manifest: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None or not APP_MANIFEST_PKG.exists():
        pytest.fail("node or @microsoft/app-manifest is missing: run `make test`", pytrace=False)
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    return subprocess.run(
        [node, str(NODE_VALIDATOR), str(path)], capture_output=True, text=True, timeout=60, check=False
    )


def test_manifest_passes_app_manifest_packages_own_validator(
    manifest: dict[str, Any], tmp_path: Path
) -> None:
    result = _node_validate(manifest, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == {"errors": []}


def test_node_validator_reports_schema_errors(manifest: dict[str, Any], tmp_path: Path) -> None:
    broken = copy.deepcopy(manifest)
    broken["bots"][0]["botId"] = "not-a-guid"
    broken["manifestVersion"] = "1.99"
    result = _node_validate(broken, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    errors = json.loads(result.stdout)["errors"]
    assert any(e.startswith("/bots/0/botId") for e in errors)
    assert any(e.startswith("/manifestVersion") for e in errors)


def test_node_validator_checks_the_message_extension_too(manifest: dict[str, Any], tmp_path: Path) -> None:
    broken = copy.deepcopy(manifest)
    broken["composeExtensions"][0]["commands"][0]["context"] = ["everywhere"]
    broken["composeExtensions"][0]["botId"] = "not-a-guid"
    result = _node_validate(broken, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    errors = json.loads(result.stdout)["errors"]
    assert any(e.startswith("/composeExtensions/0/commands/0/context/0") for e in errors), errors
    assert any(e.startswith("/composeExtensions/0/botId") for e in errors), errors


# --- manifest content -------------------------------------------------------------------------------


def test_valid_domains_and_urls_come_from_public_base_url(manifest: dict[str, Any]) -> None:
    assert manifest["validDomains"] == ["trellis.example.org"]
    assert manifest["developer"]["privacyUrl"] == "https://trellis.example.org/privacy"
    assert manifest["developer"]["termsOfUseUrl"] == "https://trellis.example.org/terms"
    home = next(tab for tab in manifest["staticTabs"] if tab["entityId"] == "home")
    assert home["contentUrl"] == home["websiteUrl"] == "https://trellis.example.org/tabs/home"


def test_valid_domain_keeps_a_non_default_port_and_drops_the_path() -> None:
    settings = ManifestSettings(APP_ID, BOT_ID, "https://Dev.Example.org:8443/trellis", None)
    manifest = build_manifest(settings)
    assert manifest["validDomains"] == ["dev.example.org:8443"]
    assert manifest["staticTabs"][1]["contentUrl"] == "https://Dev.Example.org:8443/trellis/tabs/home"


def test_web_application_info_uses_sso_client_id(manifest: dict[str, Any]) -> None:
    assert manifest["webApplicationInfo"] == {"id": SSO_ID, "resource": f"api://trellis.example.org/{SSO_ID}"}


def test_web_application_info_falls_back_to_app_id() -> None:
    manifest = build_manifest(ManifestSettings(APP_ID, BOT_ID, "https://trellis.example.org", None))
    assert manifest["webApplicationInfo"] == {"id": APP_ID, "resource": f"api://trellis.example.org/{APP_ID}"}


def test_bot_offers_help_everywhere_and_people_commands_in_1_1_chat_only(manifest: dict[str, Any]) -> None:
    (bot,) = manifest["bots"]
    assert bot["botId"] == BOT_ID
    assert bot["scopes"] == ["personal", "team"]
    assert bot["supportsFiles"] is False
    assert bot["isNotificationOnly"] is False
    by_scope = {tuple(cl["scopes"]): cl["commands"] for cl in bot["commandLists"]}
    help_command = {"title": "help", "description": "Show what Trellis can do and how to start"}
    assert by_scope[("team",)] == [help_command], "a channel never gets commands that show someone's data"
    assert by_scope[("personal",)][0] == help_command
    assert {"goals", "goals @name", "new goal"} <= {c["title"] for c in by_scope[("personal",)]}
    assert COMMANDS[0].title == "help"


def test_message_extension_offers_give_feedback_and_praise_on_any_message(manifest: dict[str, Any]) -> None:
    (extension,) = manifest["composeExtensions"]
    assert extension["botId"] == BOT_ID == manifest["bots"][0]["botId"], "the bot answers the invokes"
    commands = {command["id"]: command for command in extension["commands"]}
    assert list(commands) == ["giveFeedback", "praise"] == [action.id for action in MESSAGE_ACTIONS]
    assert commands["giveFeedback"]["title"] == "Give feedback"
    assert commands["praise"]["title"] == "Praise"
    for command in commands.values():
        # An action in the message's "..." menu whose dialog the bot builds (fetchTask), never a search.
        assert command["type"] == "action"
        assert command["context"] == ["message"]
        assert command["fetchTask"] is True
        assert command["description"].strip()
        assert "parameters" not in command and "taskInfo" not in command


def test_static_tabs_are_chat_home_goals_about(manifest: dict[str, Any]) -> None:
    entity_ids = [tab["entityId"] for tab in manifest["staticTabs"]]
    assert entity_ids == [
        "conversations",
        "home",
        "goals",
        "alignment",
        "feedback",
        "reviews",
        "development",
        "talent",
        "about",
    ]
    goals = next(tab for tab in manifest["staticTabs"] if tab["entityId"] == "goals")
    assert (goals["name"], goals["contentUrl"]) == ("My goals", "https://trellis.example.org/tabs/goals")
    feedback = next(tab for tab in manifest["staticTabs"] if tab["entityId"] == "feedback")
    assert feedback["name"] == "Feedback"
    assert feedback["contentUrl"] == "https://trellis.example.org/tabs/feedback"
    reviews = next(tab for tab in manifest["staticTabs"] if tab["entityId"] == "reviews")
    assert reviews["name"] == "My reviews"
    assert reviews["contentUrl"] == "https://trellis.example.org/tabs/reviews"
    development = next(tab for tab in manifest["staticTabs"] if tab["entityId"] == "development")
    assert development["contentUrl"] == "https://trellis.example.org/tabs/development"
    talent = next(tab for tab in manifest["staticTabs"] if tab["entityId"] == "talent")
    assert (talent["name"], talent["contentUrl"]) == ("Talent", "https://trellis.example.org/tabs/talent")
    assert all(tab["scopes"] == ["personal"] for tab in manifest["staticTabs"])


def test_manifest_meets_store_rules_and_describes_the_product(manifest: dict[str, Any]) -> None:
    assert validate_manifest(manifest) == []
    assert manifest["name"]["short"] == "Trellis"
    assert manifest["permissions"] == ["identity", "messageTeamMembers"]
    assert "devicePermissions" not in manifest
    full = manifest["description"]["full"].lower()
    for topic in ("goals", "feedback", "check-ins", "reviews", "succession", "development", "talent reviews"):
        assert topic in full


# --- settings validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"app_id": "trellis"}, "app_id"),
        ({"bot_id": "7c1d2e3f-4a5b-4c6d-8e9f"}, "bot_id"),
        ({"sso_client_id": "{" + SSO_ID + "}"}, "sso_client_id"),
        ({"public_base_url": "http://trellis.example.org"}, "public_base_url"),
        ({"public_base_url": "trellis.example.org"}, "public_base_url"),
        ({"public_base_url": "https://"}, "public_base_url"),
        ({"public_base_url": "https://trellis.example.org/?x=1"}, "public_base_url"),
        ({"privacy_url": "http://trellis.example.org/privacy"}, "privacy_url"),
        ({"version": "1.0"}, "version"),
    ],
)
def test_bad_settings_raise_a_clear_error(overrides: dict[str, str], field: str) -> None:
    values = {"app_id": APP_ID, "bot_id": BOT_ID, "public_base_url": "https://trellis.example.org"}
    values.update(overrides)
    with pytest.raises(ValueError, match=rf"^{field} must ") as info:
        ManifestSettings(**values)
    assert repr(next(iter(overrides.values()))) in str(info.value)


# --- Store-rule checks ------------------------------------------------------------------------------


def _mutate(manifest: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(manifest)
    *parents, last = path.split(".")
    target: Any = changed
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    target[int(last) if isinstance(target, list) else last] = value
    return changed


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("name.short", "Trellis Performance and Talent Hub", "name.short is 34 characters; the limit is 30"),
        ("name.short", "Trellis for Teams", "contains 'Teams'"),
        ("name.full", "Trellis by Microsoft Partners", "contains 'Microsoft'"),
        ("description.short", "x" * 81, "description.short is 81 characters; the limit is 80"),
        ("description.full", "x" * 4001, "description.full is 4001 characters; the limit is 4000"),
        ("version", "1.0", "is not MAJOR.MINOR.PATCH"),
        ("version", "01.0.0", "is not MAJOR.MINOR.PATCH"),
        ("staticTabs", [{"entityId": f"t{i}", "scopes": ["personal"]} for i in range(17)], "the limit is 16"),
        ("bots.0.commandLists.0.commands.0.title", "/help", "no slash prefix"),
        ("bots.0.commandLists.0.commands.0.title", "h" * 33, "title is 33 characters; the limit is 32"),
        ("bots.0.commandLists.0.commands.0.description", "d" * 129, "is 129 characters; the limit is 128"),
        (
            "bots.0.commandLists.0.commands",
            [{"title": f"c{i}", "description": "d"} for i in range(11)],
            "11 commands; the limit is 10",
        ),
        ("bots.0.commandLists", [], "the bot has no commands"),
        ("composeExtensions.0.commands.0.description", " ", "needs both a title and a description"),
        (
            "composeExtensions.0.commands.1.title",
            "P" * 33,
            "'praise' title is 33 characters; the limit is 32",
        ),
        ("composeExtensions.0.commands.1.id", "giveFeedback", "id 'giveFeedback' is repeated"),
        ("validDomains", ["*"], "wildcard"),
        ("validDomains", ["*.com"], "wildcard"),
        ("validDomains", ["https://trellis.example.org"], "without scheme or path"),
    ],
)
def test_validate_manifest_catches_store_rule_violations(
    manifest: dict[str, Any], path: str, value: Any, expected: str
) -> None:
    problems = validate_manifest(_mutate(manifest, path, value))
    assert any(expected in problem for problem in problems), problems


def test_validate_manifest_accepts_subdomain_wildcards_and_localhost(manifest: dict[str, Any]) -> None:
    assert validate_manifest(_mutate(manifest, "validDomains", ["*.example.org", "localhost:3978"])) == []


def test_write_package_refuses_a_manifest_that_breaks_store_rules(tmp_path: Path) -> None:
    settings = ManifestSettings(
        APP_ID, BOT_ID, "https://trellis.example.org", None, short_name="Trellis for Teams"
    )
    out = tmp_path / "trellis.zip"
    with pytest.raises(ValueError, match="contains 'Teams'"):
        write_package(settings, out)
    assert list(tmp_path.iterdir()) == []


# --- package and icons ------------------------------------------------------------------------------


def test_package_holds_exactly_manifest_and_icons(settings: ManifestSettings, tmp_path: Path) -> None:
    out = write_package(settings, tmp_path / "dist" / "trellis.zip")
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        assert json.loads(archive.read("manifest.json")) == build_manifest(settings)
        assert _png_size(archive.read("color.png")) == (192, 192)
        assert _png_size(archive.read("outline.png")) == (32, 32)


def test_package_is_byte_for_byte_reproducible(settings: ManifestSettings, tmp_path: Path) -> None:
    first = write_package(settings, tmp_path / "a.zip").read_bytes()
    second = write_package(settings, tmp_path / "b.zip").read_bytes()
    assert first == second


def test_outline_icon_is_only_opaque_white_or_fully_transparent() -> None:
    pixels = _decode_rgba(outline_icon())
    assert set(pixels) == {(255, 255, 255, 255), (0, 0, 0, 0)}  # both present: a glyph on a clear field


def test_color_icon_is_opaque_brand_colour_with_white_glyph(manifest: dict[str, Any]) -> None:
    pixels = _decode_rgba(color_icon())
    accent = manifest["accentColor"].lstrip("#")
    brand = (int(accent[0:2], 16), int(accent[2:4], 16), int(accent[4:6], 16), 255)
    assert set(pixels) == {brand, (255, 255, 255, 255)}
    # The glyph stays inside the central 96x96 safe area, so the 48 px border is pure background.
    for i, pixel in enumerate(pixels):
        x, y = i % 192, i // 192
        if not (48 <= x < 144 and 48 <= y < 144):
            assert pixel == brand, (x, y)


# --- a tiny PNG reader, independent of the writer under test ----------------------------------------


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind, body = data[offset + 4 : offset + 8], data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + body), f"bad CRC in {kind!r}"
        chunks.append((kind, body))
        offset += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    return chunks


def _png_size(data: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", _png_chunks(data)[0][1][:8])
    return width, height


def _decode_rgba(data: bytes) -> list[tuple[int, int, int, int]]:
    chunks = _png_chunks(data)
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, color_type, interlace) == (8, 6, 0), "expected 8-bit non-interlaced RGBA"
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = width * 4
    assert len(raw) == (stride + 1) * height
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        line = raw[y * (stride + 1) : (y + 1) * (stride + 1)]
        row = _unfilter(line[0], bytearray(line[1:]), previous)
        rows.append(row)
        previous = row
    flat = b"".join(rows)
    return [tuple(flat[i : i + 4]) for i in range(0, len(flat), 4)]  # type: ignore[misc]


def _unfilter(kind: int, row: bytearray, prev: bytearray) -> bytearray:
    for i in range(len(row)):
        left = row[i - 4] if i >= 4 else 0
        up = prev[i]
        up_left = prev[i - 4] if i >= 4 else 0
        if kind == 1:
            row[i] = (row[i] + left) & 0xFF
        elif kind == 2:
            row[i] = (row[i] + up) & 0xFF
        elif kind == 3:
            row[i] = (row[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            p = left + up - up_left
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
            predictor = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
            row[i] = (row[i] + predictor) & 0xFF
        else:
            assert kind == 0, f"unknown PNG filter {kind}"
    return row


def test_the_help_card_and_the_manifest_list_the_same_commands() -> None:
    """Two lists by hand (the card's descriptions are shorter): a command in one only is a mistake."""
    assert [title for title, _ in CARD_COMMANDS] == [command.title for command in COMMANDS]
