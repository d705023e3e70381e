"""A private, throwaway PostgreSQL cluster for the test session.

initdb into a temporary directory, start on a free 127.0.0.1 port with durability switched off (tests
never need to survive a crash), and remove everything on stop. When we are root the server programs run
as the `postgres` user, because PostgreSQL refuses to run as root.

A crashed or killed test run must not leave a server behind: stop() is registered with atexit, and a
small watchdog process (in its own session, so it outlives a killed pytest) stops the cluster once the
test process is gone.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Self

import asyncpg

SERVER_USER = "postgres"
BIN_ENV = "TRELLIS_TEST_PG_BIN"  # optional override: a directory holding initdb and pg_ctl
_PROGRAMS = ("initdb", "pg_ctl", "postgres")
_SERVER_OPTIONS = "-c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=200"


def find_bin_dir() -> Path | None:
    """Where initdb and pg_ctl are: $TRELLIS_TEST_PG_BIN, the newest /usr/lib/postgresql/*/bin, or PATH."""
    candidates: list[Path] = []
    if os.environ.get(BIN_ENV):
        candidates.append(Path(os.environ[BIN_ENV]))
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted((Path(p) for p in versions), key=_major_version, reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    return next((c for c in candidates if _has_programs(c)), None)


def _major_version(bin_dir: Path) -> float:
    try:
        return float(bin_dir.parent.name)
    except ValueError:
        return 0.0


def _has_programs(bin_dir: Path) -> bool:
    return all(os.access(bin_dir / name, os.X_OK) for name in _PROGRAMS)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgresUnavailable(RuntimeError):
    """The machine cannot run a test cluster; the message says why and how to fix it."""


class PostgresCluster:
    """A throwaway PostgreSQL server: `async with PostgresCluster() as pg: pg.url("postgres")`."""

    def __init__(self, *, bin_dir: Path | None = None, start_timeout: float = 30.0) -> None:
        self.bin_dir = bin_dir
        self.start_timeout = start_timeout
        self.host = "127.0.0.1"
        self.port: int | None = None
        self.started_in: float | None = None  # seconds start() took
        self._base: Path | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None

    # -- availability ------------------------------------------------------------------------------

    @classmethod
    def available(cls, bin_dir: Path | None = None) -> tuple[bool, str]:
        """Whether a cluster can start here, and if not, why (in words an operator can act on)."""
        found = bin_dir if bin_dir is not None else find_bin_dir()
        if found is None or not _has_programs(found):
            where = str(found) if found else "/usr/lib/postgresql/*/bin or PATH"
            return False, (
                f"PostgreSQL server programs ({', '.join(_PROGRAMS)}) not found in {where}. "
                "Install them (Debian/Ubuntu: apt-get install postgresql) "
                f"or set {BIN_ENV} to their directory."
            )
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                return False, "running as root, but `runuser` is missing to start PostgreSQL as postgres"
            try:
                pwd.getpwnam(SERVER_USER)
            except KeyError:
                return False, f"running as root, but there is no `{SERVER_USER}` user to run PostgreSQL as"
        return True, ""

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """initdb and start the server; raises PostgresUnavailable or RuntimeError with the server log."""
        ok, reason = self.available(self.bin_dir)
        if not ok:
            raise PostgresUnavailable(reason)
        self.bin_dir = self.bin_dir or find_bin_dir()
        began = time.monotonic()
        self._base = Path(tempfile.mkdtemp(prefix="trellis-pg-"))
        atexit.register(self._stop_now)
        try:
            if os.geteuid() == 0:
                user = pwd.getpwnam(SERVER_USER)
                os.chown(self._base, user.pw_uid, user.pw_gid)
            await self._initdb()
            await self._start_server()
        except BaseException:
            self._stop_now()
            raise
        self._start_watchdog()
        self.started_in = time.monotonic() - began

    async def stop(self) -> None:
        """Stop the server immediately and delete its files."""
        await asyncio.to_thread(self._stop_now)

    close = stop

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- addresses and databases -------------------------------------------------------------------

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL: postgresql+asyncpg://postgres@127.0.0.1:PORT/DATABASE."""
        return f"postgresql+asyncpg://{SERVER_USER}@{self.host}:{self._port()}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        """libpq/asyncpg DSN for the same database."""
        return f"postgresql://{SERVER_USER}@{self.host}:{self._port()}/{database}"

    async def create_database(self, name: str, template: str | None = None) -> str:
        """Create a database (optionally a copy of template, which must have no open connections)."""
        sql = f"CREATE DATABASE {_quote_ident(name)}"
        if template:
            sql += f" TEMPLATE {_quote_ident(template)}"
        await self._execute(sql)
        return self.url(name)

    async def drop_database(self, name: str) -> None:
        """Drop a database if it exists, disconnecting its sessions."""
        await self._execute(f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)")

    async def _execute(self, sql: str) -> None:
        conn = await asyncpg.connect(self.dsn("postgres"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def _port(self) -> int:
        if self.port is None:
            raise RuntimeError("the PostgreSQL cluster is not started")
        return self.port

    # -- internals ---------------------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory."""
        assert self._base is not None, "the PostgreSQL cluster is not started"
        return self._base / "data"

    @property
    def log_path(self) -> Path:
        """The server log (read it when start() fails)."""
        assert self._base is not None, "the PostgreSQL cluster is not started"
        return self._base / "postgres.log"

    def _command(self, program: str, *args: str) -> list[str]:
        assert self.bin_dir is not None
        command = [str(self.bin_dir / program), *args]
        if os.geteuid() == 0:
            return ["runuser", "-u", SERVER_USER, "--", *command]
        return command

    async def _run(self, command: list[str], timeout: float) -> tuple[int, str]:
        # cwd is our directory: the postgres user may not be allowed into the caller's cwd.
        proc = await asyncio.create_subprocess_exec(
            *command,
            cwd=self._base,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            output, _ = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise RuntimeError(f"{shlex.join(command)} took longer than {timeout} s") from None
        return proc.returncode or 0, output.decode(errors="replace")

    async def _initdb(self) -> None:
        # --no-locale: C collation works on every host and sorts the same everywhere.
        code, output = await self._run(
            self._command(
                "initdb",
                *("-D", str(self.data_dir), "-U", SERVER_USER, "-A", "trust"),
                *("--no-sync", "-E", "UTF8", "--no-locale"),
            ),
            timeout=self.start_timeout * 2,
        )
        if code != 0:
            raise RuntimeError(f"initdb failed ({code}):\n{output}")

    async def _start_server(self) -> None:
        # A free port can be taken between our probe and the server's bind; try a few.
        for _attempt in range(3):
            self.port = _free_port()
            self.log_path.unlink(missing_ok=True)  # judge each attempt by its own log
            options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {shlex.quote(str(self._base))} "
            command = self._command(
                "pg_ctl",
                *("-D", str(self.data_dir), "-w", "-t", str(int(self.start_timeout))),
                *("-o", options + _SERVER_OPTIONS, "-l", str(self.log_path), "start"),
            )
            code, output = await self._run(command, timeout=self.start_timeout + 10)
            if code == 0:
                return
            log = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
            if "could not bind" not in log and "already in use" not in log:
                raise RuntimeError(
                    f"pg_ctl start failed ({code}):\n{output}\n--- server log ---\n{log[-4000:]}"
                )
            # Stop a half-started server before retrying on another port.
            await self._run(self._command("pg_ctl", "-D", str(self.data_dir), "stop", "-m", "immediate"), 30)
        raise RuntimeError("PostgreSQL could not bind a free port after 3 attempts")

    def _start_watchdog(self) -> None:
        assert self._base is not None
        stop = shlex.join(self._command("pg_ctl", "-D", str(self.data_dir), "stop", "-m", "immediate"))
        script = (
            f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 1; done; "
            f"{stop} >/dev/null 2>&1; rm -rf {shlex.quote(str(self._base))}"
        )
        self._watchdog = subprocess.Popen(
            ["sh", "-c", script],
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _stop_now(self) -> None:
        """Synchronous stop for atexit and for stop(); safe to call twice."""
        atexit.unregister(self._stop_now)
        base, self._base = self._base, None
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            watchdog.kill()
            watchdog.wait()
        if base is not None:
            if (base / "data" / "postmaster.pid").exists():
                command = self._command("pg_ctl", "-D", str(base / "data"), "stop", "-m", "immediate")
                with contextlib.suppress(subprocess.SubprocessError, OSError):
                    subprocess.run(command, cwd=base, capture_output=True, timeout=30, check=False)
            shutil.rmtree(base, ignore_errors=True)
        self.port = None


__all__ = ["PostgresCluster", "PostgresUnavailable", "find_bin_dir"]
