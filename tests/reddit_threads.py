"""Large generated Reddit threads for the loopback Reddit, shaped like big real ones.

`LargeThread(total=1428)` invents a comment tree (seeded, so always the same) and serves it
the way Reddit does: `/comments/<id>` returns the first `first_load` comments nested to
depth 10, with "load more comments" stubs (`more`, with a count and child ids) where a
node's children were cut and "continue this thread" stubs (count 0) below depth 10;
`/api/morechildren` returns up to `per_request` of the requested comments and their
descendants as a flat list with new stubs for what it cut (and "continue this thread" every
10 levels); `/comments/<id>/_/<comment>` continues a deep thread. Texts are invented.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from reddit_server import FakeReddit, Reply, Seen

BASE = 1795312800  # 2026-11-20T00:00Z, as in tests/fixtures/reddit
WORDS = (
    "offshore",
    "yuan",
    "stablecoin",
    "HKMA",
    "licence",
    "reserves",
    "pilot",
    "CNH",
    "settlement",
    "issuer",
    "rumour",
    "bank",
    "token",
    "Hong",
    "Kong",
    "rules",
)


@dataclass
class LargeThread:
    link_id: str = "n49big"
    total: int = 1428
    top_level: int = 260
    first_load: int = 200  # comments in the first answer (Reddit's default is about 200)
    per_request: int = 100  # comments per morechildren answer
    max_depth: int = 10  # deeper comments hide behind "continue this thread"
    seed: int = 49
    children: dict[str, list[str]] = field(default_factory=dict)
    parent: dict[str, str] = field(default_factory=dict)
    depth: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        self.root = f"t3_{self.link_id}"
        self.children[self.root] = []
        order: list[str] = []
        for n in range(self.total):
            cid = f"c{n:04d}x"
            if n < self.top_level or not order:
                parent = self.root
            else:  # replies favour recent comments, which makes long chains as on Reddit
                parent = order[max(0, len(order) - 1 - int(rng.expovariate(1 / 40)))]
            self.parent[cid] = parent
            self.depth[cid] = 0 if parent == self.root else self.depth[parent] + 1
            self.children.setdefault(parent, []).append(cid)
            self.children[cid] = []
            order.append(cid)
        self.created = {cid: BASE + 3600 + 7 * i for i, cid in enumerate(order)}

    # ----- what each endpoint answers -----------------------------------------------------

    def serve(self, fake: FakeReddit) -> None:
        fake.handlers.append(self.answer)

    def answer(self, seen: Seen) -> Reply | None:
        path = "/" + seen.path.strip("/").lower()
        if path == f"/comments/{self.link_id}":
            top = self.children[self.root]
            return Reply(200, [self._submission(), self._listing(self._nested(top, 0))])
        if match := re.fullmatch(rf"/comments/{self.link_id}/_/(\w+)", path):
            cid = match.group(1)
            nested = self._nested([cid], self.depth[cid])
            return Reply(200, [self._submission(), self._listing(nested)])
        if path == "/api/morechildren" and seen.form.get("link_id") == self.root:
            wanted = [c for c in seen.form.get("children", "").split(",") if c]
            return Reply(200, {"json": {"errors": [], "data": {"things": self._flat(wanted)}}})
        return None

    def _nested(self, ids: list[str], base_depth: int) -> list[dict[str, Any]]:
        budget = [self.first_load]

        def render(cid: str) -> dict[str, Any]:
            budget[0] -= 1
            kids: list[dict[str, Any]] = []
            if self.depth[cid] - base_depth + 1 >= self.max_depth and self.children[cid]:
                kids.append(self._continue(cid))
            else:
                kids = self._siblings(self.children[cid], cid, render, budget)
            return self._comment(cid, self._listing(kids) if kids else "")

        return self._siblings(ids, self.parent[ids[0]], render, budget)

    def _siblings(self, ids: list[str], parent: str, render: Any, budget: list[int]) -> list:
        out: list[dict[str, Any]] = []
        for i, cid in enumerate(ids):
            if budget[0] <= 0:
                out.append(self._more(parent, ids[i:]))
                break
            out.append(render(cid))
        return out

    def _flat(self, wanted: list[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        budget = self.per_request

        def walk(ids: list[str], parent: str) -> None:
            nonlocal budget
            for i, cid in enumerate(ids):
                if budget <= 0:
                    out.append(self._more(parent, ids[i:]))
                    return
                budget -= 1
                out.append(self._comment(cid, ""))
                if (self.depth[cid] + 1) % self.max_depth == 0 and self.children[cid]:
                    out.append(self._continue(cid))
                else:
                    walk(self.children[cid], cid)

        groups: dict[str, list[str]] = {}
        for cid in wanted:
            groups.setdefault(self.parent[cid], []).append(cid)
        for parent, ids in groups.items():
            walk(ids, parent)
        return out

    # ----- things ---------------------------------------------------------------------------

    def subtree_size(self, cid: str) -> int:
        return 1 + sum(self.subtree_size(c) for c in self.children[cid])

    def _more(self, parent: str, ids: list[str]) -> dict[str, Any]:
        depth = 0 if parent == self.root else self.depth[parent] + 1
        count = sum(self.subtree_size(c) for c in ids)
        return {
            "kind": "more",
            "data": {
                "count": count,
                "name": f"t1_{ids[0]}",
                "id": ids[0],
                "parent_id": self._fullname(parent),
                "depth": depth,
                "children": list(ids),
            },
        }

    def _continue(self, cid: str) -> dict[str, Any]:
        return {
            "kind": "more",
            "data": {
                "count": 0,
                "name": "t1__",
                "id": "_",
                "parent_id": f"t1_{cid}",
                "depth": self.depth[cid] + 1,
                "children": [],
            },
        }

    def _fullname(self, thing: str) -> str:
        return thing if thing.startswith("t3_") else f"t1_{thing}"

    def _comment(self, cid: str, replies: Any) -> dict[str, Any]:
        rng = random.Random(cid)
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 14)))
        return {
            "kind": "t1",
            "data": {
                "id": cid,
                "name": f"t1_{cid}",
                "link_id": self.root,
                "parent_id": self._fullname(self.parent[cid]),
                "subreddit": "China",
                "subreddit_id": "t5_china",
                "body": body,
                "author": f"user{rng.randint(1, 400)}",
                "created_utc": float(self.created[cid]),
                "score": rng.randint(-3, 40),
                "depth": self.depth[cid],
                "permalink": f"/r/China/comments/{self.link_id}/_/{cid}/",
                "edited": False,
                "stickied": False,
                "is_submitter": False,
                "replies": replies,
            },
        }

    def _submission(self) -> dict[str, Any]:
        data = {
            "id": self.link_id,
            "name": self.root,
            "subreddit": "China",
            "subreddit_id": "t5_china",
            "title": "Offshore yuan stablecoin: the big thread",
            "selftext": "Everything about the offshore yuan stablecoin pilot in one place.",
            "author": "harbour_quant",
            "created_utc": float(BASE),
            "score": 2414,
            "num_comments": self.total,
            "permalink": f"/r/China/comments/{self.link_id}/big/",
            "url": f"https://www.reddit.com/r/China/comments/{self.link_id}/big/",
            "is_self": True,
            "removed_by_category": None,
        }
        return self._listing([{"kind": "t3", "data": data}])

    @staticmethod
    def _listing(children: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "kind": "Listing",
            "data": {"after": None, "before": None, "dist": len(children), "children": children},
        }
