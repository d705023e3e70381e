"""Mounting the tab pages on the aiohttp app: sign-in (Teams SSO or dev personas), Home, legal pages."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory.errors import ConsentRequired, DirectoryAuthError, DirectoryUnavailable, GraphUnavailable
from domain import org
from domain.access import Actor, actor_for_teams_user
from domain.clock import Clock, system_clock
from domain.errors import Forbidden, Invalid, NotFound
from domain.performance import alignment, goals
from domain.performance.goal_views import GoalView
from storage.uow import read_only, unit_of_work
from tabs import goal_display
from tabs import sessions as cookies
from tabs.navigation import HOME, safe_next, signin_url
from tabs.pages import Pages, theme_of
from tabs.people import ADMIN_HINT, CONSENT_MESSAGE, BadQuery, PeopleDirectory, search_local, search_text
from tabs.sessions import SessionSigner, check_csrf
from tabs.settings import TabSettings
from tabs.sso import KeysUnavailable, SigningKeys, TokenRejected, TokenValidator
from tabs.visitors import (
    NOT_IN_DIRECTORY,
    Visitor,
    bearer_token,
    from_session,
)

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
TEAMS_JS_URL = "/tabs/static/vendor/teams-js.min.js"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PERSONA_LABELS = {"employee": "Employee", "manager": "Manager", "hr": "HR"}


@dataclass
class TabsRuntime:
    """The tabs' long-lived parts."""

    sessions: async_sessionmaker[AsyncSession]
    settings: TabSettings
    signer: SessionSigner
    pages: Pages
    validator: TokenValidator | None
    personas: Mapping[str, tuple[str | None, str]] = field(default_factory=dict)
    # Graph people search on behalf of the user; None when the directory connection is not configured.
    people: PeopleDirectory | None = None
    # The app's clock (a test clock in tests), so tab pages and the bot agree on "today".
    clock: Clock = system_clock

    @property
    def people_search(self) -> bool:
        """Whether the Home tab offers the people picker (Graph with SSO, or the local directory)."""
        return (self.people is not None and self.validator is not None) or self.settings.dev_sign_in


TABS = web.AppKey("trellis.tabs", TabsRuntime)


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
    # Imported here: these pages build on this module's request helpers, so they import it.
    from tabs.goal_edit import mount_goal_edit
    from tabs.goal_templates import mount_templates

    mount_templates(app)
    mount_goal_edit(app)


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


@dataclass(frozen=True)
class MyGoals:
    """What the My goals page shows: the trees, each key result's history, what each tree aligns to."""

    goals: list[GoalView]
    history: dict[int, tuple[alignment.HistoryPoint, ...]]
    parents: dict[int, alignment.ParentLink]


async def goals_page(request: web.Request) -> web.StreamResponse:
    """My goals: my goal trees with progress, status, key-result history and an update form per result."""
    rt = request.app[TABS]
    async with read_only(rt.sessions) as db:
        visitor = await resolve_visitor(request, rt, db)
        if visitor is None:
            raise signin_redirect(request)
        page = await _my_goals(db, visitor.actor, rt.clock().date())
    updated = form_int(request.query.get("updated"))
    return _render_goals(request, rt, visitor, page, updated=updated, saved=saved_notice(request))


def saved_notice(request: web.Request) -> str | None:
    """What the goal edit page just did, from the query it redirected with (?edited= / ?closed=)."""
    if form_int(request.query.get("closed")) is not None:
        return "The goal is closed with its final score."
    if form_int(request.query.get("edited")) is not None:
        return "Your changes to the goal are saved."
    return None


