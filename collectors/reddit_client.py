"""A read-only praw client with a request budget, clear credential errors and bounded retries."""

from __future__ import annotations

import configparser
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import praw
import prawcore
import requests
from praw.config import Config
from praw.exceptions import PRAWException
from prawcore.sessions import FiniteRetryStrategy

from collectors.errors import (
    BudgetExhausted,
    MalformedResponse,
    RedditCredentialsError,
    SourceFailed,
)

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


class CountingRequestor(prawcore.Requestor):
    """prawcore requestor that charges every request (token requests too) to a `Budget`
    and applies the configured timeout to each of them."""

    def __init__(self, *args: Any, budget: Budget, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget = budget

    def request(self, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        # prawcore's Session passes its own 16 s default; the configured timeout wins.
        self.budget.spend()
        return super().request(*args, timeout=self.timeout, **kwargs)


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
) -> praw.Reddit:
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
    return reddit


def _status(exc: prawcore.ResponseException) -> int:
    return int(getattr(exc.response, "status_code", 0) or 0)


def _is_token_response(exc: prawcore.ResponseException) -> bool:
    """True for answers from the token endpoint (the only place credentials are checked)."""
    url = str(getattr(exc.response, "url", "") or "")
    return url.split("?", 1)[0].rstrip("/").endswith(TOKEN_PATH)


def _rejected_credentials(exc: Exception) -> bool:
    return (
        isinstance(exc, prawcore.ResponseException)
        and _is_token_response(exc)
        and _status(exc) in (400, 401, 403)
    )


def _transient(exc: Exception) -> bool:
    if isinstance(exc, prawcore.ResponseException):
        status = _status(exc)
        return isinstance(exc, prawcore.BadJSON) or status == 429 or status >= 500
    return isinstance(exc, prawcore.RequestException | MalformedResponse)


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def describe(exc: BaseException) -> str:
    """A one-line description of a failure, naming the HTTP status when there is one."""
    if isinstance(exc, prawcore.ResponseException):
        return f"{type(exc).__name__} (HTTP {_status(exc)})"
    if isinstance(exc, prawcore.RequestException):
        return f"{type(exc.original_exception).__name__}: {exc.original_exception}"
    return f"{type(exc).__name__}: {exc}"


def call_with_retries(
    what: str,
    fn: Callable[[], T],
    *,
    retries: int,
    max_sleep: float,
) -> T:
    """Run `fn`, retrying 429, 5xx, timeouts and bad JSON with capped back-off.

    Raises `RedditCredentialsError` when the token endpoint rejects the credentials,
    `BudgetExhausted` as is, and `SourceFailed` once retries run out or the error is final.
    """
    attempt = 0
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
            transient = _transient(exc)
            if not transient or attempt >= retries:
                tries = f" after {attempt + 1} attempts" if transient else ""
                raise SourceFailed(f"{what}: {describe(exc)}{tries}", transient=transient) from exc
            delay = _retry_after(exc)
            if delay is None:
                delay = 2.0 * 2**attempt
            delay = min(delay, max_sleep)
            log.warning("%s: %s; retrying in %.1f s", what, describe(exc), delay)
            time.sleep(delay)
            attempt += 1
