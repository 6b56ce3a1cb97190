"""A small, polite HTTP client: identifies itself, paces and retries, bounds sizes and time."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from collectors import deadline
from collectors.errors import (
    HttpError,
    HttpStatusError,
    MalformedResponse,
    ResponseTooLarge,
    RunLimitReached,
)
from collectors.retry import backoff, retry_after_seconds
from stablewatch.errors import error_line

USER_AGENT = (
    "stablewatch/0.1 (daily sentiment monitor for stablecoin discussions; "
    "read-only, low volume; +https://github.com/stablewatch/stablewatch)"
)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 520, 521, 522, 523, 524})

# Tests set this (or pass `sleep=` to HttpClient) to a no-op or a recorder.
sleep: Callable[[float], None] = time.sleep


@dataclass
class HttpSettings:
    user_agent: str = USER_AGENT
    timeout: float = 15.0  # connect and per-read timeout, seconds
    total_timeout: float = 60.0  # wall-clock limit for reading one body
    max_retries: int = 4  # retries after the first attempt
    backoff_base: float = 1.0  # first retry waits this long, then doubles
    backoff_max: float = 60.0
    max_retry_after: float = 300.0  # a longer Retry-After is an error, not a wait
    max_bytes: int = 5 * 1024 * 1024
    min_interval: float = 0.5  # pause between consecutive requests
    # A host whose attempts go unanswered (connection failures, timeouts) for one URL's
    # whole retry schedule and then once more (the next URL) is given up for the run.
    give_up_dead_hosts: bool = True
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes

    @property
    def text(self) -> str:
        """The body as UTF-8, invalid sequences replaced."""
        return self.content.decode("utf-8", errors="replace")


class _Retryable(Exception):
    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.wait = wait


class HttpClient:
    """GET with a descriptive User-Agent, pacing, bounded retries and bounded bodies.

    Retries 429 (honouring Retry-After), 5xx, timeouts and connection errors with
    exponential backoff; other 4xx fail at once. `requests` counts attempts made.
    Within a `collectors.deadline` scope no request or sleep runs past the deadline; a host
    that leaves a URL's whole retry schedule and one more attempt unanswered is not asked
    again this run (a slow URL among answering ones does not trip this).
    """

    def __init__(
        self,
        settings: HttpSettings | None = None,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.settings = settings or HttpSettings()
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = self.settings.user_agent
        self.session.headers.update(self.settings.headers)
        self._sleep = sleep
        self._last_request: float | None = None
        self._unanswered = 0  # attempts in a row without an answer
        self.requests = 0

    def _pause(self, seconds: float, what: str = "") -> None:
        if seconds > 0:
            limit = deadline.current()
            if limit is not None:
                limit.check_wait(seconds, what)
            (self._sleep or sleep)(seconds)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str, params: Mapping[str, Any] | None = None) -> Fetched:
        """Fetch `url`; raise HttpError (or a subclass) once retries are spent."""
        s = self.settings
        attempts = s.max_retries + 1
        reason = ""
        for attempt in range(attempts):
            try:
                return self._attempt(url, params)
            except _Retryable as exc:
                reason = str(exc)
                if attempt + 1 >= attempts:
                    break
                wait = backoff(attempt, s.backoff_base, s.backoff_max)
                if exc.wait is not None:
                    if exc.wait > s.max_retry_after:
                        raise HttpStatusError(
                            f"GET {url}: {reason}; server asked to wait {exc.wait:.0f} s, "
                            f"more than the {s.max_retry_after:.0f} s allowed",
                            url,
                            429,
                        ) from None
                    wait = max(wait, exc.wait)
                self._pause(wait, f"GET {url}: {reason}")
        raise HttpError(f"GET {url}: {reason} (gave up after {attempts} attempts)", url)

    def get_json(self, url: str, params: Mapping[str, Any] | None = None) -> Any:
        """Fetch and decode JSON; invalid UTF-8 is replaced, invalid JSON is MalformedResponse."""
        fetched = self.get(url, params)
        try:
            return json.loads(fetched.text)
        except ValueError as exc:
            ctype = fetched.headers.get("Content-Type", "unknown type")
            snippet = fetched.text[:80].replace("\n", " ")
            raise MalformedResponse(
                f"GET {fetched.url}: expected JSON, got {ctype} that does not parse ({exc}); "
                f"body starts {snippet!r}",
                fetched.url,
                fetched.status,
            ) from None

    def _attempt(self, url: str, params: Mapping[str, Any] | None) -> Fetched:
        s = self.settings
        if s.give_up_dead_hosts and self._unanswered >= s.max_retries + 2:
            raise HttpError(
                f"GET {url}: {urlsplit(url).netloc} left the last {self._unanswered} attempts "
                "unanswered; not asking it again in this run",
                url,
            )
        if self._last_request is not None:
            self._pause(s.min_interval - (time.monotonic() - self._last_request), f"GET {url}")
        limit = deadline.current()
        timeout = s.timeout if limit is None else limit.timeout(s.timeout, f"GET {url}")
        self._last_request = time.monotonic()
        self.requests += 1
        try:
            resp = self.session.get(url, params=params, timeout=timeout, stream=True)
        except (requests.ConnectionError, requests.Timeout) as exc:
            self._unanswered += 1
            raise _Retryable(f"connection failed ({type(exc).__name__})") from None
        self._unanswered = 0
        with resp:
            if resp.status_code in RETRY_STATUSES:
                wait = retry_after_seconds(resp.headers.get("Retry-After"))
                raise _Retryable(f"HTTP {resp.status_code}", wait)
            if resp.status_code >= 400:
                raise HttpStatusError(
                    f"GET {resp.url}: HTTP {resp.status_code} {resp.reason or ''}".rstrip(),
                    resp.url,
                    resp.status_code,
                )
            content = self._read(resp)
            return Fetched(resp.url, resp.status_code, resp.headers, content)

    def _read(self, resp: requests.Response) -> bytes:
        s = self.settings
        too_large = ResponseTooLarge(
            f"GET {resp.url}: response larger than {s.max_bytes} bytes; stopped reading",
            resp.url,
            resp.status_code,
        )
        declared = resp.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > s.max_bytes:
            raise too_large
        body_deadline = time.monotonic() + s.total_timeout
        limit = deadline.current()
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in resp.iter_content(chunk_size=64 * 1024):
                size += len(chunk)
                if size > s.max_bytes:
                    raise too_large
                if limit is not None:
                    limit.check(f"GET {resp.url}")
                if time.monotonic() > body_deadline:
                    raise _Retryable(f"body took longer than {s.total_timeout:g} s")
                chunks.append(chunk)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _Retryable(f"connection failed while reading ({type(exc).__name__})") from None
        except requests.exceptions.ChunkedEncodingError:
            raise _Retryable("connection broke while reading") from None
        return b"".join(chunks)


# Errors a collector turns into `Harvest.error`: HTTP failures, the deadline, and JSON of
# the wrong shape.
FETCH_ERRORS: tuple[type[Exception], ...] = (
    HttpError,
    RunLimitReached,
    KeyError,
    IndexError,
    TypeError,
    ValueError,
    AttributeError,
)


def describe_error(exc: Exception) -> str:
    """A one-line message for `Harvest.error`."""
    if isinstance(exc, HttpError | RunLimitReached):
        return str(exc)
    return f"unexpected response shape: {error_line(exc)}"
