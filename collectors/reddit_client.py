"""A read-only praw client with a request budget, a deadline, clear credential errors and
one retry layer per failure: prawcore retries 5xx and connection errors, `call_with_retries`
only what prawcore leaves alone (429, malformed JSON, a failing token request)."""

from __future__ import annotations

import configparser
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeGuard, TypeVar

import praw
import prawcore
import requests
from praw.config import Config
from praw.exceptions import PRAWException
from prawcore.sessions import FiniteRetryStrategy

from collectors import deadline
from collectors.errors import (
    BudgetExhausted,
    HostUnreachable,
    MalformedResponse,
    RedditCredentialsError,
    SourceFailed,
    TokenRequestFailed,
)
from collectors.retry import backoff, retry_after_seconds
from stablewatch.errors import error_line

log = logging.getLogger(__name__)

CREDENTIAL_KEYS = ("client_id", "client_secret", "user_agent")
TOKEN_PATH = "/api/v1/access_token"
T = TypeVar("T")


class Budget:
    """Counts HTTP requests and refuses the one past `limit`."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def spend(self) -> None:
        if self.used >= self.limit:
            raise BudgetExhausted(f"request budget of {self.limit} requests exhausted")
        self.used += 1


# prawcore retries a 5xx or a connection error this many times (3 attempts in all)
PRAWCORE_ATTEMPTS = FiniteRetryStrategy.DEFAULT_RETRIES + 1


class MalformedTokenResponse(MalformedResponse):
    """The token endpoint answered 200 with a body that is not JSON."""


class CountingRequestor(prawcore.Requestor):
    """prawcore requestor that charges every request (token requests too) to a `Budget`,
    applies the configured timeout (shortened to the current deadline) to each, gives up
    Reddit for the run once `dead_host_attempts` attempts in a row went unanswered (one
    URL's prawcore retries and one more), and checks that a token answer is JSON (prawcore
    would raise a bare JSONDecodeError)."""

    def __init__(
        self, *args: Any, budget: Budget, dead_host_attempts: int = PRAWCORE_ATTEMPTS + 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.budget = budget
        self.dead_host_attempts = dead_host_attempts
        self.unanswered = 0  # attempts in a row that got no answer
        self.last_url = ""
        self.streak = 0  # attempts in a row at `last_url` (prawcore's retries)

    def request(  # type: ignore[override]  # prawcore passes method and url first
        self, method: str, url: str, *args: Any, timeout: float | None = None, **kwargs: Any
    ) -> Any:
        what = f"{method.upper()} {url}"
        if self.unanswered >= self.dead_host_attempts:
            raise HostUnreachable(
                f"{what}: Reddit left the last {self.unanswered} attempts unanswered; "
                "not asking again in this run"
            )
        limit = deadline.current()
        # prawcore's Session passes its own 16 s default; the configured timeout wins.
        wait = self.timeout if limit is None else limit.timeout(self.timeout, what)
        self.budget.spend()
        self.streak = self.streak + 1 if url == self.last_url else 1
        self.last_url = url
        try:
            response = super().request(method, url, *args, timeout=wait, **kwargs)
        except prawcore.RequestException:
            self.unanswered += 1
            raise
        self.unanswered = 0
        if _is_token_url(url) and response.status_code == 200:
            _check_json(response, what)
        return response


def _check_json(response: Any, what: str) -> None:
    try:
        json.loads(response.content or b"")
    except ValueError:
        ctype = response.headers.get("content-type", "unknown type")
        start = response.content[:60].decode("utf-8", errors="replace").replace("\n", " ")
        raise MalformedTokenResponse(
            f"token request {what} answered {ctype} that is not JSON; body starts {start!r}"
        ) from None


@dataclass(frozen=True)
class CappedRetry(FiniteRetryStrategy):
    """prawcore's own retry schedule (5xx, connection errors, expired tokens), sleeps capped."""

    max_sleep: float = 60.0

    def _sleep_seconds(self) -> float | None:
        seconds = super()._sleep_seconds()
        return None if seconds is None else min(seconds, self.max_sleep)

    def consume_available_retry(self) -> CappedRetry:
        return type(self)(retries=self.retries - 1, max_sleep=self.max_sleep)


