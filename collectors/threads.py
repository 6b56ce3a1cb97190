"""The skeleton shared by collectors that search for threads, then fetch each thread hit."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from collectors.cursors import HarvestRun, Window
from collectors.http import FETCH_ERRORS, HttpClient, HttpSettings, describe_error
from collectors.match import KeywordMatcher
from collectors.post import Harvest, Post


class SearchSettings(Protocol):
    """What the base class reads from a subclass's settings."""

    base_url: str
    queries: list[str]
    keywords: list[str]
    timeout: float


S = TypeVar("S", bound=SearchSettings)


class Hit(NamedTuple):
    """A thread hit by a search: its id, the hit's time (which the cursor covers once the
    thread is fetched) and, when the subclass needs it, what the search returned."""

    thread_id: str
    when: datetime
    data: Mapping[str, Any] | None = None


def with_comment_count(posts: list[Post], root_id: str | None = None) -> list[Post]:
    """A fetched thread with its root's `num_comments` set to the comments it holds that
    are not deleted; unchanged when its first post is not the root (`root_id`, if given)."""
    if posts and posts[0].kind == "post" and root_id in (None, posts[0].id):
        comments = sum(1 for p in posts[1:] if p.kind == "comment" and not p.deleted)
        posts[0] = replace(posts[0], num_comments=comments)
    return posts


class ThreadSearchCollector(ABC, Generic[S]):
    """One `Harvest` per query (`_search_key`): the threads hit since the cursor, oldest
    hit first, each fetched whole and kept when any post mentions a keyword (all kept when
    there are no keywords). The cursor is the newest hit covered; a fetch error ends the
    query's harvest with the cursor before the failed thread.

    Thread ids in `revisit` not fetched by a search are then refetched whole, one
    `_thread_key` harvest each, whose cursor is None (nothing to save).

    A record the subclass cannot read (`_reject`) is left out and named in the harvest's
    `rejected`; the rest of its thread and query go on.
    """

    source: str

    def __init__(self, settings: S, client: HttpClient | None = None) -> None:
        self.settings = settings
        self.client = client or HttpClient(HttpSettings(timeout=settings.timeout))
        self.matcher = KeywordMatcher(settings.keywords)
        self.base_url = settings.base_url.rstrip("/")
        self._run = HarvestRun("", "")  # the harvest under way (set by _begin)

    def _reject(self, record_id: object, exc: BaseException) -> None:
        """Leave one unreadable record out, naming it in the current harvest."""
        self._run.reject(record_id, exc)

    def _begin(self, key: str, window: Window | None = None) -> HarvestRun:
        self._run = HarvestRun(self.source, key, window, lambda: self.client.requests)
        return self._run

    @abstractmethod
    def _search_key(self, query: str) -> str:
        """The cursor key of a query's harvest."""

    @abstractmethod
    def _thread_key(self, thread_id: str) -> str:
        """The key of a revisited thread's harvest."""

    @abstractmethod
    def _hits(self, query: str, window: Window) -> list[Hit]:
        """The threads with hits new to the window, oldest hit first."""

    @abstractmethod
    def _thread(self, thread_id: str, hit: Hit | None) -> list[Post]:
        """The thread's posts, parents before children; `hit` is None on a revisit."""

    def _kept(self, thread: list[Post], window: Window) -> list[Post]:
        """The posts of a matching thread to return: all of them."""
        return thread

    def _thread_id(self, revisit_id: str) -> str:
        """The thread a `revisit` id names: itself."""
        return revisit_id

    def _revisit_error(self, exc: Exception) -> str | None:
        """What a failed revisit reports as `Harvest.error`; None when it is no error."""
        return describe_error(exc)

    def harvest(
        self, cursors: Mapping[str, str], since: datetime, revisit: Sequence[str] = ()
    ) -> Iterator[Harvest]:
        fetched: set[str] = set()
        for query in self.settings.queries:
            yield self._search(query, cursors, since, fetched)
        for thread_id in dict.fromkeys(self._thread_id(str(r)) for r in revisit):
            if thread_id not in fetched:
                yield self._revisit(thread_id)

    def _search(
        self, query: str, cursors: Mapping[str, str], since: datetime, fetched: set[str]
    ) -> Harvest:
        key = self._search_key(query)
        window = Window(cursors.get(key), since)
        run = self._begin(key, window)
        with run.stop_on(FETCH_ERRORS, describe_error):
            for hit in self._hits(query, window):
                thread = self._thread(hit.thread_id, hit)
                fetched.add(hit.thread_id)
                if self.matcher.matches_any(p.text for p in thread):
                    run.keep(self._kept(thread, window))
                window.cover(hit.when)
        return run.harvest()

    def _revisit(self, thread_id: str) -> Harvest:
        run = self._begin(self._thread_key(thread_id))
        with run.stop_on(FETCH_ERRORS, self._revisit_error):
            run.keep(self._thread(thread_id, None))
        return run.harvest()
