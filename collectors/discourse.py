"""Discourse forums through their public JSON endpoints (search, then whole topics)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from collectors.cursors import Window, take_oldest
from collectors.errors import HttpStatusError
from collectors.http import HttpClient
from collectors.lang import guess_lang
from collectors.post import Post, post_text
from collectors.records import RECORD_ERRORS, parse_time
from collectors.text import clean_text
from collectors.threads import Hit, ThreadSearchCollector, with_comment_count

_SHOWN_POST_TYPES = {1, 2}  # regular and moderator posts; not small actions or whispers
_POSTS_PER_REQUEST = 20
_QUOTE = re.compile(r'(?is)<aside[^>]*class="[^"]*\bquote\b[^>]*>.*?</aside>')  # quoted text


@dataclass
class DiscourseSettings:
    base_url: str  # e.g. https://ethresear.ch
    name: str  # the forum's name, stored as Post.community and used in cursor keys
    queries: list[str]
    keywords: list[str]
    max_topics: int = 30  # per query and run; the rest wait for the next run
    max_search_pages: int = 5
    timeout: float = 15.0
    deadline: float | None = None  # seconds for the whole source; jobs/ applies it


def _created(value: Any) -> datetime:
    return parse_time(value)


def _likes(post: Mapping[str, Any]) -> int | None:
    if post.get("like_count") is not None:
        return int(post["like_count"])
    for action in post.get("actions_summary") or []:
        if action.get("id") == 2:  # the "like" post action
            return int(action.get("count") or 0)
    return None


class DiscourseCollector(ThreadSearchCollector[DiscourseSettings]):
    """Searches each query (`discourse/<name>/<query>`) newest first and fetches the topics hit.

    `source` is "discourse:<host>" so ids never collide between forums; `community` is the
    forum name. A topic's root post has id "<topic_id>" (also its `thread_id`); replies
    have id "<topic_id>/<post_number>".

    The cursor is the newest search hit covered: only topics with hits after it are
    fetched. A fetched topic is kept when any post mentions a keyword, and then returned
    whole from `since` on (so a root or parent that never matched the query is not lost;
    re-returned posts are idempotent upserts). Topic ids in `revisit` are refetched whole
    as `discourse/<name>/thread/<topic_id>` harvests with cursor None.
    """

    def __init__(self, settings: DiscourseSettings, client: HttpClient | None = None) -> None:
        super().__init__(settings, client)
        self.source = f"discourse:{urlsplit(self.base_url).hostname or self.base_url}"

    def _search_key(self, query: str) -> str:
        return f"discourse/{self.settings.name}/{query}"

    def _thread_key(self, thread_id: str) -> str:
        return f"discourse/{self.settings.name}/thread/{thread_id}"

    def _thread_id(self, revisit_id: str) -> str:
        return revisit_id.split("/")[0]  # a reply's id is "<topic_id>/<post_number>"

    def _kept(self, thread: list[Post], window: Window) -> list[Post]:
        since = window.since
        return thread if since is None else [p for p in thread if p.created_utc >= since]

    def _hits(self, query: str, window: Window) -> list[Hit]:
        """Topics with search hits newer than the cursor, each with its newest such hit,
        oldest first and at most `max_topics` (plus ties), so the cursor can advance
        topic by topic without passing the ones left for the next run."""
        bound = window.start
        after = (bound - timedelta(days=1)).date().isoformat()
        latest: dict[str, datetime] = {}
        for page in range(1, self.settings.max_search_pages + 1):
            data = self.client.get_json(
                f"{self.base_url}/search.json",
                {"q": f"{query} order:latest after:{after}", "page": page},
            )
            hits = []
            for hit in data.get("posts") or []:
                try:
                    when, topic = _created(hit["created_at"]), str(hit["topic_id"])
                except RECORD_ERRORS as exc:  # one unreadable hit is left out, not the query
                    self._reject(hit.get("id") if isinstance(hit, Mapping) else None, exc)
                    continue
                if window.is_new(when):
                    hits.append(hit)
                    latest[topic] = max(when, latest.get(topic, when))
            more = (data.get("grouped_search_result") or {}).get("more_full_page_results")
            if not hits or not more:
                break
        topics = [Hit(topic, when) for topic, when in latest.items()]
        ordered = sorted(topics, key=lambda hit: (hit.when, hit.thread_id))
        return take_oldest(ordered, self.settings.max_topics, lambda hit: hit.when)

    def _thread(self, topic_id: str, hit: Hit | None) -> list[Post]:
        """All shown posts of a topic in post order; [] when it is gone or private."""
        try:
            topic = self.client.get_json(f"{self.base_url}/t/{topic_id}.json")
        except HttpStatusError as exc:
            if exc.status in (403, 404, 410):
                return []
            raise
        stream = topic.get("post_stream") or {}
        raw = {int(p["id"]): p for p in stream.get("posts") or []}
        missing = [pid for pid in stream.get("stream") or [] if int(pid) not in raw]
        for i in range(0, len(missing), _POSTS_PER_REQUEST):
            chunk = missing[i : i + _POSTS_PER_REQUEST]
            more = self.client.get_json(
                f"{self.base_url}/t/{topic_id}/posts.json", {"post_ids[]": chunk}
            )
            raw.update({int(p["id"]): p for p in (more.get("post_stream") or {}).get("posts", [])})
        shown = [p for p in raw.values() if p.get("post_type", 1) in _SHOWN_POST_TYPES]
        shown.sort(key=lambda p: int(p["post_number"]))
        posts = []
        for raw_post in shown:
            try:
                posts.append(self._post(topic, raw_post))
            except RECORD_ERRORS as exc:  # rejected alone; the rest of the topic is kept
                self._reject(f"{topic_id}/{raw_post.get('post_number')}", exc)
        return with_comment_count(posts)

    def _post(self, topic: Mapping[str, Any], post: Mapping[str, Any]) -> Post:
        topic_id = str(topic["id"])
        number = int(post["post_number"])
        is_root = number == 1
        reply_to = post.get("reply_to_post_number")
        parent = (
            None
            if is_root
            else (topic_id if reply_to in (None, 1) else f"{topic_id}/{int(reply_to)}")
        )
        title = (clean_text(topic.get("title")) or None) if is_root else None
        body = clean_text(_QUOTE.sub("", post.get("cooked") or ""))
        slug = topic.get("slug") or "topic"
        extra: dict[str, Any] = {"post_id": post.get("id")}
        if is_root:
            extra.update(category_id=topic.get("category_id"), tags=topic.get("tags") or [])
        return Post(
            source=self.source,
            id=topic_id if is_root else f"{topic_id}/{number}",
            thread_id=topic_id,
            parent_id=parent,
            author=post.get("username"),
            created_utc=_created(post["created_at"]),
            title=title,
            body=body,
            url=f"{self.base_url}/t/{slug}/{topic_id}" + ("" if is_root else f"/{number}"),
            score=_likes(post),
            community=self.settings.name,
            lang=guess_lang(post_text(title, body)),
            kind="post" if is_root else "comment",
            deleted=bool(post.get("deleted_at") or post.get("user_deleted")),
            extra=extra,
        )
