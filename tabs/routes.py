"""Mounting the tab pages on the aiohttp app: sign-in (Teams SSO or dev personas), Home, legal pages, and
the goal pages (tabs/goal_pages.py, goal_templates.py, goal_edit.py)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory.errors import ConsentRequired, DirectoryAuthError, DirectoryUnavailable, GraphUnavailable
from domain import org
from domain.access import actor_for_teams_user
from domain.clock import Clock, system_clock
from storage.uow import read_only
from tabs import sessions as cookies
from tabs.competency_pages import mount_competencies
from tabs.development_pages import mount_development
from tabs.feedback_pages import mount_feedback
from tabs.goal_edit import mount_goal_edit
from tabs.goal_pages import alignment_node, alignment_page, goals_page, team_goals_page, update_key_result
from tabs.goal_templates import mount_templates
from tabs.insights_pages import mount_insights
from tabs.metrics_pages import mount_metrics
from tabs.navigation import HOME, safe_next, signin_url
from tabs.pages import Pages
from tabs.people import ADMIN_HINT, CONSENT_MESSAGE, BadQuery, PeopleDirectory, search_local, search_text
from tabs.pools_pages import mount_pools
from tabs.review_pages import mount_reviews
from tabs.runtime import (
    TABS,
    TabsRuntime,
    bearer_visitor,
    csrf_refusal,
    form_field,
    refuse,
    resolve_visitor,
    signin_redirect,
)
from tabs.sessions import SessionSigner, check_csrf
from tabs.settings import TabSettings
from tabs.sso import SigningKeys, TokenRejected, TokenValidator
from tabs.succession_pages import mount_succession
from tabs.talent_hub import mount_talent_hub
from tabs.talent_review_pages import mount_talent_reviews
from tabs.visitors import (
    bearer_token,
    from_session,
)

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
TEAMS_JS_URL = "/tabs/static/vendor/teams-js.min.js"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PERSONA_LABELS = {"employee": "Employee", "manager": "Manager", "hr": "HR"}


def mount(
    app: web.Application,
    *,
    sessions: async_sessionmaker[AsyncSession],
    settings: TabSettings,
    personas: Mapping[str, tuple[str | None, str]] | None = None,
    people: PeopleDirectory | None = None,
    clock: Clock = system_clock,
) -> None:
    """Add the /tabs/ pages, /privacy and /terms to the app (install tabs.security.security_headers too).

    `people` searches Graph as the signed-in user (closed on cleanup); without it the people picker
    only works with developer sign-in, against the local directory.
    """
    validator = _validator(settings)
    app[TABS] = TabsRuntime(
        sessions=sessions,
        settings=settings,
        signer=SessionSigner(settings.session_secret),
        pages=Pages(teams_js=settings.teams_js_path is not None),
        validator=validator,
        personas=dict(personas or {}) if settings.dev_sign_in else {},
        people=people,
        clock=clock,
    )
    router = app.router
    router.add_get("/tabs", _to_home)
    router.add_get("/tabs/", _to_home)
    router.add_get("/tabs/home", home_page)
    router.add_get("/tabs/signin", signin_page)
    router.add_post("/tabs/session", create_session)
    router.add_post("/tabs/dev-signin", dev_signin)
    router.add_post("/tabs/signout", signout)
    router.add_get("/tabs/api/people", people_api)
    router.add_get("/tabs/consent", consent_start)
    router.add_get("/tabs/consent/end", consent_end)
    router.add_post("/tabs/consent/end", consent_end)
    router.add_get("/tabs/goals", goals_page)
    router.add_post("/tabs/goals/key-results/{key_result_id}", update_key_result)
    router.add_get("/tabs/team-goals", team_goals_page)
    router.add_get("/tabs/alignment", alignment_page)
    router.add_get("/tabs/alignment/nodes/{goal_id}", alignment_node)
    for prefix in ("/tabs", ""):
        router.add_get(f"{prefix}/privacy", privacy_page)
        router.add_get(f"{prefix}/terms", terms_page)
    if settings.teams_js_path is not None:
        # Registered before the static prefix, which would otherwise claim the path.
        router.add_get(TEAMS_JS_URL, _file(settings.teams_js_path))
    router.add_static("/tabs/static/", STATIC)
    if validator is not None:

        async def close_validator(_app: web.Application) -> None:
            await validator.close()

        app.on_cleanup.append(close_validator)
    if people is not None:

        async def close_people(_app: web.Application) -> None:
            await people.close()

        app.on_cleanup.append(close_people)
    mount_templates(app)
    mount_goal_edit(app)
    mount_feedback(app)
    mount_talent_hub(app)
    mount_reviews(app)
    mount_talent_reviews(app)
    mount_development(app)
    mount_succession(app)
    mount_pools(app)
    mount_competencies(app)
    mount_metrics(app)
    mount_insights(app)


def _file(path: Path) -> Handler:
    async def serve(_request: web.Request) -> web.StreamResponse:
        return web.FileResponse(path)

    return serve


def _validator(settings: TabSettings) -> TokenValidator | None:
    if settings.sso_client_id is None:
        return None
    return TokenValidator(
        client_id=settings.sso_client_id,
        app_id_uri=settings.sso_app_id_uri,
        allowed_tenants=settings.sso_allowed_tenants,
        keys=SigningKeys(settings.sso_openid_metadata_url),
    )


# --- pages -------------------------------------------------------------------------------------------


async def home_page(request: web.Request) -> web.StreamResponse:
    """The Home tab: who I am, my manager and reports, what is due, my roles."""
    rt = request.app[TABS]
    async with read_only(rt.sessions) as db:
        visitor = await resolve_visitor(request, rt, db)
        if visitor is None:
            raise signin_redirect(request)
        view = await org.home(db, actor=visitor.actor)
    return rt.pages.render(
        request,
        "home.html",
        title="Home",
        visitor=visitor,
        view=view,
        people_search=rt.people_search,
        nav="home",
    )


async def signin_page(request: web.Request) -> web.StreamResponse:
    """Teams SSO (driven by signin.js) and, in development, a persona picker."""
    rt = request.app[TABS]
    next_path = safe_next(request.query.get("next"))
    signed_out = request.query.get("signed_out") == "1"
    async with read_only(rt.sessions) as db:
        visitor = await from_session(db, rt.signer.read(request.cookies.get(cookies.SESSION_COOKIE)))
        if visitor is not None:
            raise web.HTTPFound(next_path)
        personas = await _persona_choices(db, rt.personas)
    nonce = request.cookies.get(cookies.SIGNIN_COOKIE) or cookies.new_signin_nonce()
    response = rt.pages.render(
        request,
        "signin.html",
        title="Sign in",
        next_path=next_path,
        signed_out=signed_out,
        sso_enabled=rt.settings.sso_enabled,
        dev_sign_in=rt.settings.dev_sign_in,
        personas=personas,
        signin_token=rt.signer.signin_token(nonce),
    )
    cookies.set_signin_cookie(response, nonce)
    return response


async def privacy_page(request: web.Request) -> web.StreamResponse:
    """What Trellis stores and who sees it."""
    return await _public_page(request, "privacy.html", "Privacy")


async def terms_page(request: web.Request) -> web.StreamResponse:
    """Terms of use."""
    return await _public_page(request, "terms.html", "Terms of use")


async def _public_page(request: web.Request, template: str, title: str) -> web.StreamResponse:
    rt = request.app[TABS]
    # Public pages show the header's sign-out when a session exists, but never require one.
    async with read_only(rt.sessions) as db:
        visitor = await from_session(db, rt.signer.read(request.cookies.get(cookies.SESSION_COOKIE)))
    return rt.pages.render(request, template, title=title, visitor=visitor)


async def _to_home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(HOME)


# --- goals ------------------------------------------------------------------------------------------


# --- sign-in and sign-out ----------------------------------------------------------------------------


async def create_session(request: web.Request) -> web.StreamResponse:
    """Exchange a Teams SSO token (Authorization: Bearer) for the session cookie: 204."""
    rt = request.app[TABS]
    try:
        token = bearer_token(request)
    except TokenRejected as rejected:
        raise refuse(request, 401, rejected.reason) from None
    if token is None:
        raise refuse(request, 401, "send the Teams sign-in token as 'Authorization: Bearer <token>'")
    async with read_only(rt.sessions) as db:
        visitor = await bearer_visitor(request, rt, db, token)
    _, value = rt.signer.issue(visitor.actor.person_id)
    response = web.Response(status=204)
    cookies.set_session_cookie(response, value)
    cookies.clear_signin_cookie(response)
    return response


async def dev_signin(request: web.Request) -> web.StreamResponse:
    """Sign in as a demo persona (development only; CSRF-protected)."""
    rt = request.app[TABS]
    if not rt.settings.dev_sign_in:
        raise rt.pages.error(
            request,
            status=403,
            title="Developer sign-in is off",
            message="This server signs people in through Microsoft Teams only. Open Trellis in Teams.",
        )
    form = await request.post()
    nonce = request.cookies.get(cookies.SIGNIN_COOKIE)
    if not rt.signer.check_signin_token(nonce, form_field(form, "csrf_token")):
        raise csrf_refusal(request, rt)
    next_path = safe_next(form_field(form, "next"))
    persona = form_field(form, "persona") or ""
    if persona not in rt.personas:
        raise rt.pages.error(
            request,
            status=400,
            title="Unknown persona",
            message="Choose one of the listed people.",
            retry_url=signin_url(next_path),
        )
    tenant_id, object_id = rt.personas[persona]
    async with read_only(rt.sessions) as db:
        actor = await actor_for_teams_user(db, tenant_id=tenant_id, aad_object_id=object_id)
    if actor is None:
        raise rt.pages.error(
            request,
            status=403,
            title="Not in the directory",
            message=f"The {persona} persona is not in Trellis's directory. Seed the demo organization first.",
            retry_url=signin_url(next_path),
        )
    _, value = rt.signer.issue(actor.person_id)
    response = web.HTTPSeeOther(next_path)
    cookies.set_session_cookie(response, value)
    cookies.clear_signin_cookie(response)
    raise response


async def signout(request: web.Request) -> web.StreamResponse:
    """End the session (CSRF-protected) and show the sign-in page without signing in again."""
    rt = request.app[TABS]
    session = rt.signer.read(request.cookies.get(cookies.SESSION_COOKIE))
    form = await request.post()
    # Without a valid session there is nothing a forged request could end; just clear the cookie.
    if session is not None and not check_csrf(session, form_field(form, "csrf_token")):
        raise csrf_refusal(request, rt)
    response = web.HTTPSeeOther(signin_url(HOME, signed_out="1"))
    cookies.clear_session_cookie(response)
    raise response


# --- people picker and consent ----------------------------------------------------------------------

SSO_NEEDED = "sign in with Teams single sign-on to search people"


async def people_api(request: web.Request) -> web.StreamResponse:
    """GET /tabs/api/people?q=: JSON [{id, displayName, mail, jobTitle}] from Graph as the signed-in user.

    Needs the tab's SSO token (Authorization: Bearer), which is exchanged on behalf of the user; a
    cookie session cannot be exchanged, so with developer sign-in on it searches the local directory
    instead, and otherwise it is refused with 401.
    """
    rt = request.app[TABS]
    try:
        token = bearer_token(request)
    except TokenRejected as rejected:
        raise refuse(request, 401, rejected.reason) from None
    async with read_only(rt.sessions) as db:
        if token is None:
            session = rt.signer.read(request.cookies.get(cookies.SESSION_COOKIE))
            visitor = await from_session(db, session) if rt.settings.dev_sign_in else None
            if visitor is None:
                raise refuse(request, 401, SSO_NEEDED)
            text = _people_query(request)
            found = await search_local(db, tenant_id=visitor.actor.tenant_id, text=text)
            return _people_answer(found, source="local")
        await bearer_visitor(request, rt, db, token)
    text = _people_query(request)
    if rt.people is None:
        return _json_error(503, "people search is not configured on this server")
    try:
        found = await rt.people.search(token, text)
    except ConsentRequired as needed:
        scopes = list(needed.scopes)
        return web.json_response(
            {
                "error": "consent_required",
                "message": CONSENT_MESSAGE,
                "scopes": scopes,
                "consentUrl": "/tabs/consent?" + urlencode({"scope": " ".join(scopes)}),
                "adminHint": ADMIN_HINT,
            },
            status=403,
            headers={"Cache-Control": "no-store"},
        )
    except DirectoryAuthError as error:
        log.error("people search: the on-behalf-of exchange failed: %s", error)
        return _json_error(
            502, "Trellis could not get access to the directory for you; tell your administrator"
        )
    except (DirectoryUnavailable, GraphUnavailable) as error:
        log.warning("people search failed: %s", error)
        return _json_error(503, "the directory cannot be reached right now; try again in a minute")
    return _people_answer(found, source="graph")


def _people_query(request: web.Request) -> str:
    try:
        return search_text(request.query.get("q"))
    except BadQuery as bad:
        raise _json_error(400, str(bad)) from None


def _people_answer(found: list[dict[str, object]], *, source: str) -> web.Response:
    response = web.json_response(found, headers={"Cache-Control": "no-store"})
    response.headers["X-Trellis-People-Source"] = source
    return response


def _json_error(status: int, reason: str) -> web.HTTPException:
    exc = web.HTTPException(text=json.dumps({"error": reason}), content_type="application/json")
    exc.set_status(status)
    exc.headers["Cache-Control"] = "no-store"
    return exc


async def consent_start(request: web.Request) -> web.StreamResponse:
    """Opened by teams-js authentication.authenticate(): redirect to Entra's consent prompt."""
    rt = request.app[TABS]
    if rt.people is None:
        raise rt.pages.error(
            request,
            status=404,
            title="Nothing to consent to",
            message="This server does not use Microsoft Graph on your behalf.",
        )
    asked = request.query.get("scope", " ".join(rt.people.scopes)).split()
    # Only the scopes the tabs use: this page must not become a consent prompt for anything else.
    if not asked or any(scope not in rt.people.scopes for scope in asked):
        raise rt.pages.error(
            request,
            status=400,
            title="Unknown permission",
            message="Trellis does not ask for that permission.",
        )
    hint = request.query.get("login_hint") or None
    url = rt.people.consent_url(
        redirect_uri=rt.settings.public_base_url.rstrip("/") + "/tabs/consent/end",
        scopes=asked,
        login_hint=hint if hint and len(hint) <= 320 else None,
    )
    raise web.HTTPFound(url)


