"""post_alert against a real HTTP receiver on loopback: delivery, retries, giving up, and the URL never logged."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from darkhorses_assets.automation.alerts import post_alert
from darkhorses_assets.settings import ALERT_WEBHOOK_ENV

TOKEN = "tok-7f3a9c1e5b"
"""A fake webhook token: it sits in the URL's path and query and must show up in no log line."""
PAYLOAD = {"run_id": "abc", "job_name": "job", "failed_steps": ["a"], "failed_at": "2025-11-01T10:00:00+00:00"}


@dataclass
class WebhookReceiver:
    """What a loopback webhook received: one (path, headers, JSON body) per request."""

    url: str
    statuses: list[int]
    requests: list[tuple[str, dict[str, str], object]] = field(default_factory=list)

    @property
    def bodies(self) -> list[object]:
        return [body for _, _, body in self.requests]


@contextmanager
def webhook_receiver(*statuses: int) -> Iterator[WebhookReceiver]:
    """An HTTP server on 127.0.0.1 answering POSTs with `statuses` in turn (the last one repeats; 200 if none).

    Its URL carries TOKEN in the path and the query, the way real webhook URLs carry theirs.
    """
    answers = list(statuses) or [200]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            receiver.requests.append((self.path, dict(self.headers), json.loads(body)))
            status = answers[min(len(receiver.requests), len(answers)) - 1]
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format, *args) -> None:  # noqa: A002
            pass  # the server's own access log would print the token; it is not ours to check

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    host, port = server.server_address[:2]
    receiver = WebhookReceiver(f"http://{host}:{port}/hooks/{TOKEN}?token={TOKEN}", answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def assert_token_never_logged(caplog, capfd) -> None:
    out, err = capfd.readouterr()
    for text in (caplog.text, out, err):
        assert TOKEN not in text


@pytest.fixture(autouse=True)
def debug_logging(caplog):
    """Capture everything down to DEBUG, where urllib3 logs each request's path (and so the token)."""
    caplog.set_level(logging.DEBUG)


def test_alert_json_arrives_at_the_webhook(caplog, capfd):
    with webhook_receiver(200) as receiver:
        assert post_alert(receiver.url, PAYLOAD)
    [(path, headers, body)] = receiver.requests
    assert body == PAYLOAD
    assert headers["Content-Type"] == "application/json"
    assert path == f"/hooks/{TOKEN}?token={TOKEN}"
    assert any(record.name.startswith("urllib3") for record in caplog.records), "urllib3 logged nothing to mask"
    assert_token_never_logged(caplog, capfd)


def test_transient_answers_are_tried_again(caplog, capfd):
    with webhook_receiver(503, 429, 200) as receiver:
        assert post_alert(receiver.url, PAYLOAD, attempts=3, backoff_s=0.01)
    assert receiver.bodies == [PAYLOAD] * 3
    assert "alert webhook failed" not in caplog.text
    assert_token_never_logged(caplog, capfd)


def test_a_receiver_that_keeps_failing_is_given_up_on_and_logged_without_the_url(caplog, capfd):
    with webhook_receiver(500) as receiver:
        assert post_alert(receiver.url, PAYLOAD, attempts=3, backoff_s=0.01) is False
    assert len(receiver.requests) == 3
    assert "alert webhook failed: HTTP 500 Internal Server Error (3 attempts)" in caplog.text
    assert_token_never_logged(caplog, capfd)


@pytest.mark.parametrize("status", [400, 404, 302])
def test_other_answers_are_not_retried(status, caplog, capfd):
    with webhook_receiver(status) as receiver:
        assert post_alert(receiver.url, PAYLOAD, attempts=3, backoff_s=0.01) is False
    assert len(receiver.requests) == 1
    assert f"alert webhook failed: HTTP {status}" in caplog.text
    assert_token_never_logged(caplog, capfd)


def test_an_unreachable_webhook_is_retried_then_logged_by_error_class_only(caplog, capfd):
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hooks/{TOKEN}?token={TOKEN}"
    assert post_alert(url, PAYLOAD, attempts=2, backoff_s=0.01) is False
    assert "alert webhook failed: ConnectionError (2 attempts)" in caplog.text
    assert_token_never_logged(caplog, capfd)


def test_a_url_that_is_not_http_is_refused_naming_the_variable_not_the_value(caplog, capfd):
    assert post_alert(f"ftp://example.invalid/{TOKEN}", PAYLOAD) is False
    assert f"alert webhook failed: {ALERT_WEBHOOK_ENV} is not an http(s) URL" in caplog.text
    assert_token_never_logged(caplog, capfd)
