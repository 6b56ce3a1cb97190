"""Hacker News stories and comment trees through the public Algolia HN search API."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from collectors.cursors import Window, take_oldest
from collectors.errors import HttpStatusError
from collectors.http import describe_error
from collectors.lang import guess_lang
from collectors.post import Post, post_text
from collectors.records import RECORD_ERRORS, parse_time
from collectors.text import clean_text
from collectors.threads import Hit, ThreadSearchCollector, with_comment_count

_PARAGRAPH = re.compile(r"(?i)<p\b")


@dataclass
class HackerNewsSettings:
    base_url: str  # e.g. https://hn.algolia.com/api/v1
    queries: list[str]
    keywords: list[str]
    max_stories: int = 50  # per query and run; the oldest new ones first, the rest next run
    timeout: float = 15.0
    deadline: float | None = None  # seconds for the whole source; jobs/ applies it
    item_url: str = "https://news.ycombinator.com/item?id={id}"
    community: str = "Hacker News"


def _hn_text(html: str | None) -> str:
    """HN separates paragraphs with bare <p> tags (no closing tags); keep them as breaks."""
    return clean_text(_PARAGRAPH.sub("\n\n\\g<0>", html) if html else html)


def _created(node: Mapping[str, Any]) -> datetime:
    if node.get("created_at_i") is not None:
        return parse_time(node["created_at_i"])
    return parse_time(node["created_at"])


class HackerNewsCollector(ThreadSearchCollector[HackerNewsSettings]):
    """Searches stories per query (`hn/search/<query>`), then fetches each story's tree.

    A story thread is kept when its title, text or any comment mentions a keyword (all
    are kept when there are no keywords). Story ids in `revisit` are refetched whole as
    `hn/thread/<id>` harvests whose cursor is None (nothing to save); empty when gone.
    """

    source = "hackernews"

    def _search_key(self, query: str) -> str:
        return f"hn/search/{query}"

    def _thread_key(self, thread_id: str) -> str:
        return f"hn/thread/{thread_id}"

    def _revisit_error(self, exc: Exception) -> str | None:
        if isinstance(exc, HttpStatusError) and exc.status == 404:
            return None  # a story gone since is not an error
        return describe_error(exc)

    def _hits(self, query: str, window: Window) -> list[Hit]:
        """Stories created after the window start, oldest first, `max_stories` (plus ties).

        Algolia sorts newest first; when there are more pages than one, the last two pages
        hold the oldest stories, so the cursor advances without skipping any.
        """
        bound = window.start
        op = ">" if window.after else ">="
        per_page = max(1, min(self.settings.max_stories, 1000))
        params = {
            "query": query,
            "tags": "story",
            "numericFilters": f"created_at_i{op}{int(bound.timestamp())}",
            "hitsPerPage": per_page,
        }
        url = f"{self.base_url}/search_by_date"
        first = self.client.get_json(url, {**params, "page": 0})
        hits = list(first["hits"])
        pages = int(first.get("nbPages") or 1)
        if pages > 1:
            oldest = range(max(1, pages - 2), pages)
            pages_hits = [self.client.get_json(url, {**params, "page": p})["hits"] for p in oldest]
            hits = [h for page_hits in pages_hits for h in page_hits]
            if pages == 2:
                hits += first["hits"]
        unique: dict[str, Hit] = {}
        for h in hits:
            try:
                hit = Hit(str(h["objectID"]), _created(h), h)
            except RECORD_ERRORS as exc:  # one unreadable hit is left out, not the query
                self._reject(h.get("objectID") if isinstance(h, Mapping) else None, exc)
                continue
            if window.is_new(hit.when):
                unique[hit.thread_id] = hit
        ordered = sorted(unique.values(), key=lambda hit: (hit.when, hit.thread_id))
        return take_oldest(ordered, self.settings.max_stories, lambda hit: hit.when)

    def _thread(self, story_id: str, hit: Hit | None) -> list[Post]:
        """The story and its comments, parents before children."""
        try:
            item = self.client.get_json(f"{self.base_url}/items/{story_id}")
        except HttpStatusError as exc:
            if exc.status != 404 or hit is None or hit.data is None:
                raise
            # Gone since the search: keep what the search knew, without comments.
            known = hit.data
            item = {**known, "id": story_id, "text": known.get("story_text"), "children": []}
        posts: list[Post] = []
        stack: list[tuple[Any, str | None]] = [(item, None)]
        while stack:
            node, parent_id = stack.pop()
            if not isinstance(node, Mapping):
                self._reject(None, TypeError(f"expected an item object, got {type(node).__name__}"))
                continue
            try:
                posts.append(self._post(node, story_id, parent_id))
            except RECORD_ERRORS as exc:  # rejected alone; its replies keep their parent id
                self._reject(node.get("id"), exc)
            children = node.get("children")
            if isinstance(children, list):
                stack.extend((child, str(node.get("id"))) for child in reversed(children))
        return with_comment_count(posts, str(story_id))

    def _post(self, node: Mapping[str, Any], story_id: str, parent_id: str | None) -> Post:
        node_id = str(node["id"])
        is_root = parent_id is None
        title = (clean_text(node.get("title")) or None) if is_root else None
        body = _hn_text(node.get("text"))
        deleted = node.get("author") is None and not body and not title
        link = node.get("url") if is_root else None
        return Post(
            source=self.source,
            id=node_id,
            thread_id=story_id,
            parent_id=None if is_root else str(node.get("parent_id") or parent_id),
            author=node.get("author"),
            created_utc=_created(node),
            title=title,
            body=body,
            url=self.settings.item_url.format(id=node_id),
            score=node.get("points"),
            community=self.settings.community,
            lang=guess_lang(post_text(title, body)),
            kind="post" if is_root else "comment",
            deleted=deleted,
            extra={"link": link} if link else {},
        )
