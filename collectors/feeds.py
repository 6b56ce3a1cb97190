"""RSS and Atom feeds: fetched with the polite client, parsed by feedparser from bytes."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser

from collectors.cursors import HarvestRun, Window, take_oldest
from collectors.errors import MalformedResponse
from collectors.http import FETCH_ERRORS, HttpClient, HttpSettings, describe_error
from collectors.lang import guess_lang
from collectors.match import KeywordMatcher
from collectors.post import Harvest, Post, post_text
from collectors.records import RECORD_ERRORS
from collectors.text import clean_text


@dataclass
class FeedSettings:
    url: str
    name: str  # stored as Post.community
    keywords: list[str]
    max_entries: int = 200
    timeout: float = 15.0
    deadline: float | None = None  # seconds for the whole source; jobs/ applies it


_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding=["']([A-Za-z0-9._-]+)["']""")


def _repair_utf8(raw: bytes, content_type: str) -> bytes:
    """Replace invalid sequences in a feed that is (or claims to be) UTF-8.

    Left alone, feedparser re-reads the whole document as windows-1252 and garbles every
    CJK character; feeds declaring another encoding are left to feedparser.
    """
    declared = _XML_ENCODING.match(raw)
    charset = content_type.lower().partition("charset=")[2].strip(" \"';")
    names = {(declared.group(1).decode().lower() if declared else ""), charset}
    if not names <= {"", "utf-8", "utf8"}:
        return raw
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace").encode("utf-8")
    return raw


class MalformedFeed(MalformedResponse):
    """The body is not a feed feedparser can read any entries from."""


def _created(entry: Mapping[str, Any]) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    year, month, day, hour, minute, second = parsed[:6]
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def _body(entry: Mapping[str, Any]) -> str:
    contents = entry.get("content") or []
    html = max((c.get("value") or "" for c in contents), key=len, default="")
    return clean_text(html or entry.get("summary") or "")


def _entry_id(feed_url: str, entry: Mapping[str, Any], title: str, created: datetime) -> str:
    """The entry's guid or link; a guid that is not a URI is qualified by the feed URL."""
    guid = str(entry.get("id") or entry.get("link") or "").strip()
    if not guid:
        digest = hashlib.sha1(f"{title}\n{created.isoformat()}".encode()).hexdigest()[:16]
        return f"{feed_url}#{digest}"
    return guid if ":" in guid else f"{feed_url}#{guid}"


class FeedCollector:
    """One feed, one cursor key (`feed/<url>`). Entries become "post" threads without
    comments; only entries mentioning a keyword are kept (all when there are none).
    Entries without a date are skipped: no cursor could cover them. `revisit` is ignored.
    """

    source = "feed"

    def __init__(self, settings: FeedSettings, client: HttpClient | None = None) -> None:
        self.settings = settings
        self.client = client or HttpClient(HttpSettings(timeout=settings.timeout))
        self.matcher = KeywordMatcher(settings.keywords)

    def harvest(
        self, cursors: Mapping[str, str], since: datetime, revisit: Sequence[str] = ()
    ) -> Iterator[Harvest]:
        key = f"feed/{self.settings.url}"
        window = Window(cursors.get(key), since)
        run = HarvestRun(self.source, key, window, lambda: self.client.requests)
        with run.stop_on(FETCH_ERRORS, describe_error):
            for post in self._entries(window, run):
                window.cover(post.created_utc)
                if self.matcher.matches_any([post.text]):
                    run.keep([post])
        yield run.harvest()

    def _entries(self, window: Window, run: HarvestRun) -> list[Post]:
        """New entries, oldest first, `max_entries` (plus ties); an entry that cannot be
        read is rejected in `run` and the others go on."""
        fetched = self.client.get(self.settings.url)
        headers = {k.lower(): v for k, v in fetched.headers.items()}
        content = _repair_utf8(fetched.content, headers.get("content-type", ""))
        parsed = feedparser.parse(content, response_headers=headers)
        if not parsed.entries and (parsed.get("bozo") or not parsed.get("version")):
            reason = parsed.get("bozo_exception") or "not RSS or Atom"
            raise MalformedFeed(
                f"GET {fetched.url}: not a readable RSS/Atom feed ({reason})",
                fetched.url,
                fetched.status,
            )
        posts = []
        for entry in parsed.entries:
            try:
                created = _created(entry)
                if created is not None and window.is_new(created):
                    posts.append(self._post(entry, created))
            except RECORD_ERRORS as exc:
                run.reject(entry.get("id") or entry.get("link") or entry.get("title"), exc)
        posts.sort(key=lambda p: p.created_utc)
        return take_oldest(posts, self.settings.max_entries, lambda p: p.created_utc)

    def _post(self, entry: Mapping[str, Any], created: datetime) -> Post:
        title = clean_text(entry.get("title")) or None
        body = _body(entry)
        post_id = _entry_id(self.settings.url, entry, title or "", created)
        return Post(
            source=self.source,
            id=post_id,
            thread_id=post_id,
            parent_id=None,
            author=entry.get("author") or None,
            created_utc=created,
            title=title,
            body=body,
            url=entry.get("link") or None,
            community=self.settings.name,
            lang=guess_lang(post_text(title, body)),
            kind="post",
            extra={"feed": self.settings.url},
        )