def _is_set(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _site_section(site: str | None) -> str:
    """The praw.ini section to read: `site` (or env praw_site) if it exists, else DEFAULT."""
    for name in (site, os.getenv("praw_site")):  # noqa: SIM112 (praw reads this lower-case name)
        if not name:
            continue
        try:
            Config(name)
            return name
        except configparser.NoSectionError:
            log.info("praw.ini has no [%s] section; using environment variables", name)
    return "DEFAULT"


def credentials_message(missing: list[str], site: str | None) -> str:
    section = site or "stablewatch"
    keys = ", ".join(missing)
    env = ", ".join(f"praw_{k}" for k in missing)
    return (
        f"Reddit credentials missing: {keys}. Either add them to a [{section}] section of "
        f"praw.ini (~/.config/praw.ini or ./praw.ini: client_id, client_secret, user_agent) "
        f"or set the environment variables {env}. See docs/reddit.md."
    )


def build_reddit(
    *,
    site: str | None,
    overrides: dict[str, str],
    budget: Budget,
    http: requests.Session,
    timeout: float,
    max_sleep: float,
) -> tuple[praw.Reddit, CountingRequestor]:
    """A read-only `praw.Reddit`; raises `RedditCredentialsError` before any request."""
    section = _site_section(site)
    config = Config(section, **overrides)
    missing = [key for key in CREDENTIAL_KEYS if not _is_set(getattr(config, key))]
    if missing:
        raise RedditCredentialsError(credentials_message(missing, site))
    if len(str(config.user_agent)) < prawcore.Requestor.MIN_USER_AGENT_LENGTH:
        raise RedditCredentialsError(
            "Reddit user_agent is too short: set praw_user_agent (or user_agent in praw.ini) to "
            "something descriptive, e.g. 'stablewatch/0.1 by u/yourname'. See docs/reddit.md."
        )
    reddit = praw.Reddit(
        site_name=section,
        requestor_class=CountingRequestor,
        requestor_kwargs={"budget": budget, "session": http, "timeout": timeout},
        check_for_updates=False,
        check_for_async=False,
        **overrides,
    )
    reddit.read_only = True
    core = getattr(reddit, "_read_only_core", None)
    if core is not None and hasattr(core, "_retry_strategy_class"):
        core._retry_strategy_class = partial(CappedRetry, max_sleep=max_sleep)
    requestor = getattr(core, "requestor", None)
    if not isinstance(requestor, CountingRequestor):
        raise TypeError("praw did not take the counting requestor; see build_reddit")
    return reddit, requestor


def _status(exc: prawcore.ResponseException) -> int:
    return int(getattr(exc.response, "status_code", 0) or 0)


def _is_token_url(url: str) -> bool:
    return str(url or "").split("?", 1)[0].rstrip("/").endswith(TOKEN_PATH)


def _is_token_response(exc: prawcore.ResponseException) -> bool:
    """True for answers from the token endpoint (the only place credentials are checked)."""
    return _is_token_url(str(getattr(exc.response, "url", "") or ""))


def _rejected_credentials(exc: Exception) -> TypeGuard[prawcore.ResponseException]:
    return (
        isinstance(exc, prawcore.ResponseException)
        and _is_token_response(exc)
        and _status(exc) in (400, 401, 403)
    )


def _retried_here(exc: Exception) -> bool:
    """What this layer retries: only what prawcore does not. prawcore retries 5xx and
    connection errors of API requests itself, but not 429, malformed JSON, or a token
    request that fails with a 5xx (raised while it prepares the request's headers)."""
    if isinstance(exc, prawcore.ResponseException):
        status = _status(exc)
        if isinstance(exc, prawcore.BadJSON) or status == 429:
            return True
        return status >= 500 and _is_token_response(exc)
    return isinstance(exc, MalformedResponse)


def _transient(exc: Exception) -> bool:
    """A failure that may pass on a later run (the key's cursor must not move past it)."""
    if isinstance(exc, prawcore.ResponseException):
        status = _status(exc)
        return isinstance(exc, prawcore.BadJSON) or status == 429 or status >= 500
    return isinstance(exc, prawcore.RequestException | MalformedResponse)


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    return retry_after_seconds(response.headers.get("retry-after") if response is not None
                               else None)


def describe(exc: BaseException) -> str:
    """A one-line description of a failure, naming the HTTP status when there is one."""
    if isinstance(exc, prawcore.ResponseException):
        return f"{type(exc).__name__} (HTTP {_status(exc)})"
    if isinstance(exc, prawcore.RequestException):
        return f"{type(exc.original_exception).__name__}: {exc.original_exception}"
    return error_line(exc)


def call_with_retries(
    what: str,
    fn: Callable[[], T],
    *,
    retries: int,
    max_sleep: float,
    requestor: CountingRequestor | None = None,
) -> T:
    """Run `fn`, retrying 429 and malformed JSON (and a token request's 5xx) with capped
    back-off; 5xx and connection errors were already retried by prawcore.

    Raises `RedditCredentialsError` when the token endpoint rejects the credentials,
    `TokenRequestFailed` when it keeps failing otherwise, `BudgetExhausted` and
    `DeadlineExceeded` as they are, and `SourceFailed` once retries run out or the error is
    final. The message counts every attempt at the failing URL, prawcore's included.
    """
    attempt = 0
    if requestor is not None:
        requestor.last_url, requestor.streak = "", 0  # count this call's attempts only
    while True:
        try:
            return fn()
        except prawcore.OAuthException as exc:
            raise RedditCredentialsError(
                f"Reddit rejected the credentials ({exc}); check client_id and client_secret "
                "in praw.ini or praw_client_id / praw_client_secret. See docs/reddit.md."
            ) from None
        except (prawcore.PrawcoreException, PRAWException, MalformedResponse) as exc:
            if _rejected_credentials(exc):
                raise RedditCredentialsError(
                    f"Reddit rejected the credentials (HTTP {_status(exc)} from the token "
                    "endpoint); check client_id and client_secret in praw.ini or "
                    "praw_client_id / praw_client_secret. See docs/reddit.md."
                ) from None
            tries = requestor.streak if requestor is not None else attempt + 1
            token = isinstance(exc, MalformedTokenResponse) or (
                isinstance(exc, prawcore.ResponseException) and _is_token_response(exc))
            if not _retried_here(exc) or attempt >= retries:
                transient = _transient(exc)
                counted = f" after {tries} attempts" if tries > 1 else ""
                if token and transient:
                    detail = str(exc) if isinstance(exc, MalformedTokenResponse) else (
                        f"token request answered {describe(exc)}")
                    raise TokenRequestFailed(f"Reddit {detail}{counted}") from None
                raise SourceFailed(f"{what}: {describe(exc)}{counted}",
                                   transient=transient) from exc
            delay = _retry_after(exc)
            if delay is None:
                delay = backoff(attempt, 2.0, max_sleep)
            delay = min(delay, max_sleep)
            limit = deadline.current()
            if limit is not None:
                limit.check_wait(delay, f"{what}: {describe(exc)}")
            log.warning("%s: %s; retrying in %.1f s", what, describe(exc), delay)
            time.sleep(delay)
            attempt += 1
