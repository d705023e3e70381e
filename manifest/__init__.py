"""Teams app manifest and app package for Trellis (standard library only)."""

from manifest.build import COMMANDS, MANIFEST_VERSION, STATIC_TABS, BotCommand, StaticTab, build_manifest
from manifest.icons import color_icon, outline_icon
from manifest.package import package_files, validate_manifest, write_package
from manifest.settings import ManifestSettings

__all__ = [
    "COMMANDS",
    "MANIFEST_VERSION",
    "STATIC_TABS",
    "BotCommand",
    "ManifestSettings",
    "StaticTab",
    "build_manifest",
    "color_icon",
    "outline_icon",
    "package_files",
    "validate_manifest",
    "write_package",
]