async def consent_end(request: web.Request) -> web.StreamResponse:
    """Where Entra sends the consent answer: the page tells Teams the outcome and closes the window."""
    rt = request.app[TABS]
    answer: Mapping[str, object] = await request.post() if request.method == "POST" else request.query
    error = answer.get("error")
    description = answer.get("error_description")
    reason = None
    if isinstance(error, str) and error:
        reason = (
            error if not isinstance(description, str) else f"{error}: {description.splitlines()[0][:300]}"
        )
    return rt.pages.render(request, "consent_end.html", title="Permission", failure=reason)


# --- who is asking -----------------------------------------------------------------------------------


# --- dev sign-in personas ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonaChoice:
    """A persona on the picker, with the directory entry it signs in as (None when missing)."""

    key: str
    label: str
    display_name: str | None
    department: str | None


async def _persona_choices(
    db: AsyncSession, personas: Mapping[str, tuple[str | None, str]]
) -> list[PersonaChoice]:
    choices = []
    for key, (tenant_id, object_id) in personas.items():
        actor = await actor_for_teams_user(db, tenant_id=tenant_id, aad_object_id=object_id)
        choices.append(
            PersonaChoice(
                key=key,
                label=PERSONA_LABELS.get(key, key.replace("_", " ").capitalize()),
                display_name=actor.display_name if actor else None,
                department=actor.department if actor else None,
            )
        )
    return choices