async def update_key_result(request: web.Request) -> web.StreamResponse:
    """The inline form: a key result's new value, through the same service as the bot's card."""
    rt = request.app[TABS]
    key_result_id = form_int(request.match_info["key_result_id"])
    session = rt.signer.read(request.cookies.get(cookies.SESSION_COOKIE))
    form = await request.post()
    async with read_only(rt.sessions) as db:
        visitor = await from_session(db, session)
    if visitor is None:
        raise web.HTTPSeeOther(signin_url("/tabs/goals"))
    if not check_csrf(session, form_field(form, "csrf_token")):
        raise csrf_refusal(request, rt)
    value, version = form_field(form, "value"), form_int(form_field(form, "version"))
    try:
        if key_result_id is None:
            raise NotFound("That key result does not exist.")
        if version is None:
            raise Invalid("The form was incomplete: reload the page and try again.")
        async with unit_of_work(rt.sessions) as db:
            await goals.update_key_result(
                db,
                actor=visitor.actor,
                key_result_id=key_result_id,
                value=(value or "").strip(),
                expected_version=version,
                now=rt.clock(),
                comment=form_field(form, "comment"),
            )
    except goals.KeyResultChanged as changed:
        return await _goals_again(request, rt, visitor, 409, form_errors={key_result_id: changed.message})
    except Invalid as invalid:
        entered = {key_result_id: value or ""}
        errors = {key_result_id: invalid.message}
        return await _goals_again(request, rt, visitor, 400, form_errors=errors, entered=entered)
    except (Forbidden, NotFound) as refused:
        status = 403 if isinstance(refused, Forbidden) else 404
        return await _goals_again(request, rt, visitor, status, problem=refused.message)
    theme = theme_query(request)
    raise web.HTTPSeeOther(f"/tabs/goals?updated={key_result_id}{theme}#kr-{key_result_id}")


def theme_query(request: web.Request) -> str:
    """The theme the form was posted from, to carry over the redirect (default needs nothing)."""
    theme = theme_of(request)
    return "" if theme == "default" else f"&theme={theme}"


async def _goals_again(
    request: web.Request, rt: TabsRuntime, visitor: Visitor, status: int, **messages: Any
) -> web.StreamResponse:
    """My goals as they are now, with the form's message: nothing was written."""
    async with read_only(rt.sessions) as db:
        page = await _my_goals(db, visitor.actor, rt.clock().date())
    return _render_goals(request, rt, visitor, page, status=status, **messages)


async def _my_goals(db: AsyncSession, actor: Actor, today: date) -> MyGoals:
    trees = await goals.my_goals(db, actor=actor, today=today)
    kr_ids = [kr.id for goal in _walk_goals(trees) for kr in goal.key_results]
    history = await alignment.key_result_history(db, actor=actor, key_result_ids=kr_ids)
    parents = await alignment.aligned_to(db, actor=actor, goal_ids=[g.id for g in trees if g.parent_id])
    return MyGoals(trees, history, parents)


def _walk_goals(trees: list[GoalView]) -> list[GoalView]:
    found, stack = [], list(trees)
    while stack:
        goal = stack.pop()
        found.append(goal)
        stack.extend(goal.children)
    return found


def _render_goals(
    request: web.Request,
    rt: TabsRuntime,
    visitor: Visitor,
    page: MyGoals,
    *,
    status: int = 200,
    updated: int | None = None,
    saved: str | None = None,
    form_errors: dict[int | None, str] | None = None,
    entered: dict[int | None, str] | None = None,
    problem: str | None = None,
) -> web.Response:
    return rt.pages.render(
        request,
        "goals.html",
        title="My goals",
        visitor=visitor,
        status=status,
        nav="goals",
        ui=goal_display,
        page=page,
        updated=updated,
        saved=saved,
        form_errors=form_errors or {},
        entered=entered or {},
        problem=problem,
    )


