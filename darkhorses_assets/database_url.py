"""Postgres URLs: how to show one (password as `***`), every form its password may take in an error text, and
what is wrong with a malformed one — in words that never repeat the password (libpq's own messages do).

Used by the database client (connections), the settings (DARKHORSES_DATABASE_URL at load) and the failure
alerts (scrubbing error texts).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict

DATABASE_URL_EXAMPLE = "postgresql://user:password@host:5432/dbname"
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://")
_KEYWORD_START = re.compile(r"^\s*[A-Za-z_]+\s*=")
_KEYWORD_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?:'(?:[^'\\]|\\.)*'?|\S*)", re.IGNORECASE)
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&]password=)[^&#]*", re.IGNORECASE)
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def redact_url(url: str) -> str:
    """The database URL with its password replaced by `***` (`user:***@host`), however malformed it is.

    Also covers URLs without a scheme, a `password=` query parameter and libpq keyword strings
    (`host=... password=...`). A password with an unescaped `@` is hidden up to the last `@`.
    """
    if _KEYWORD_START.match(url):
        return _KEYWORD_PASSWORD.sub(r"\g<head>***", url)
    scheme = _SCHEME.match(url)
    head = scheme.group(0) if scheme else ""
    rest = url[len(head):]
    userinfo, at, host = rest.rpartition("@")
    if at and ":" in userinfo:
        rest = f"{userinfo.split(':', 1)[0]}:***@{host}"
    return head + _QUERY_PASSWORD.sub(r"\g<head>***", rest)


def libpq_url(url: str) -> str:
    """Accept SQLAlchemy spellings too: `postgresql+psycopg://` → `postgresql://`."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+', 1)[0]}{sep}{rest}" if sep else url


def _userinfo_password(url: str) -> str | None:
    """The password of a URL as a person meant it: after the user's `:`, up to the last `@` (raw)."""
    rest = url[len(m.group(0)):] if (m := _SCHEME.match(url)) else url
    userinfo, at, _ = rest.rpartition("@")
    return userinfo.split(":", 1)[1] if at and ":" in userinfo else None


def database_passwords(url: str) -> list[str]:
    """Every string of `url` that may be its password — as libpq reads it and as a person meant it (up to the
    last `@`), raw and percent-decoded — longest first, for scrubbing error text. Empty when it has none."""
    candidates = {match.group(0)[len(match.group("head")):].strip("'") for match in _KEYWORD_PASSWORD.finditer(url)}
    if not _KEYWORD_START.match(url):
        candidates.add(_userinfo_password(url) or "")
        candidates.update(match.group(0)[len(match.group("head")):] for match in _QUERY_PASSWORD.finditer(url))
    try:
        candidates.add(conninfo_to_dict(libpq_url(url)).get("password") or "")
    except (psycopg.Error, ValueError):
        pass
    candidates |= {unquote(candidate) for candidate in candidates}
    return sorted((candidate for candidate in candidates if candidate), key=len, reverse=True)


def scrub(text: str, secrets: Sequence[str]) -> str:
    """`text` on one line, each of `secrets` replaced by `***`, ending with a full stop."""
    for secret in secrets:
        text = text.replace(secret, "***")
    text = " ".join(text.split())
    return text if text.endswith((".", "?", "!")) else f"{text}."


def database_url_problem(url: str) -> str | None:
    """What is wrong with a database URL before connecting (None if libpq can use it), in words that never
    include the password — not even psycopg's own message, which echoes the fragment it could not parse."""
    if not url.strip():
        return f"it is empty: set it to a URL like {DATABASE_URL_EXAMPLE}"
    keyword = bool(_KEYWORD_START.match(url))
    scheme = _SCHEME.match(url)
    if not keyword and scheme is None:
        return f"it has no scheme: write it as {DATABASE_URL_EXAMPLE}"
    if scheme is not None and scheme.group("scheme").split("+", 1)[0] not in ("postgresql", "postgres"):
        return f"its scheme is {scheme.group('scheme')}://, not postgresql://: write it as {DATABASE_URL_EXAMPLE}"
    if not keyword and _BAD_PERCENT.search(url):
        return ("it has a % that is not followed by two hex digits: percent-encode special characters in the "
                "user name and password (% as %25, @ as %40, / as %2F, : as %3A, # as %23, ? as %3F)")
    if not keyword:
        try:
            urlsplit(url).port  # noqa: B018 - raises ValueError on a port that is not a number
        except ValueError:
            return "its port is not a number from 1 to 65535"
    try:
        params = conninfo_to_dict(libpq_url(url))
    except (psycopg.Error, ValueError) as error:
        secrets = database_passwords(url)
        detail = f" ({scrub(str(error), secrets).rstrip('.')})" if not secrets else ""
        return f"libpq cannot parse it{detail}: write it as {DATABASE_URL_EXAMPLE}"
    meant = None if keyword else _userinfo_password(url)
    if meant is not None and unquote(meant) != params.get("password"):
        return ("its password seems to contain an unescaped @, /, ? or #: percent-encode them "
                "(@ as %40, / as %2F, ? as %3F, # as %23)")
    return None
