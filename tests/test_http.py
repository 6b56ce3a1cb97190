"""The polite HTTP client against a loopback server."""

from __future__ import annotations

import email.utils
import socket
import time

import pytest
from loopback import Loopback, Reply, fast_client

import collectors.http as http
from collectors.http import (
    USER_AGENT,
    HttpClient,
    HttpError,
    HttpSettings,
    HttpStatusError,
    MalformedResponse,
    ResponseTooLarge,
)


@pytest.fixture
def server():
    with Loopback() as s:
        yield s


def test_sends_user_agent_and_decodes_json(server):
    server.route("/api", Reply({"ok": True, "items": [1, 2]}))
    client = fast_client()
    assert client.get_json(f"{server.url}/api", {"q": "digital yuan"}) == {
        "ok": True,
        "items": [1, 2],
    }
    (request,) = server.hits("/api")
    assert request.headers["User-Agent"] == USER_AGENT
    assert "stablewatch" in USER_AGENT
    assert request.arg("q") == "digital yuan"
    assert client.requests == 1


def test_429_honours_retry_after_then_succeeds(server):
    server.route(
        "/api",
        Reply({"error": "slow down"}, status=429, headers={"Retry-After": "7"}),
        Reply({"ok": True}),
    )
    slept: list[float] = []
    client = fast_client(slept)
    assert client.get_json(f"{server.url}/api") == {"ok": True}
    assert slept == [7.0]  # Retry-After beats the 1 s backoff
    assert len(server.hits("/api")) == 2


def test_retry_after_beyond_limit_is_an_error_not_a_wait(server):
    server.route("/api", Reply(b"", status=429, headers={"Retry-After": "3600"}))
    slept: list[float] = []
    with pytest.raises(HttpStatusError, match="wait 3600 s") as info:
        fast_client(slept).get(f"{server.url}/api")
    assert info.value.status == 429
    assert slept == []
    assert len(server.hits("/api")) == 1


def test_5xx_storm_backs_off_exponentially_then_gives_up(server):
    server.route("/api", Reply(b"busy", status=503))
    slept: list[float] = []
    client = fast_client(slept, max_retries=3)
    with pytest.raises(HttpError, match=r"HTTP 503 \(gave up after 4 attempts\)"):
        client.get(f"{server.url}/api")
    assert slept == [1.0, 2.0, 4.0]
    assert len(server.hits("/api")) == 4
    assert client.requests == 4


def test_other_4xx_fails_at_once(server):
    server.route("/gone", Reply({"error": "no such item"}, status=404))
    with pytest.raises(HttpStatusError, match="HTTP 404") as info:
        fast_client().get(f"{server.url}/gone")
    assert info.value.status == 404
    assert len(server.hits("/gone")) == 1


def test_dropped_connection_is_retried(server):
    server.route("/api", Reply(drop=True), Reply({"ok": 1}))
    slept: list[float] = []
    assert fast_client(slept).get_json(f"{server.url}/api") == {"ok": 1}
    assert slept == [1.0]


def test_refused_connection_ends_in_clear_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(HttpError, match="connection failed.*gave up after 3 attempts"):
        fast_client(max_retries=2).get(f"http://127.0.0.1:{port}/api")


def test_malformed_json_raises_malformed_response(server):
    server.route("/api", Reply("<html><body>Maintenance</body></html>", content_type="text/html"))
    with pytest.raises(MalformedResponse, match="expected JSON, got text/html") as info:
        fast_client().get_json(f"{server.url}/api")
    assert "Maintenance" in str(info.value)
    assert len(server.hits("/api")) == 1  # not retried


def test_truncated_json_raises_malformed_response(server):
    server.route("/api", Reply(b'{"hits": [{"objectID": "1"', content_type="application/json"))
    with pytest.raises(MalformedResponse):
        fast_client().get_json(f"{server.url}/api")


def test_streamed_body_over_the_limit_stops_with_error(server):
    server.route("/big", Reply(stream_bytes=6 * 1024 * 1024))
    client = fast_client()
    assert client.settings.max_bytes == 5 * 1024 * 1024
    with pytest.raises(ResponseTooLarge, match="larger than 5242880 bytes"):
        client.get(f"{server.url}/big")
    assert len(server.hits("/big")) == 1


def test_declared_length_over_the_limit_fails_before_reading(server):
    server.route("/big", Reply(b"y" * 2000))
    with pytest.raises(ResponseTooLarge, match="larger than 1000 bytes"):
        fast_client(max_bytes=1000).get(f"{server.url}/big")


def test_invalid_utf8_is_replaced_not_fatal(server):
    server.route(
        "/api", Reply(b'{"text": "caf\xe9 \xff stablecoin"}', content_type="application/json")
    )
    assert fast_client().get_json(f"{server.url}/api") == {"text": "caf\ufffd \ufffd stablecoin"}


def test_min_interval_paces_consecutive_requests(server):
    server.route("/api", Reply({"ok": True}))
    slept: list[float] = []
    client = fast_client(slept, min_interval=0.5)
    client.get(f"{server.url}/api")
    client.get(f"{server.url}/api")
    assert len(slept) == 1 and 0 < slept[0] <= 0.5


def test_module_level_sleep_is_used_by_default(server, monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(http, "sleep", slept.append)
    server.route("/api", Reply(status=502), Reply({"ok": True}))
    client = HttpClient(HttpSettings(min_interval=0.0, backoff_base=2.0))
    assert client.get_json(f"{server.url}/api") == {"ok": True}
    assert slept == [2.0]


def test_retry_after_as_http_date_is_honoured(server):
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    server.route("/api", Reply(status=503, headers={"Retry-After": when}), Reply({"ok": True}))
    slept: list[float] = []
    assert fast_client(slept).get_json(f"{server.url}/api") == {"ok": True}
    assert len(slept) == 1 and 17 <= slept[0] <= 20


def test_unanswered_request_times_out_and_is_retried(server):
    server.route("/slow", Reply({"late": True}, delay=1.0), Reply({"ok": True}))
    client = fast_client(timeout=0.2)
    assert client.get_json(f"{server.url}/slow") == {"ok": True}
    assert client.requests == 2


def test_slow_dripping_body_hits_the_total_timeout(server):
    server.route("/drip", Reply(stream_bytes=64 * 1024 * 20, drip=0.05))
    client = fast_client(total_timeout=0.3, max_retries=1)
    with pytest.raises(HttpError, match=r"took longer than 0.3 s \(gave up after 2 attempts\)"):
        client.get(f"{server.url}/drip")