async def team_goals_page(request: web.Request) -> web.StreamResponse:
    """Team goals: everyone in my line (HR: the organization) and their goals, filterable by status."""
    rt = request.app[TABS]
    async with read_only(rt.sessions) as db:
        visitor = await resolve_visitor(request, rt, db)
        if visitor is None:
            raise signin_redirect(request)
        if not alignment.may_see_team_goals(visitor.actor):
            raise rt.pages.error(
                request,
                status=403,
                title="Team goals are for managers",
                message="No one reports to you, so there are no team goals to show. Your own goals are "
                "on My goals; how they add up is on Alignment.",
                retry_url="/tabs/goals",
                visitor=visitor,
            )
        try:
            view = await alignment.team_goals(
                db,
                actor=visitor.actor,
                today=rt.clock().date(),
                status=request.query.get("status") or None,
                page=form_int(request.query.get("page")) or 1,
                scope=request.query.get("scope") or None,
            )
        except (Invalid, Forbidden) as refused:
            raise rt.pages.error(
                request,
                status=400 if isinstance(refused, Invalid) else 403,
                title="Team goals",
                message=refused.message,
                retry_url="/tabs/team-goals",
                visitor=visitor,
            ) from None
    return rt.pages.render(
        request,
        "team_goals.html",
        title="Team goals",
        visitor=visitor,
        nav="team-goals",
        ui=goal_display,
        view=view,
        saved=saved_notice(request),
    )


async def alignment_page(request: web.Request) -> web.StreamResponse:
    """Alignment: company → team → individual goals, collapsed beyond two levels; ?root= focuses one goal."""
    rt = request.app[TABS]
    root_id = form_int(request.query.get("root"))
    async with read_only(rt.sessions) as db:
        visitor = await resolve_visitor(request, rt, db)
        if visitor is None:
            raise signin_redirect(request)
        view = await _alignment(request, rt, db, visitor, root_id)
    return rt.pages.render(
        request,
        "alignment.html",
        title="Alignment",
        visitor=visitor,
        nav="alignment",
        ui=goal_display,
        view=view,
    )


async def alignment_node(request: web.Request) -> web.StreamResponse:
    """The goals aligned to one goal, as an HTML fragment the Alignment page inserts when a node opens."""
    rt = request.app[TABS]
    root_id = form_int(request.match_info["goal_id"])
    async with read_only(rt.sessions) as db:
        visitor = await resolve_visitor(request, rt, db)
        if visitor is None:
            raise _refuse(request, 401, "not signed in")
        view = await _alignment(request, rt, db, visitor, root_id, fragment=True)
    return rt.pages.render(
        request,
        "_alignment_children.html",
        title="Alignment",
        visitor=visitor,
        ui=goal_display,
        node=view.roots[0],
        offset=view.offset,
    )


async def _alignment(
    request: web.Request,
    rt: TabsRuntime,
    db: AsyncSession,
    visitor: Visitor,
    root_id: int | None,
    *,
    fragment: bool = False,
) -> alignment.AlignmentView:
    asked_root = request.query.get("root") if not fragment else request.match_info["goal_id"]
    offset = form_int(request.query.get("offset")) or 0
    try:
        if asked_root and root_id is None:
            raise NotFound("That goal does not exist.")
        return await alignment.alignment(
            db, actor=visitor.actor, today=rt.clock().date(), root_id=root_id, offset=offset
        )
    except (NotFound, Invalid) as missing:
        if fragment:
            raise _refuse(request, 404, missing.message) from None
        raise rt.pages.error(
            request,
            status=404 if isinstance(missing, NotFound) else 400,
            title="Goal not found",
            message=missing.message,
            retry_url="/tabs/alignment",
            visitor=visitor,
        ) from None


def form_int(value: str | None) -> int | None:
    """A whole number from a query or form field, or None (too long or not digits)."""
    if value is None or not value.strip().isdigit() or len(value.strip()) > 18:
        return None
    return int(value)


# --- sign-in and sign-out ----------------------------------------------------------------------------


