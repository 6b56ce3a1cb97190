"""A loopback Reddit for tests: the real praw talks HTTP to it on 127.0.0.1.

It serves the OAuth token endpoint, paginated listings (``limit`` / ``after``), comment
threads, ``/api/morechildren``, recorded cassette responses, and injected faults.

Like praw's own cassette tests, a test that leaves a recorded interaction unplayed fails:
`running()` raises `UnusedRecordings` when its block ends without an error.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reddit"
TOKEN = "loopback-token"
_HOP_HEADERS = {"content-length", "transfer-encoding", "connection", "keep-alive"}


@dataclass
class Reply:
    """One canned HTTP answer; `delay` holds it back (for timeouts)."""

    status: int = 200
    body: bytes | str | dict | list = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


@dataclass
class Seen:
    """A request the server received."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    headers: dict[str, str]


class UnusedRecordings(AssertionError):
    """Recorded interactions the code under test never asked for."""


def _norm(path: str) -> str:
    return "/" + path.strip("/").lower()


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def empty_listing() -> dict[str, Any]:
    return {"kind": "Listing", "data": {"after": None, "before": None, "dist": 0, "children": []}}


class FakeReddit:
    """State and routing of the loopback Reddit; use `running()` to serve it."""

    def __init__(self) -> None:
        self.listings: dict[str, list[dict[str, Any]]] = {}
        self.threads: dict[str, list[Any]] = {}
        self.more: dict[str, list[dict[str, Any]]] = {}
        self.recorded: dict[tuple[str, str], Reply] = {}
        self.played: set[tuple[str, str]] = set()  # recorded interactions served
        self.faults: list[tuple[re.Pattern[str], deque[Reply]]] = []
        self.credentials: tuple[str, str] | None = None
        self.handlers: list[Callable[[Seen], Reply | None]] = []  # tried before the routes
        self.seen: list[Seen] = []
        self.url = ""
        self._lock = threading.Lock()

    # ----- content ------------------------------------------------------------------------

    def add_listing(self, path: str, listing: dict[str, Any], *, q: str | None = None) -> None:
        """Serve `listing`'s children at `path` (and search query `q`) page by page."""
        self.listings[_norm(path) + (f"?q={q}" if q else "")] = list(listing["data"]["children"])

    def add_thread(self, thread: list[Any]) -> None:
        """Serve a ``/comments/<id>`` answer: [submission listing, comment listing]."""
        self.threads[thread[0]["data"]["children"][0]["data"]["id"]] = thread

    def add_more(self, link_id: str, things: list[dict[str, Any]]) -> None:
        """Comments (and nested `more` stubs) that ``/api/morechildren`` can return."""
        self.more[link_id] = things

    def add_recorded(self, method: str, path: str, reply: Reply) -> None:
        """Serve `reply` for `method` `path`; the test fails unless it is asked for."""
        key = (method.upper(), _norm(path))
        if key in self.recorded:
            raise ValueError(f"{method} {path} is recorded twice; only one reply can be served")
        self.recorded[key] = reply

    def unplayed(self) -> list[str]:
        """Recorded interactions nobody asked for, as "METHOD /path"."""
        return [f"{m} {p}" for m, p in sorted(self.recorded) if (m, p) not in self.played]

    def fail(self, pattern: str, *replies: Reply) -> None:
        """Answer the next requests whose path matches `pattern` with `replies`, in order."""
        self.faults.append((re.compile(pattern, re.IGNORECASE), deque(replies)))

    def requests_to(self, pattern: str) -> list[Seen]:
        regex = re.compile(pattern, re.IGNORECASE)
        return [s for s in self.seen if regex.search(s.path)]

    # ----- routing ------------------------------------------------------------------------

    def answer(self, seen: Seen) -> Reply:
        with self._lock:
            self.seen.append(seen)
            for pattern, replies in self.faults:
                if replies and pattern.search(seen.path):
                    return replies.popleft()
        path = _norm(seen.path)
        if path == "/api/v1/access_token" and (seen.method, path) not in self.recorded:
            return self._token(seen)
        bearer = seen.headers.get("authorization", "").lower().startswith("bearer ")
        if path != "/api/v1/access_token" and not bearer:
            return Reply(401, {"message": "Unauthorized", "error": 401})
        recorded = self.recorded.get((seen.method, path))
        if recorded is not None:
            with self._lock:
                self.played.add((seen.method, path))
            if "after" in seen.query:  # the recording ends with its first page
                return Reply(200, empty_listing())
            return recorded
        for handler in self.handlers:
            if (reply := handler(seen)) is not None:
                return reply
        if seen.method == "POST" and path == "/api/morechildren":
            return self._morechildren(seen.form)
        if match := re.fullmatch(r"/comments/([a-z0-9]+)", path):
            thread = self.threads.get(match.group(1))
            if thread is not None:
                return Reply(200, thread)
        key = path + (f"?q={seen.query['q']}" if "q" in seen.query else "")
        if key in self.listings:
            return self._page(self.listings[key], seen.query)
        return Reply(404, {"message": "Not Found", "error": 404})

    def _token(self, seen: Seen) -> Reply:
        if self.credentials is not None:
            expected = base64.b64encode(":".join(self.credentials).encode()).decode()
            if seen.headers.get("authorization") != f"Basic {expected}":
                return Reply(401, {"message": "Unauthorized", "error": 401})
        return Reply(
            200,
            {"access_token": TOKEN, "token_type": "bearer", "expires_in": 86400, "scope": "*"},
        )

    @staticmethod
    def _page(children: list[dict[str, Any]], query: dict[str, str]) -> Reply:
        limit = min(int(query.get("limit", 25)), 100)
        start = 0
        if after := query.get("after"):
            names = [c["data"]["name"] for c in children]
            start = names.index(after) + 1 if after in names else len(children)
        page = children[start : start + limit]
        more = start + limit < len(children)
        data = {
            "after": page[-1]["data"]["name"] if page and more else None,
            "before": None,
            "dist": len(page),
            "children": page,
        }
        return Reply(200, {"kind": "Listing", "data": data})

    def _morechildren(self, form: dict[str, str]) -> Reply:
        wanted = set(form.get("children", "").split(","))
        pool = self.more.get(form.get("link_id", "").removeprefix("t3_"), [])
        things = [t for t in pool if t["kind"] == "t1" and t["data"]["id"] in wanted]
        returned = {f"t1_{t['data']['id']}" for t in things}
        things += [t for t in pool if t["kind"] == "more" and t["data"]["parent_id"] in returned]
        return Reply(200, {"json": {"errors": [], "data": {"things": things}}})

    # ----- serving ------------------------------------------------------------------------

    @contextmanager
    def running(self) -> Iterator[FakeReddit]:
        """Serve on 127.0.0.1 for the block; raise `UnusedRecordings` after a block that
        succeeded but left recorded interactions unplayed."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
        if unused := self.unplayed():
            raise UnusedRecordings(f"recorded interactions never requested: {', '.join(unused)}")


def _handler(fake: FakeReddit) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        wbufsize = 1 << 16  # headers and body leave in one write; flushed after each request

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            seen = Seen(
                method=self.command,
                path=parts.path,
                query=dict(parse_qsl(parts.query)),
                form=dict(parse_qsl(raw)),
                headers={k.lower(): v for k, v in self.headers.items()},
            )
            reply = fake.answer(seen)
            if reply.delay:
                time.sleep(reply.delay)
            body = reply.payload()
            try:
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json; charset=UTF-8", **reply.headers}
                for name, value in headers.items():
                    if name.lower() not in _HOP_HEADERS:
                        self.send_header(name, value)
                if seen.headers.get("connection", "").lower() == "close":
                    self.send_header("Connection", "close")  # so the client won't reuse it
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout tests)

        do_GET = do_POST = _serve  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return Handler


def load_cassette(path: Path) -> list[tuple[str, str, dict[str, str], Reply]]:
    """(method, path, query, reply) for each interaction of a betamax cassette."""
    data = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for interaction in data["interactions"]:
        request, response = interaction["request"], interaction["response"]
        body = response["body"]
        if "base64_string" in body:
            payload = base64.b64decode(body["base64_string"])
        else:
            payload = body.get("string", "").encode()
        headers = {
            name: values[0] if isinstance(values, list) else values
            for name, values in response["headers"].items()
            if name.lower() not in _HOP_HEADERS
        }
        parts = urlsplit(request["uri"])
        reply = Reply(int(response["status"]["code"]), payload, headers)
        out.append((request["method"], parts.path, dict(parse_qsl(parts.query)), reply))
    return out


def fixture_reddit() -> FakeReddit:
    """A FakeReddit loaded with every fixture under tests/fixtures/reddit."""
    fake = FakeReddit()
    manifest = load_fixture("manifest.json")
    for entry in manifest["listings"]:
        fake.add_listing(entry["path"], load_fixture(entry["file"]), q=entry.get("q"))
    for name in manifest["threads"]:
        fake.add_thread(load_fixture(name))
    for link_id, name in manifest["morechildren"].items():
        fake.add_more(link_id, load_fixture(name))
    return fake


KEYWORDS = ["offshore yuan", "digital yuan", "数字人民币", "yuan stablecoin", "HKMA"]


def settings_for(fake: Any, **overrides: Any) -> Any:
    """RedditSettings pointed at `fake` (a FakeReddit, or any loopback server with a `url`),
    with explicit credentials and no back-off sleeps."""
    from collectors.reddit import RedditSettings

    values: dict[str, Any] = {
        "subreddits": ["China"],
        "queries": [],
        "keywords": KEYWORDS,
        "limit_per_listing": 2,
        "site": None,
        "client_id": "loopback-id",
        "client_secret": "loopback-secret",
        "user_agent": "stablewatch-tests/0.1",
        "oauth_url": fake.url,
        "reddit_url": fake.url,
        "max_sleep": 0.0,
        **overrides,
    }
    return RedditSettings(**values)
