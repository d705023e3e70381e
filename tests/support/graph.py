"""A local stand-in for Microsoft Entra ID's token endpoint and Microsoft Graph, speaking their wire formats.

Entra (login.microsoftonline.com) is served over **https** with a throwaway certificate authority, because
msal only accepts https authorities and token endpoints; pass `ca_file` to msal (`TokenSource(verify=...)`).
Graph is served over plain http on a second port (`graph_base_url`, ending in /v1.0).

Entra:  GET  /{tenant}/v2.0/.well-known/openid-configuration   (msal's tenant discovery)
        POST /{tenant}/oauth2/v2.0/token   client_credentials (secret or certificate assertion) and the
             on-behalf-of grant (grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer,
             requested_token_use=on_behalf_of)
Graph:  GET  /v1.0/users?$search="displayName:…"   (needs ConsistencyLevel: eventual; $select, $top)
        GET  /v1.0/users/delta   paging with @odata.nextLink ($skiptoken), a final @odata.deltaLink
             ($deltatoken); a later call with the delta link returns only changes made since
        POST /v1.0/users/{id}/teamwork/installedApps   201, 409 when already installed, 404 unknown user/app

Error bodies follow the real services: Entra's {"error", "error_description": "AADSTS…", "error_codes"},
Graph's {"error": {"code", "message", "innerError"}}.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import inspect
import itertools
import json
import re
import secrets
import shutil
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from trellis.config import DirectorySettings

from .background import BackgroundServer, ServedInBackground
from .certificates import self_signed
from .faults import FaultPlan
from .identity import DEFAULT_CLIENT_ID, DEFAULT_TENANT_ID

DEFAULT_CLIENT_SECRET = "trellis-test-secret~0123456789abcdef"
DEFAULT_TEAMS_APP_ID = "5a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d"  # the app's id in the org app catalog
USER_TYPE = "#microsoft.graph.user"
OBO_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

# Properties a Graph user has in this stand-in (besides id), in Graph's casing.
USER_PROPERTIES = (
    "displayName",
    "mail",
    "userPrincipalName",
    "jobTitle",
    "department",
    "officeLocation",
    "employeeHireDate",
    "accountEnabled",
)

_GRAPH_ERRORS: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "Invalid request."),
    401: ("InvalidAuthenticationToken", "Access token has expired or is not yet valid."),
    403: ("Authorization_RequestDenied", "Insufficient privileges to complete the operation."),
    404: (
        "Request_ResourceNotFound",
        "Resource does not exist or one of its queried references is not present.",
    ),
    409: ("Conflict", "The app is already installed for this user."),
    429: ("TooManyRequests", "Too many requests; please retry after the interval in Retry-After."),
    500: ("generalException", "An unexpected error occurred."),
    502: ("BadGateway", "Bad gateway."),
    503: ("serviceNotAvailable", "The service is temporarily unavailable."),
    504: ("GatewayTimeout", "Gateway timeout."),
}

# Entra failures the token endpoint can be told to answer with: (status, error, AADSTS code, description).
TOKEN_FAILURES: dict[str, tuple[int, str, int, str]] = {
    "expired_secret": (
        401,
        "invalid_client",
        7000222,
        "AADSTS7000222: The provided client secret keys for app '{client_id}' are expired. Visit the Azure "
        "portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using "
        "certificate credentials for added security: https://aka.ms/certCreds.",
    ),
    "invalid_secret": (
        401,
        "invalid_client",
        7000215,
        "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the "
        "client secret value, not the client secret ID, for a secret added to app '{client_id}'.",
    ),
    "unknown_app": (
        400,
        "unauthorized_client",
        700016,
        "AADSTS700016: Application with identifier '{client_id}' was not found in the directory "
        "'{tenant_id}'. This can happen if the application has not been installed by the administrator of "
        "the tenant or consented to by any user in the tenant.",
    ),
    "bad_certificate": (
        401,
        "invalid_client",
        700027,
        "AADSTS700027: The certificate with identifier used to sign the client assertion is not "
        "registered on application.",
    ),
}


@dataclass(frozen=True)
class GraphRequest:
    """One request either service received."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: Any  # parsed JSON or form fields (dict), None when empty
    status: int
    at: float  # time.monotonic()

    @property
    def authorization(self) -> str | None:
        return self.headers.get("Authorization")

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True)
class Install:
    user_id: str
    teams_app_id: str
    at: float


