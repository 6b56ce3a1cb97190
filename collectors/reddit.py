"""Reddit collector: new posts per subreddit and search results, with their comment trees.

One `Harvest` per cursor key: ``r/<subreddit>/new`` and ``search/<query>``, plus ``revisit``
for the comment trees of younger threads. A cursor is the newest ``created_utc`` (ISO-8601
UTC) the key has fully covered; listings are read newest first down to it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests
from praw.models import Comment, Listing, Submission

from collectors.cursors import HarvestRun, Window
from collectors.errors import (
    MalformedResponse,
    RedditCredentialsError,
    RunLimitReached,
    SourceFailed,
    TokenRequestFailed,
)
from collectors.lang import guess_lang
from collectors.match import KeywordMatcher
from collectors.post import Harvest, Post, post_text
from collectors.records import RECORD_ERRORS, parse_time
from collectors.reddit_client import Budget, build_reddit, call_with_retries
from collectors.text import clean_text
from stablewatch.errors import error_line

__all__ = ["RedditCollector", "RedditCredentialsError", "RedditSettings"]

log = logging.getLogger(__name__)

PERMALINK_BASE = "https://www.reddit.com"
DELETED_MARKERS = ("[deleted]", "[removed]")
REVISIT_KEY = "revisit"
T = TypeVar("T")


def _unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        value = value.strip()
        if value:
            seen.setdefault(value.casefold(), value)
    return list(seen.values())


@dataclass
class RedditSettings:
    """Where to look and how hard; credentials come from praw.ini `site` or the environment.

    `limit_per_listing` is the page size (Reddit allows at most 100); pages are read until the
    cursor is reached or the run's `request_budget` is spent. Comment trees are expanded in
    full (`replace_more_limit = None`) within the budget and the deadline; a number bounds
    the "load more comments" requests per thread. `retries` and `max_sleep` bound the
    back-off on 429 and malformed JSON (prawcore retries 5xx and connection errors itself;
    tests set `max_sleep` to 0). `deadline` is this source's wall-clock limit in seconds,
    applied by jobs/ (None: the [collect] default).
    """

    subreddits: list[str]
    queries: list[str]
    keywords: list[str]
    limit_per_listing: int = 100
    replace_more_limit: int | None = None
    request_budget: int = 400
    site: str | None = "stablewatch"
    client_id: str | None = None
    client_secret: str | None = None
    user_agent: str | None = None
    oauth_url: str | None = None
    reddit_url: str | None = None
    timeout: float = 16.0
    retries: int = 2
    max_sleep: float = 60.0
    deadline: float | None = None


def _created(thing: Any) -> datetime:
    return parse_time(vars(thing)["created_utc"])


def _name(value: Any) -> str | None:
    """Author or subreddit name without triggering a fetch (None for deleted authors)."""
    if value is None:
        return None
    if isinstance(value, str):
        name: Any = value
    else:
        data = vars(value)
        name = data.get("name") or data.get("display_name")
    return str(name) if name and str(name) not in DELETED_MARKERS else None


def _strip_kind(fullname: str | None) -> str | None:
    return fullname.split("_", 1)[1] if fullname and "_" in fullname else fullname


class RedditCollector:
    """Collects matching Reddit threads and their comments through praw, read-only."""

    source = "reddit"

    def __init__(self, settings: RedditSettings) -> None:
        self.settings = settings
        self.budget = Budget(settings.request_budget)
        self.http = requests.Session()
        overrides = {
            key: value
            for key in ("client_id", "client_secret", "user_agent", "oauth_url", "reddit_url")
            if (value := getattr(settings, key))
        }
        self.reddit, self.requestor = build_reddit(
            site=settings.site,
            overrides=overrides,
            budget=self.budget,
            http=self.http,
            timeout=settings.timeout,
            max_sleep=settings.max_sleep,
        )
        self.matcher = KeywordMatcher(settings.keywords)
        self._run = HarvestRun(self.source, "")  # the harvest under way (set by _begin)

    def _begin(self, key: str, window: Window | None = None) -> HarvestRun:
        self._run = HarvestRun(self.source, key, window, lambda: self.budget.used)
        return self._run

    def _reject(self, thing: Any, exc: BaseException) -> None:
        """Leave one unreadable submission or comment out, named in the current harvest."""
        self._run.reject(str(vars(thing).get("id")), exc)

    def close(self) -> None:
        """Close the HTTP connections."""
        self.http.close()

    # ----- the run -------------------------------------------------------------------------

    def keys(self) -> list[tuple[str, str, dict[str, str]]]:
        """(cursor key, API path, query parameters) for every listing this run reads."""
        keys: list[tuple[str, str, dict[str, str]]] = [
            (f"r/{s}/new", f"r/{s}/new/", {}) for s in _unique(self.settings.subreddits)
        ]
        keys += [
            (f"search/{q}", "r/all/search/", {"q": q, "sort": "new", "t": "all", "type": "link"})
            for q in _unique(self.settings.queries)
        ]
        return keys

    def harvest(
        self, cursors: Mapping[str, str], since: datetime, revisit: Sequence[str] = ()
    ) -> Iterator[Harvest]:
        """One Harvest per key, then one for `revisit`; a failing key never stops the run.

        Raises `RedditCredentialsError` (before anything is yielded, normally) when Reddit
        rejects the credentials, and `TokenRequestFailed` when its token endpoint keeps
        answering with something unusable: no request of the run could succeed.
        """
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        self.budget.used = 0  # the budget is per run
        self.requestor.unanswered = 0
        fetched: set[str] = set()
        for key, path, params in self.keys():
            yield self._harvest_listing(key, path, params, cursors.get(key), since, fetched)
        if revisit:
            yield self._harvest_revisit(revisit, fetched)

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        return call_with_retries(
            what, fn, retries=self.settings.retries, max_sleep=self.settings.max_sleep,
            requestor=self.requestor,
        )

    # ----- listings -----------------------------------------------------------------------

    def _page(self, path: str, params: dict[str, str]) -> Listing:
        def fetch() -> Listing:
            result = self.reddit.get(path, params={**params})
            if not isinstance(result, Listing):
                raise MalformedResponse(f"expected a listing, got {type(result).__name__}")
            return result

        return self._call(path, fetch)

    def _walk(self, path: str, params: dict[str, str], window: Window) -> Iterator[Submission]:
        """Submissions new to `window`, newest first, following `after` page by page."""
        after: str | None = None
        seen_after: set[str] = set()
        yielded: set[str] = set()  # pages shift when posts arrive mid-walk: skip repeats
        limit = max(1, min(self.settings.limit_per_listing, 100))
        while True:
            page_params = {**params, "limit": str(limit)}
            if after:
                page_params["after"] = after
            listing = self._page(path, page_params)
            for thing in listing.children:
                if not isinstance(thing, Submission) or thing.id in yielded:
                    continue
                try:
                    created = _created(thing)
                except RECORD_ERRORS as exc:  # rejected alone; the listing goes on
                    self._reject(thing, exc)
                    continue
                if not window.is_new(created):
                    return
                yielded.add(thing.id)
                yield thing
            after = listing.after
            if not after or not listing.children or after in seen_after:
                return
            seen_after.add(after)

    def _matches(self, submission: Submission) -> bool:
        """Title or selftext mentions a keyword; with no keywords configured, all match."""
        data = vars(submission)
        text = post_text(clean_text(data.get("title")), clean_text(data.get("selftext")))
        return self.matcher.matches_any([text])

    def _harvest_listing(
        self,
        key: str,
        path: str,
        params: dict[str, str],
        cursor: str | None,
        since: datetime,
        fetched: set[str],
    ) -> Harvest:
        """The key's new submissions, newest first down to the cursor; then the matching
        ones' threads, oldest first. The window covers every submission examined, or after
        a failure those older than the first thread that failed, so nothing is skipped."""
        window = Window(cursor, since)
        run = self._begin(key, window)
        examined: list[datetime] = []
        matched: list[Submission] = []
        try:
            for submission in self._walk(path, params, window):
                examined.append(_created(submission))
                if self._matches(submission):
                    matched.append(submission)
        except (RedditCredentialsError, TokenRequestFailed):
            raise
        except Exception as exc:  # the key fails, the run goes on; nothing is covered
            run.error = _failure(key, exc)
            run.keep(self._submission_post(s) for s in matched)
            return run.harvest()

        matched.sort(key=_created)  # oldest first, so a cut-off still advances the cursor
        failed_at: datetime | None = None
        for index, submission in enumerate(matched):
            try:
                run.keep(self._thread(submission, fetched))
            except (RedditCredentialsError, TokenRequestFailed):
                raise
            except _PartialThread as partial:  # budget or deadline hit while expanding
                run.error = _failure(key, partial.cause)
                failed_at = _created(submission)
                run.keep(partial.posts)
                run.keep(self._submission_post(s) for s in matched[index + 1 :])
                break
            except Exception as exc:
                run.error = _failure(key, exc)
                failed_at = _created(submission)
                run.keep(self._submission_post(s) for s in matched[index:])
                break
        for created in examined:
            if failed_at is None or created < failed_at:
                window.cover(created)
        return run.harvest()

    # ----- threads ------------------------------------------------------------------------

    def _thread(self, listed: Submission, fetched: set[str]) -> list[Post]:
        """The submission and its comments; a thread already fetched this run is not refetched."""
        if listed.id in fetched:
            return [self._submission_post(listed)]
        try:
            return self._fetch_thread(listed.id, fetched)
        except (RedditCredentialsError, RunLimitReached, _PartialThread):
            raise
        except SourceFailed as exc:
            if exc.transient:
                raise
            note = str(exc)
        except Exception as exc:  # one odd thread must not block the cursor run after run
            log.exception("comments of %s could not be read", listed.id)
            note = error_line(exc)
        log.warning("comments of %s unavailable: %s", listed.id, note)
        return [self._submission_post(listed, {"comments_unavailable": note})]

    def _fetch_thread(self, submission_id: str, fetched: set[str]) -> list[Post]:
        def load() -> Submission:
            submission = self.reddit.submission(submission_id)
            submission.comments  # noqa: B018  (the attribute access fetches the thread)
            return submission

        submission = self._call(f"comments/{submission_id}", load)
        extra: dict[str, Any] = {}
        stopped: Exception | None = None
        try:
            left = self._call(
                f"morechildren for {submission_id}",
                lambda: submission.comments.replace_more(limit=self.settings.replace_more_limit),
            )
        except (SourceFailed, RunLimitReached) as exc:
            if isinstance(exc, TokenRequestFailed):
                raise
            log.warning("could not expand all comments of %s: %s", submission_id, exc)
            left = submission.comments.replace_more(limit=0)  # drops the stubs, no request
            extra["comments_incomplete"] = str(exc)
            if isinstance(exc, RunLimitReached) or exc.transient:
                stopped = exc
        fetched.add(submission_id)
        comments = [c for c in submission.comments.list() if isinstance(c, Comment)]
        unexpanded = comments_behind(left, vars(submission).get("num_comments"), len(comments))
        if unexpanded:
            extra["comments_not_expanded"] = unexpanded
        posts = [self._submission_post(submission, extra)]
        for comment in comments:
            try:
                posts.append(self._comment_post(comment, submission))
            except RECORD_ERRORS as exc:  # rejected alone; the rest of the thread is kept
                self._reject(comment, exc)
        if stopped is not None:
            raise _PartialThread(posts, stopped)
        return posts

    def _harvest_revisit(self, ids: Sequence[str], fetched: set[str]) -> Harvest:
        run = self._begin(REVISIT_KEY)
        notes: list[str] = []
        for submission_id in dict.fromkeys(_strip_kind(i) or "" for i in ids):
            if not submission_id or submission_id in fetched:
                continue
            try:
                run.keep(self._fetch_thread(submission_id, fetched))
            except (RedditCredentialsError, TokenRequestFailed):
                raise
            except _PartialThread as partial:
                run.keep(partial.posts)
                run.error = _failure(REVISIT_KEY, partial.cause)
                break
            except SourceFailed as exc:
                if exc.transient:
                    run.error = _failure(REVISIT_KEY, exc)
                    break
                notes.append(str(exc))
            except Exception as exc:
                run.error = _failure(REVISIT_KEY, exc)
                break
        if notes:
            log.warning("revisit skipped %d unavailable threads: %s", len(notes), "; ".join(notes))
        return run.harvest()

    # ----- records ------------------------------------------------------------------------

    def _submission_post(self, submission: Submission, extra: dict[str, Any] | None = None) -> Post:
        data = vars(submission)
        title = clean_text(data.get("title"))
        body = clean_text(data.get("selftext"))
        author = _name(data.get("author"))
        removed = bool(data.get("removed_by_category")) and author is None
        info: dict[str, Any] = {"keywords": self.matcher.found(post_text(title, body))}
        if not data.get("is_self", True) and data.get("url"):
            info["link_url"] = data["url"]
        info.update(extra or {})
        return Post(
            source=self.source,
            id=submission.id,
            thread_id=submission.id,
            parent_id=None,
            author=author,
            created_utc=_created(submission),
            title=title,
            body=body,
            url=_permalink(data.get("permalink")),
            score=data.get("score"),
            num_comments=data.get("num_comments"),
            community=_name(data.get("subreddit")),
            lang=guess_lang(post_text(title, body)),
            kind="post",
            deleted=body in DELETED_MARKERS or removed,
            extra=info,
        )

    def _comment_post(self, comment: Comment, submission: Submission) -> Post:
        data = vars(comment)
        body = clean_text(data.get("body"))
        return Post(
            source=self.source,
            id=comment.id,
            thread_id=submission.id,
            parent_id=_strip_kind(data.get("parent_id")),
            author=_name(data.get("author")),
            created_utc=_created(comment),
            title=None,
            body=body,
            url=_permalink(data.get("permalink")),
            score=data.get("score"),
            community=_name(data.get("subreddit")) or _name(vars(submission).get("subreddit")),
            lang=None if body in DELETED_MARKERS else guess_lang(body),
            kind="comment",
            deleted=body in DELETED_MARKERS,
        )


def _permalink(path: str | None) -> str | None:
    return f"{PERMALINK_BASE}{path}" if path else None


class _PartialThread(Exception):
    """A thread whose expansion stopped (budget, deadline, a failing server): the posts
    fetched so far, and why it stopped."""

    def __init__(self, posts: list[Post], cause: Exception) -> None:
        super().__init__(str(cause))
        self.posts = posts
        self.cause = cause


def comments_behind(stubs: Iterable[Any], total: Any = None, fetched: int = 0) -> int:
    """Comments left behind unexpanded stubs; 0 when none is left.

    A "load more comments" stub carries Reddit's count; a "continue this thread" link
    carries none, so when stubs are left the thread's own comment count (`total`) minus
    the comments `fetched` is taken when it says more (it may include removed comments).
    """
    stubs = list(stubs)
    if not stubs:
        return 0
    counted = sum(max(int(vars(more).get("count") or 0), 1) for more in stubs)
    try:
        return max(counted, int(total) - fetched)
    except (TypeError, ValueError):
        return counted


def _failure(key: str, exc: Exception) -> str:
    if isinstance(exc, SourceFailed | RunLimitReached):
        log.error("reddit %s: %s", key, exc)
        return str(exc)
    log.exception("reddit %s failed unexpectedly", key)
    return error_line(exc)
