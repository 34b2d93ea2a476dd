"""POST an alert's JSON to the webhook named by DARKHORSES_ALERT_WEBHOOK_URL, never logging that URL.

A webhook URL usually carries its token in the path or query, so neither this module's messages nor the
HTTP library's own debug lines (urllib3 logs every request's path) may show it: failures are reported as
`alert webhook failed: <status or error class>` and the URL is masked in urllib3's records while we post.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import requests

from darkhorses_assets.settings import ALERT_WEBHOOK_ENV

TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_URLLIB3_LOGGERS = ("urllib3.connectionpool", "urllib3.connection", "urllib3.poolmanager", "urllib3.util.retry")

_log = logging.getLogger(__name__)


class _MaskSecrets(logging.Filter):
    """Replaces registered secrets in the records of the logger it is attached to."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: list[str] = []

    @contextmanager
    def hiding(self, *secrets: str) -> Iterator[None]:
        wanted = [secret for secret in secrets if secret]
        with self._lock:
            self._secrets.extend(wanted)
        try:
            yield
        finally:
            with self._lock:
                for secret in wanted:
                    self._secrets.remove(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        message = original = record.getMessage()
        for secret in secrets:
            message = message.replace(secret, "***")
        if message != original:
            record.msg, record.args = message, None
        return True


_MASK = _MaskSecrets()
for _name in _URLLIB3_LOGGERS:
    logging.getLogger(_name).addFilter(_MASK)


def post_alert(
    url: str,
    payload: Mapping[str, Any],
    *,
    log: logging.Logger | None = None,
    attempts: int = 3,
    timeout_s: tuple[float, float] = (3.05, 10.0),
    backoff_s: float = 0.5,
) -> bool:
    """POST `payload` as JSON to `url`; True once the receiver answers 2xx.

    Connection errors, timeouts and 408/425/429/5xx answers are tried again (`attempts` in all, waiting
    `backoff_s`, then twice that, ...); other answers and redirects are not. A failure is logged as a
    warning on `log` and never raised: an alert that cannot be delivered must not fail its caller.
    """
    log = log or _log
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        log.warning("alert webhook failed: %s is not an http(s) URL; fix it or unset it", ALERT_WEBHOOK_ENV)
        return False
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    failure, attempt = "not attempted", 0
    with _MASK.hiding(url, path if path not in ("", "/") else ""):
        for attempt in range(1, attempts + 1):
            try:
                response = requests.post(url, json=dict(payload), timeout=timeout_s, allow_redirects=False)
            except (requests.ConnectionError, requests.Timeout) as error:
                failure, retry = type(error).__name__, True
            except requests.RequestException as error:  # its text would contain the URL
                failure, retry = type(error).__name__, False
            else:
                if 200 <= response.status_code < 300:
                    return True
                failure = f"HTTP {response.status_code} {response.reason or ''}".rstrip()
                retry = response.status_code in TRANSIENT_STATUSES
            if not retry or attempt == attempts:
                break
            time.sleep(backoff_s * 2 ** (attempt - 1))
    log.warning("alert webhook failed: %s (%d attempt%s)", failure, attempt, "" if attempt == 1 else "s")
    return False
