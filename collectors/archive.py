"""Replay a JSONL archive of posts as if it were a live source.

Each line is one post in the shape of `Post.to_dict()` (see data/sample/README.md). Lines
end at `\\n` only: U+2028, U+2029 and U+0085 inside a string are text, not line breaks.
Posts newer than `until` have "not happened yet" and are left for a later run; posts at
or before the saved cursor were collected already. A line that is not a valid record is
rejected alone (file, line number and reason); every other line is still collected.

The cursor key names the file by its resolved path and a fingerprint of its first record
(`archive:<path>#<hash>`): another file with the same name, or this path rewritten with
different content, starts afresh; a file that only grew keeps its cursor.
"""

from __future__ import annotations

import codecs
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, BinaryIO, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    StrictStr,
    ValidationError,
)

from collectors.cursors import HarvestRun, Window
from collectors.errors import ArchiveError, RecordError
from collectors.post import Harvest, Post, Rejection
from collectors.records import (
    INT64_MAX,
    INT64_MIN,
    RECORD_ERRORS,
    parse_time,
    post_problem,
    reason_of,
)
from collectors.text import clean_id
from collectors.validation import problem, show

MAX_LINE_BYTES = 4_000_000  # a 40,000-character body is far smaller, even as HTML
MAX_ID_CHARS = 200


def _record_id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"expected text or an integer, got {show(value)}")
    text = clean_id(value)
    if not text:
        raise ValueError("must not be empty")
    if len(text) > MAX_ID_CHARS:
        raise ValueError(f"is longer than {MAX_ID_CHARS} characters")
    return text


RecordId = Annotated[str, PlainValidator(_record_id)]
Time = Annotated[datetime, PlainValidator(parse_time)]
Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
Count = Annotated[int, Field(ge=0, le=INT64_MAX)]


class ArchiveRecord(BaseModel):
    """One archive line. Unknown keys are ignored; text fields are cleaned by `Post`."""

    model_config = ConfigDict(extra="ignore")

    source: RecordId
    id: RecordId
    thread_id: RecordId | None = None
    parent_id: RecordId | None = None
    kind: Literal["post", "comment"] | None = None
    author: StrictStr | None = None
    created_utc: Time
    title: StrictStr | None = None
    body: StrictStr | None = None
    url: StrictStr | None = None
    score: Int64 | None = None
    num_comments: Count | None = None
    community: StrictStr | None = None
    lang: StrictStr | None = None
    deleted: StrictBool = False

    def to_post(self) -> Post:
        return Post(
            source=self.source,
            id=self.id,
            thread_id=self.thread_id or self.id,
            parent_id=self.parent_id,
            author=self.author,
            created_utc=self.created_utc,
            title=self.title,
            body=self.body or "",
            url=self.url,
            score=self.score,
            num_comments=self.num_comments,
            community=self.community,
            lang=self.lang,
            kind=self.kind or ("comment" if self.parent_id else "post"),
            deleted=self.deleted,
        )


def post_from_record(record: Any) -> Post:
    """Build a Post from one decoded archive record; raises RecordError saying why not."""
    if not isinstance(record, Mapping):
        raise RecordError(f"expected a JSON object, got {show(record)}")
    try:
        return ArchiveRecord.model_validate(record).to_post()
    except ValidationError as exc:
        raise RecordError(
            "; ".join(f"{_field(e['loc'])}: {problem(e)}" for e in exc.errors())
        ) from None


def _field(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc) or "record"


def parse_line(line: bytes) -> Post:
    """One archive line as a Post; raises RecordError (or a RECORD_ERRORS type) if bad."""
    if len(line.rstrip(b"\r\n")) > MAX_LINE_BYTES:
        raise RecordError(f"line is longer than {MAX_LINE_BYTES:,} bytes")
    try:
        record = json.loads(line.decode("utf-8", errors="replace"))
    except json.JSONDecodeError as exc:
        raise RecordError(f"not JSON: {exc.msg} at column {exc.colno}") from None
    except RecursionError:
        raise RecordError("not JSON this program can read: nested too deeply") from None
    return post_from_record(record)


@dataclass
class ArchiveRead:
    """Everything read from one archive: valid posts, rejected lines, the file's identity."""

    path: Path
    posts: list[Post] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    fingerprint: str = "empty"

    @property
    def key(self) -> str:
        """The cursor key: resolved path plus a hash of the first record."""
        return f"archive:{self.path.resolve()}#{self.fingerprint}"


def _lines(fh: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """(line number, line) at b"\n" only; a line past MAX_LINE_BYTES is skipped unread and
    yielded as its first MAX_LINE_BYTES + 1 bytes, so memory stays bounded."""
    lineno = 0
    while chunk := fh.readline(MAX_LINE_BYTES + 1):
        lineno += 1
        if len(chunk) > MAX_LINE_BYTES and not chunk.endswith(b"\n"):
            rest = chunk
            while rest and not rest.endswith(b"\n"):
                rest = fh.readline(1 << 20)
        yield lineno, chunk


def read_archive(path: Path, now: datetime | None = None) -> ArchiveRead:
    """Every line of `path` as a post or a rejection (`post_problem` judged at `now`)."""
    path = Path(path)
    read = ArchiveRead(path)
    try:
        with open(path, "rb") as fh:
            for lineno, raw in _lines(fh):
                line = raw.removeprefix(codecs.BOM_UTF8) if lineno == 1 else raw
                if not line.strip():
                    continue
                if read.fingerprint == "empty":
                    read.fingerprint = hashlib.sha256(line.strip()).hexdigest()[:12]
                where = f"{path}:{lineno}"
                try:
                    post = parse_line(line)
                except RECORD_ERRORS as exc:
                    read.rejected.append(Rejection("archive", where, reason_of(exc)))
                    continue
                trouble = post_problem(post, now)
                if trouble:
                    read.rejected.append(Rejection("archive", where, trouble))
                else:
                    read.posts.append(post)
    except OSError as exc:
        raise ArchiveError(f"cannot read archive {path}: {exc.strerror or exc}") from exc
    return read


class ArchiveCollector:
    """Collects posts from a JSONL archive file, honouring an incremental cursor."""

    source = "archive"

    def __init__(
        self, path: Path, until: datetime | None = None, now: datetime | None = None
    ) -> None:
        self.path = Path(path)
        self.until = until
        self.now = now  # judges "in the future"; default: the clock when harvesting

    def harvest(
        self, cursors: Mapping[str, str], since: datetime | None = None, revisit: Sequence[str] = ()
    ) -> Iterator[Harvest]:
        """One harvest: every valid record after the cursor and not after `until` (an
        archive is replayed whole on a first run: `since` does not apply)."""
        now = self.now or datetime.now(UTC)
        read = read_archive(self.path, now)
        window = Window(cursors.get(read.key), now=now, until=self.until)
        run = HarvestRun(self.source, read.key, window)
        run.rejected += read.rejected
        for post in read.posts:
            if window.is_new(post.created_utc):
                window.cover(post.created_utc)
                run.keep([post])
        yield run.harvest()