@dataclass
class _Cursor:
    items: list[dict[str, Any]]
    version: int  # the delta token the last page hands out


@dataclass
class _Change:
    props: set[str] = field(default_factory=set)
    manager: bool = False
    removed: str | None = None  # "changed" (soft delete) or "deleted"


class _TlsServer(BackgroundServer):
    """A BackgroundServer that speaks https (msal refuses http authorities)."""

    def __init__(self, make_app: Callable[[], web.Application], context: ssl.SSLContext) -> None:
        super().__init__(make_app)
        self._context = context

    @property
    def base_url(self) -> str:
        return "https://" + super().base_url.removeprefix("http://")

    async def _serve(self) -> int:
        self._runner = web.AppRunner(self._make_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, 0, ssl_context=self._context)
        await site.start()
        return self._runner.addresses[0][1]


class GraphStandIn(ServedInBackground):
    """Entra's token endpoint (https) and Graph (http), with a configurable directory."""

    def __init__(
        self,
        *,
        tenant_id: str = DEFAULT_TENANT_ID,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        page_size: int = 100,
        token_lifetime: int = 3599,
        teams_app_ids: Iterable[str] = (DEFAULT_TEAMS_APP_ID,),
    ) -> None:
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.page_size = page_size
        self.token_lifetime = token_lifetime
        self.teams_app_ids = set(teams_app_ids)
        self.token_failure: str | None = None  # a key of TOKEN_FAILURES: answer every app token request so
        self.consent_required = False  # answer on-behalf-of requests with AADSTS65001 consent_required
        self.certificate: x509.Certificate | None = None  # verify client assertions against this
        self.on_install: Callable[[str, str], Any] | None = None
        self._lock = threading.RLock()
        self._users: dict[str, dict[str, Any]] = {}
        self._managers: dict[str, str | None] = {}
        self._former_managers: dict[str, str] = {}
        self._deleted: dict[str, str] = {}
        self._changes: list[tuple[int, str, str]] = []  # (version, user id, what: prop|manager|removed:…)
        self._version = 0
        self._cursors: dict[str, _Cursor] = {}
        self._valid_tokens: set[str] = set()
        self._token_counter = itertools.count(1)
        self._records: list[GraphRequest] = []
        self._faults = FaultPlan()
        self._installed: dict[str, set[str]] = {}
        self._installs: list[Install] = []
        self._callbacks: list[Future[Any]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tmp = Path(tempfile.mkdtemp(prefix="graph-standin-"))
        self.ca_file = str(self._tmp / "ca.pem")
        self._server = BackgroundServer(self._make_app)
        self._login = _TlsServer(self._make_app, self._tls_context())

    # -- lifecycle and addresses ---------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._server.start()
        await self._login.start()

    async def close(self) -> None:
        await self.settle()
        await self._login.close()
        await self._server.close()
        shutil.rmtree(self._tmp, ignore_errors=True)

    @property
    def authority_host(self) -> str:
        """https://127.0.0.1:PORT, standing for https://login.microsoftonline.com."""
        return self._login.base_url

    @property
    def graph_base_url(self) -> str:
        """http://127.0.0.1:PORT/v1.0, standing for https://graph.microsoft.com/v1.0."""
        return self._server.base_url + "/v1.0"

    def settings(self, **overrides: Any) -> DirectorySettings:
        """DirectorySettings pointing at this stand-in (client secret credential by default)."""
        values: dict[str, Any] = {
            "tenant_id": self.tenant_id,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "authority_host": self.authority_host,
            "graph_base_url": self.graph_base_url,
            "teams_app_catalog_id": DEFAULT_TEAMS_APP_ID,
        }
        values.update(overrides)
        return DirectorySettings(**values)

    # -- the directory -------------------------------------------------------------------------------

    def add_user(self, user_id: str | None = None, *, manager_id: str | None = None, **props: Any) -> str:
        """Add a user (Graph property names: displayName=…, accountEnabled=…); returns the id."""
        user_id = user_id or str(uuid.uuid4())
        user = {p: None for p in USER_PROPERTIES} | {"accountEnabled": True} | props
        with self._lock:
            self._users[user_id] = user
            self._managers[user_id] = manager_id
            self._deleted.pop(user_id, None)
            self._log(user_id, *user, "manager")
        return user_id

    def generate(self, n: int, *, span: int = 8, seed: int = 1) -> list[str]:
        """Add n users in a tree (user i reports to user (i-1)//span); returns the ids, root first."""
        ids = [str(uuid.UUID(int=(seed << 96) | (i + 1))) for i in range(n)]
        start = dt.date(2015, 1, 5)
        with self._lock:
            self._version += 1
            for i, user_id in enumerate(ids):
                self._users[user_id] = {
                    "displayName": f"Person {i:05d}",
                    "mail": f"person{i:05d}@contoso.example",
                    "userPrincipalName": f"person{i:05d}@contoso.example",
                    "jobTitle": "Engineer" if i % span else "Manager",
                    "department": f"Department {i % 17}",
                    "officeLocation": f"Building {i % 5}",
                    "employeeHireDate": f"{start + dt.timedelta(days=i % 3000)}T00:00:00Z",
                    "accountEnabled": True,
                }
                self._managers[user_id] = ids[(i - 1) // span] if i else None
                self._changes.append((self._version, user_id, "added"))
        return ids

    def update_user(self, user_id: str, **props: Any) -> None:
        """Change properties (Graph names), e.g. update_user(id, jobTitle="Lead")."""
        with self._lock:
            self._users[user_id].update(props)
            self._log(user_id, *props)

    def set_manager(self, user_id: str, manager_id: str | None) -> None:
        with self._lock:
            old = self._managers.get(user_id)
            if old and not manager_id:
                self._former_managers[user_id] = old
            self._managers[user_id] = manager_id
            self._log(user_id, "manager")

    def disable_user(self, user_id: str) -> None:
        self.update_user(user_id, accountEnabled=False)

    def delete_user(self, user_id: str, *, permanent: bool = False) -> None:
        """Delete a user: soft (reason "changed", restorable for 30 days) or permanent ("deleted")."""
        with self._lock:
            self._users.pop(user_id)
            self._managers.pop(user_id, None)
            self._deleted[user_id] = "deleted" if permanent else "changed"
            self._log(user_id, "removed")

    def user(self, user_id: str) -> dict[str, Any]:
        with self._lock:
            return {"id": user_id, **self._users[user_id], "manager": self._managers.get(user_id)}

    def _log(self, user_id: str, *what: str) -> None:
        self._version += 1
        self._changes.extend((self._version, user_id, w) for w in what)

    # -- faults and tokens ---------------------------------------------------------------------------

    def fail_next(
        self,
        n: int,
        status: int,
        *,
        retry_after: float | None = None,
        body: Any = None,
        path_contains: str | None = None,
    ) -> None:
        """Answer the next n Graph requests (whose path or query contains path_contains) with status.

        Only Graph requests count, never the token endpoint (use `token_failure` for that).
        """
        self._faults.add(n, status, retry_after=retry_after, body=body, path_contains=path_contains)

    def expire_tokens(self) -> None:
        """Make every access token issued so far invalid: Graph answers 401 until a new one is used."""
        with self._lock:
            self._valid_tokens.clear()

    # -- what was received ---------------------------------------------------------------------------

    @property
    def requests(self) -> list[GraphRequest]:
        with self._lock:
            return list(self._records)

    @property
    def graph_requests(self) -> list[GraphRequest]:
        return [r for r in self.requests if r.path.startswith("/v1.0/")]

    @property
    def token_requests(self) -> list[GraphRequest]:
        """POSTs to the token endpoint; `body` holds the form fields."""
        return [r for r in self.requests if r.path.endswith("/oauth2/v2.0/token")]

    @property
    def installs(self) -> list[Install]:
        """Successful installations (201), in order."""
        with self._lock:
            return list(self._installs)

    async def settle(self) -> None:
        """Wait for on_install callbacks started so far."""
        with self._lock:
            pending, self._callbacks = self._callbacks, []
        for future in pending:
            await asyncio.wrap_future(future)

    # -- the servers ---------------------------------------------------------------------------------

    def _tls_context(self) -> ssl.SSLContext:
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = self_signed(key, "login.stand-in.test", days=30, addresses=("127.0.0.1", "localhost"))
        cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        Path(self.ca_file).write_bytes(cert_pem)
        key_file = self._tmp / "key.pem"
        key_file.write_bytes(key_pem)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.ca_file, key_file)
        return context

    def _make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._openid_configuration)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_get("/v1.0/users/delta", self._users_delta)
        app.router.add_get("/v1.0/users", self._users_search)
        app.router.add_post("/v1.0/users/{user_id}/teamwork/installedApps", self._install)
        return app

    async def _openid_configuration(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        if tenant != self.tenant_id:
            return self._entra_error(
                request, 400, "invalid_tenant", 90002, f"AADSTS90002: Tenant '{tenant}' not found."
            )
        base = f"{self.authority_host}/{tenant}"
        document = {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{self.authority_host}/{tenant}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"https://login.microsoftonline.com/{tenant}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid"],
            "kerberos_endpoint": f"{base}/kerberos",
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }
        return self._json(request, 200, document)

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        tenant = request.match_info["tenant"]
        if tenant != self.tenant_id:
            return self._entra_error(
                request, 400, "invalid_request", 90002, f"AADSTS90002: Tenant '{tenant}' not found.", form
            )
        grant = form.get("grant_type")
        if self.token_failure and grant == "client_credentials":
            status, error, code, description = TOKEN_FAILURES[self.token_failure]
            description = description.format(client_id=form.get("client_id"), tenant_id=tenant)
            return self._entra_error(request, status, error, code, description, form)
        if form.get("client_id") != self.client_id:
            status, error, code, description = TOKEN_FAILURES["unknown_app"]
            description = description.format(client_id=form.get("client_id"), tenant_id=tenant)
            return self._entra_error(request, status, error, code, description, form)
        problem = self._authenticate_client(form, str(request.url.with_query(None)))
        if problem:
            status, error, code, description = TOKEN_FAILURES[problem]
            return self._entra_error(
                request, status, error, code, description.format(client_id=self.client_id), form
            )
        scope = str(form.get("scope") or "")
        if grant == "client_credentials":
            if not any(s.endswith("/.default") for s in scope.split()):
                return self._entra_error(
                    request,
                    400,
                    "invalid_scope",
                    1002012,
                    "AADSTS1002012: The provided value for scope is not valid. Client credential flows must "
                    "have a scope value with /.default suffixed to the resource identifier.",
                    form,
                )
            return self._issue(request, form, "app")
        if grant == OBO_GRANT and form.get("requested_token_use") == "on_behalf_of":
            if not form.get("assertion"):
                return self._entra_error(
                    request,
                    400,
                    "invalid_request",
                    900144,
                    "AADSTS900144: The request body must contain the following parameter: 'assertion'.",
                    form,
                )
            if self.consent_required:
                return self._entra_error(
                    request,
                    400,
                    "invalid_grant",
                    65001,
                    f"AADSTS65001: The user or administrator has not consented to use the application with "
                    f"ID '{self.client_id}' named 'Trellis'. Send an interactive authorization request for "
                    "this user and resource.",
                    form,
                    suberror="consent_required",
                )
            return self._issue(request, form, "obo")
        return self._entra_error(
            request,
            400,
            "unsupported_grant_type",
            70003,
            f"AADSTS70003: grant type {grant!r} not supported.",
            form,
        )

    def _authenticate_client(self, form: Mapping[str, Any], token_endpoint: str) -> str | None:
        if "client_secret" in form:
            return None if form["client_secret"] == self.client_secret else "invalid_secret"
        if form.get("client_assertion_type") != ASSERTION_TYPE or not form.get("client_assertion"):
            return "invalid_secret"
        assertion = str(form["client_assertion"])
        try:
            header = jwt.get_unverified_header(assertion)
            if self.certificate is None:
                claims = jwt.decode(assertion, options={"verify_signature": False})
            else:
                der = self.certificate.public_bytes(serialization.Encoding.DER)
                thumbprints = {
                    hashlib.sha1(der, usedforsecurity=False).digest(),
                    hashlib.sha256(der).digest(),
                }
                named = {_b64decode(header.get("x5t", "")), _b64decode(header.get("x5t#S256", ""))}
                if not thumbprints & named:
                    return "bad_certificate"
                claims = jwt.decode(
                    assertion,
                    self.certificate.public_key(),
                    algorithms=["RS256", "PS256"],
                    audience=token_endpoint,
                )
        except jwt.PyJWTError:
            return "bad_certificate"
        if claims.get("iss") != self.client_id or claims.get("sub") != self.client_id:
            return "bad_certificate"
        return None

    def _issue(self, request: web.Request, form: Mapping[str, Any], kind: str) -> web.Response:
        token = f"{kind}-{next(self._token_counter)}-{secrets.token_urlsafe(12)}"
        with self._lock:
            self._valid_tokens.add(token)
        body = {
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
            "ext_expires_in": self.token_lifetime,
            "access_token": token,
        }
        if kind == "obo":
            body["scope"] = str(form.get("scope") or "")
        return self._json(request, 200, body, form)

    async def _users_delta(self, request: web.Request) -> web.Response:
        denied = self._check(request)
        if denied:
            return denied
        query = request.rel_url.query
        with self._lock:
            if "$skiptoken" in query:
                # Skiptokens are stateless on the wire, as Graph's are: fetching one again returns the
                # same page, so a client may retry it (or resume from it later).
                cursor_id, _, offset_text = query["$skiptoken"].partition(".")
                cursor = self._cursors.get(cursor_id)
                if cursor is None or not offset_text.isdigit():
                    return self._graph_error(request, 400, "BadRequest", "Invalid or expired $skiptoken.")
                offset = int(offset_text)
            else:
                if "$deltatoken" in query:
                    version = _parse_version(query["$deltatoken"])
                    if version is None or version > self._version:
                        return self._graph_error(
                            request,
                            410,
                            "resyncRequired",
                            "Resync required. Replace any local data and reset.",
                        )
                    items = self._changes_since(version)
                else:
                    select = [s for s in query.get("$select", "").split(",") if s]
                    items = self._listing(select, query.get("$expand", ""))
                # The delta link handed out at the end covers changes made from this moment on.
                cursor_id, offset = secrets.token_urlsafe(12).replace(".", "_"), 0
                cursor = self._cursors[cursor_id] = _Cursor(items, self._version)
            page = cursor.items[offset : offset + self.page_size]
            body: dict[str, Any] = {"@odata.context": f"{self.graph_base_url}/$metadata#users", "value": page}
            if offset + len(page) < len(cursor.items):
                body["@odata.nextLink"] = (
                    f"{self.graph_base_url}/users/delta?$skiptoken={cursor_id}.{offset + len(page)}"
                )
            else:
                delta = base64.urlsafe_b64encode(f"v{cursor.version}".encode()).decode()
                body["@odata.deltaLink"] = f"{self.graph_base_url}/users/delta?$deltatoken={delta}"
        return self._json(request, 200, body)

    async def _users_search(self, request: web.Request) -> web.Response:
        """GET /users?$search="displayName:term": a word of the display name starts with the term."""
        denied = self._check(request)
        if denied:
            return denied
        query = request.rel_url.query
        search = query.get("$search", "")
        if request.headers.get("ConsistencyLevel", "").lower() != "eventual":
            return self._graph_error(
                request,
                400,
                "Request_UnsupportedQuery",
                "Request with $search query parameter only works through MSGraph with a special request "
                "header: 'ConsistencyLevel: eventual'",
            )
        match = re.fullmatch(r'"displayName:([^"]*)"', search)
        if match is None:
            return self._graph_error(request, 400, "Request_UnsupportedQuery", "Invalid $search value.")
        term = match.group(1).strip().lower()
        select = [s for s in query.get("$select", "").split(",") if s]
        props = [p for p in (select or USER_PROPERTIES) if p in USER_PROPERTIES]
        top = int(query.get("$top", "100"))
        with self._lock:
            found = [
                {"id": user_id} | {p: user.get(p) for p in props}
                for user_id, user in self._users.items()
                if any(w.startswith(term) for w in str(user.get("displayName") or "").lower().split())
            ][:top]
        body = {"@odata.context": f"{self.graph_base_url}/$metadata#users", "value": found}
        return self._json(request, 200, body)

    def _listing(self, select: list[str], expand: str) -> list[dict[str, Any]]:
        props = [p for p in (select or USER_PROPERTIES) if p in USER_PROPERTIES]
        with_manager = "manager" in select or not select
        expand_manager = expand.startswith("manager")
        items = []
        for user_id, user in self._users.items():
            item: dict[str, Any] = {"id": user_id}
            for prop in props:
                item[prop] = user.get(prop)
            manager = self._managers.get(user_id)
            if expand_manager:
                item["manager"] = {"@odata.type": USER_TYPE, "id": manager} if manager else None
            elif with_manager and manager:
                item["manager@delta"] = [{"@odata.type": USER_TYPE, "id": manager}]
            items.append(item)
        return items

    def _changes_since(self, version: int) -> list[dict[str, Any]]:
        changes: dict[str, _Change] = {}
        for at, user_id, what in self._changes:
            if at <= version:
                continue
            change = changes.setdefault(user_id, _Change())
            if what == "added":
                change.props.update(USER_PROPERTIES)
                change.manager = True
            elif what == "manager":
                change.manager = True
            elif what == "removed":
                change.removed = self._deleted.get(user_id, "changed")
            else:
                change.props.add(what)
        items = []
        for user_id, change in changes.items():
            if user_id in self._deleted:
                items.append({"id": user_id, "@removed": {"reason": self._deleted[user_id]}})
                continue
            if user_id not in self._users:
                continue
            user = self._users[user_id]
            item: dict[str, Any] = {"id": user_id}
            for prop in USER_PROPERTIES:
                if prop in change.props:
                    item[prop] = user.get(prop)
            if change.manager:
                manager = self._managers.get(user_id)
                if manager:
                    item["manager@delta"] = [{"@odata.type": USER_TYPE, "id": manager}]
                elif user_id in self._former_managers:
                    former = self._former_managers[user_id]
                    item["manager@delta"] = [
                        {"@odata.type": USER_TYPE, "id": former, "@removed": {"reason": "deleted"}}
                    ]
            items.append(item)
        return items

    async def _install(self, request: web.Request) -> web.Response:
        denied = self._check(request)
        if denied:
            return denied
        user_id = unquote(request.match_info["user_id"])
        try:
            body = await request.json()
        except ValueError:
            return self._graph_error(request, 400, "BadRequest", "Invalid JSON body.")
        bind = body.get("teamsApp@odata.bind") if isinstance(body, dict) else None
        prefix = f"{self.graph_base_url}/appCatalogs/teamsApps/"
        if not isinstance(bind, str) or not bind.startswith(prefix):
            return self._graph_error(
                request, 400, "BadRequest", "teamsApp@odata.bind is missing or invalid.", body
            )
        app_id = bind.removeprefix(prefix)
        with self._lock:
            known_user = user_id in self._users
            installed = app_id in self._installed.get(user_id, set())
        if not known_user:
            return self._graph_error(request, 404, "NotFound", f"User '{user_id}' was not found.", body)
        if app_id not in self.teams_app_ids:
            return self._graph_error(request, 404, "NotFound", f"Teams app '{app_id}' was not found.", body)
        if installed:
            return self._graph_error(
                request, 409, "Conflict", "The app is already installed for this user.", body
            )
        with self._lock:
            self._installed.setdefault(user_id, set()).add(app_id)
            self._installs.append(Install(user_id, app_id, time.monotonic()))
        self._record(request, 201, body)
        callback = self.on_install
        if callback is not None and self._loop is not None:
            if inspect.iscoroutinefunction(callback):
                future = asyncio.run_coroutine_threadsafe(callback(user_id, app_id), self._loop)
            else:
                future = Future()
                future.set_result(callback(user_id, app_id))
            with self._lock:
                self._callbacks.append(future)
        return web.Response(status=201)

    # -- helpers -------------------------------------------------------------------------------------

    def _check(self, request: web.Request) -> web.Response | None:
        """A pending failure, or 401 for a missing/unknown token; None to go ahead."""
        failure = self._faults.take(request.path_qs, unquote(request.path_qs))
        if failure is not None:
            headers = {}
            if failure.retry_after is not None:
                value = failure.retry_after
                headers["Retry-After"] = str(int(value)) if float(value).is_integer() else str(value)
            if failure.body is not None:
                body = failure.body
            elif failure.status in (502, 504):
                body = None  # gateways answer without Graph's envelope
            else:
                code, message = _GRAPH_ERRORS.get(failure.status, ("error", "Error."))
                body = _envelope(code, message)
            return self._json(request, failure.status, body, headers=headers)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ")
        with self._lock:
            valid = auth.startswith("Bearer ") and token in self._valid_tokens
        if not valid:
            code, message = _GRAPH_ERRORS[401]
            return self._json(request, 401, _envelope(code, message))
        return None

    def _entra_error(
        self,
        request: web.Request,
        status: int,
        error: str,
        code: int,
        description: str,
        form: Mapping[str, Any] | None = None,
        *,
        suberror: str | None = None,
    ) -> web.Response:
        trace, correlation = uuid.uuid4(), uuid.uuid4()
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        body: dict[str, Any] = {
            "error": error,
            "error_description": f"{description} Trace ID: {trace} Correlation ID: {correlation} "
            f"Timestamp: {stamp}",
            "error_codes": [code],
            "timestamp": stamp,
            "trace_id": str(trace),
            "correlation_id": str(correlation),
            "error_uri": f"{self.authority_host}/error?code={code}",
        }
        if suberror:
            body["suberror"] = suberror
        return self._json(request, status, body, form)

    def _graph_error(
        self, request: web.Request, status: int, code: str, message: str, body: Any = None
    ) -> web.Response:
        return self._json(request, status, _envelope(code, message), body)

    def _json(
        self,
        request: web.Request,
        status: int,
        payload: Any,
        received: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        self._record(request, status, received)
        if payload is None:
            return web.Response(status=status, headers=headers)
        return web.Response(
            status=status, text=json.dumps(payload), content_type="application/json", headers=headers
        )

    def _record(self, request: web.Request, status: int, body: Any) -> None:
        record = GraphRequest(
            request.method,
            request.path,
            dict(request.rel_url.query),
            dict(request.headers),
            body,
            status,
            time.monotonic(),
        )
        with self._lock:
            self._records.append(record)


def _envelope(code: str, message: str) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": str(uuid.uuid4()),
                "client-request-id": str(uuid.uuid4()),
            },
        }
    }


def _b64decode(value: str) -> bytes:
    """base64 or base64url, padded or not (msal pads its x5t)."""
    text = value.replace("+", "-").replace("/", "_").rstrip("=")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        return b""


def _parse_version(token: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
    except ValueError:
        return None
    return int(text[1:]) if text.startswith("v") and text[1:].isdigit() else None


def app_certificate(common_name: str = "trellis-graph-app") -> tuple[str, str, x509.Certificate]:
    """A key and self-signed certificate for certificate credentials: (PEM key+cert, SHA-1 hex, cert)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = self_signed(key, common_name, days=365)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ) + certificate.public_bytes(serialization.Encoding.PEM)
    thumbprint = certificate.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303  (Entra's thumbprint)
    return pem.decode(), thumbprint, certificate


__all__ = [
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_TEAMS_APP_ID",
    "TOKEN_FAILURES",
    "GraphRequest",
    "GraphStandIn",
    "Install",
    "app_certificate",
]
