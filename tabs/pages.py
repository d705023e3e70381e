"""Rendering templates (autoescaped) into responses with the context every page needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from tabs.navigation import safe_href
from tabs.security import CSP_NONCE
from tabs.visitors import Visitor

TEMPLATES = Path(__file__).with_name("templates")
THEMES = ("default", "dark", "contrast")
ROLE_LABELS = {
    "employee": "Employee",
    "manager": "Manager",
    "hr_admin": "HR admin",
    "talent_reviewer": "Talent reviewer",
}


class Pages:
    """The tabs' jinja2 environment."""

    def __init__(self, *, teams_js: bool) -> None:
        self._env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters["safe_href"] = safe_href
        self._env.filters["role_label"] = lambda role: ROLE_LABELS.get(role, role.replace("_", " ").title())
        self._env.globals["teams_js"] = teams_js

    def render(
        self,
        request: web.Request,
        template: str,
        *,
        title: str,
        visitor: Visitor | None = None,
        status: int = 200,
        **context: Any,
    ) -> web.Response:
        """An HTML response; never cached, since pages show personal data."""
        html = self._env.get_template(template).render(
            title=title,
            visitor=visitor,
            csrf_token=visitor.csrf_token if visitor else "",
            csp_nonce=request.get(CSP_NONCE, ""),
            theme=theme_of(request),
            **context,
        )
        response = web.Response(text=html, content_type="text/html", status=status)
        response.headers["Cache-Control"] = "no-store"
        return response

    def error(
        self,
        request: web.Request,
        *,
        status: int,
        title: str,
        message: str,
        retry_url: str | None = None,
        visitor: Visitor | None = None,
    ) -> web.HTTPException:
        """An HTML error page to raise, with a way forward when there is one."""
        page = self.render(
            request,
            "error.html",
            title=title,
            visitor=visitor,
            status=status,
            message=message,
            retry_url=retry_url,
        )
        exc = web.HTTPException(text=page.text, content_type="text/html")
        exc.set_status(status)
        exc.headers["Cache-Control"] = "no-store"
        return exc


def theme_of(request: web.Request) -> str:
    """The theme asked for in ?theme= (the server renders it first so the page does not flash)."""
    theme = request.query.get("theme", "default")
    return theme if theme in THEMES else "default"