async def create_session(request: web.Request) -> web.StreamResponse:
    """Exchange a Teams SSO token (Authorization: Bearer) for the session cookie: 204."""
    rt = request.app[TABS]
    try:
        token = bearer_token(request)
    except TokenRejected as rejected:
        raise _refuse(request, 401, rejected.reason) from None
    if token is None:
        raise _refuse(request, 401, "send the Teams sign-in token as 'Authorization: Bearer <token>'")
    async with read_only(rt.sessions) as db:
        visitor = await _bearer_visitor(request, rt, db, token)
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
        raise _refuse(request, 401, rejected.reason) from None
    async with read_only(rt.sessions) as db:
        if token is None:
            session = rt.signer.read(request.cookies.get(cookies.SESSION_COOKIE))
            visitor = await from_session(db, session) if rt.settings.dev_sign_in else None
            if visitor is None:
                raise _refuse(request, 401, SSO_NEEDED)
            text = _people_query(request)
            found = await search_local(db, tenant_id=visitor.actor.tenant_id, text=text)
            return _people_answer(found, source="local")
        await _bearer_visitor(request, rt, db, token)
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


async def resolve_visitor(request: web.Request, rt: TabsRuntime, db: AsyncSession) -> Visitor | None:
    """The signed-in visitor by bearer token or session cookie; raises 401/403 for a bad token."""
    try:
        token = bearer_token(request)
    except TokenRejected as rejected:
        raise _refuse(request, 401, rejected.reason) from None
    if token is not None:
        return await _bearer_visitor(request, rt, db, token)
    return await from_session(db, rt.signer.read(request.cookies.get(cookies.SESSION_COOKIE)))


async def _bearer_visitor(request: web.Request, rt: TabsRuntime, db: AsyncSession, token: str) -> Visitor:
    if rt.validator is None:
        raise _refuse(request, 401, "single sign-on is not configured on this server")
    try:
        identity = await rt.validator.validate(token)
        actor = await actor_for_teams_user(db, tenant_id=identity.tenant_id, aad_object_id=identity.object_id)
    except TokenRejected as rejected:
        log.info("tab SSO token rejected: %s", rejected.reason)
        raise _refuse(request, 401, rejected.reason) from None
    except KeysUnavailable as error:
        log.warning("tab SSO unavailable: %s", error)
        raise _refuse(request, 503, "sign-in is unavailable right now; try again in a minute") from None
    if actor is None:
        raise _refuse(request, 403, NOT_IN_DIRECTORY)
    return Visitor(actor, None)


def signin_redirect(request: web.Request) -> web.HTTPException:
    """Send a visitor without a valid session to sign in (JSON callers get 401 instead)."""
    if _wants_json(request):
        return _refuse(request, 401, "not signed in")
    response = web.HTTPFound(signin_url(request.rel_url.path_qs))
    if cookies.SESSION_COOKIE in request.cookies:  # expired, forged, or the person left
        cookies.clear_session_cookie(response)
    return response


_TITLES = {401: "Sign-in failed", 403: "No access", 503: "Sign-in unavailable"}


def _refuse(request: web.Request, status: int, reason: str) -> web.HTTPException:
    """A 401/403/503 as JSON {"error"} for scripts, or as a page with a way to try again."""
    rt = request.app[TABS]
    if _wants_json(request):
        exc = web.HTTPException(text=json.dumps({"error": reason}), content_type="application/json")
        exc.set_status(status)
    else:
        message = reason if status == 403 else f"Trellis could not sign you in: {reason}."
        exc = rt.pages.error(
            request,
            status=status,
            title=_TITLES.get(status, "Error"),
            message=message,
            retry_url=signin_url(request.rel_url.path_qs if request.method == "GET" else HOME),
        )
    if status == 401:
        exc.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return exc


def csrf_refusal(request: web.Request, rt: TabsRuntime) -> web.HTTPException:
    return rt.pages.error(
        request,
        status=403,
        title="This form has expired",
        message="The form was missing its security token or it no longer matches your session. "
        "Go back, reload the page and try again.",
        retry_url=signin_url(HOME),
    )


def _wants_json(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "")
    return (
        request.path == "/tabs/session"
        or request.path.startswith("/tabs/api/")
        or "application/json" in accept
        or request.headers.get("X-Requested-With", "").lower() == "xmlhttprequest"
    )


def form_field(form: Mapping[str, object], name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


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
