"""The daily email: what was said, how supportive or opposed, how speculative, what changed."""

from __future__ import annotations

import contextlib
import email
import email.policy
import hashlib
import os
import smtplib
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, cast

from jinja2 import Environment, FileSystemLoader

from jobs.chart import render_chart, series_window
from jobs.config import Settings, SmtpSettings
from jobs.rows import DaySummary, DigestRow
from jobs.store import Store, utcnow
from jobs.summaries import ALL_TOPICS
from stablewatch.errors import StablewatchError, error_line

TEMPLATES = Path(__file__).resolve().parent / "templates"
# HTML from Jinja2 with autoescape: every value from a post is escaped by the template
HTML = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                   trim_blocks=True, lstrip_blocks=True)


class DigestError(StablewatchError):
    """The digest could not be written or sent."""


@dataclass
class Digest:
    day: str
    subject: str
    text: str
    html: str
    chart: bytes | None = None  # PNG, shown inline in the HTML part (cid: chart_cid)

    @property
    def chart_cid(self) -> str:
        return f"chart-{self.day}@stablewatch.local"

    def message(self, sender: str, recipients: tuple[str, ...],
                unsubscribe: str | None = None) -> EmailMessage:
        """multipart/alternative: text, then HTML (multipart/related with the chart)."""
        msg = EmailMessage()
        msg["Subject"] = self.subject
        msg["From"] = sender
        msg["To"] = ", ".join(recipients)
        msg["Date"] = formatdate(usegmt=True)
        msg["Message-ID"] = make_msgid(domain="stablewatch.local")
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies
        if unsubscribe:
            msg["List-Unsubscribe"] = f"<{unsubscribe}>"
        msg.set_content(self.text)
        msg.add_alternative(self.html, subtype="html")
        if self.chart:
            html = cast(list[EmailMessage], msg.get_payload())[1]  # parts: text, HTML
            html.add_related(self.chart, maintype="image", subtype="png",
                             cid=f"<{self.chart_cid}>", filename=f"stablewatch-{self.day}.png")
        return msg

    @property
    def body_hash(self) -> str:
        return hashlib.sha256((self.text + self.html).encode()).hexdigest()[:32]


def previous_day(day: str) -> str:
    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()


def build_digest(store: Store, day: str, source_errors: Sequence[str] | None = None,
                 missing_data: bool | None = None) -> Digest:
    """Render the digest for `day` from the stored summaries of that day and the one before.

    ``source_errors``: what failed while collecting (default: the errors recorded by the
    day's last daily run). ``missing_data``: nothing could be collected because sources
    failed (default: that run failed every source); the subject then says so.
    """
    if source_errors is None:
        run: Mapping[str, Any] = store.latest_run("daily", day) or {}
        source_errors = list(run.get("errors") or [])
        if missing_data is None:
            missing_data = bool(run.get("missing_data"))
    today = {r["topic"]: r for r in store.summaries(day)}
    before = {r["topic"]: r for r in store.summaries(previous_day(day))}
    # the overview of all topics first, then each topic
    topics = ([ALL_TOPICS] if ALL_TOPICS in today else []) + [t for t in today if t != ALL_TOPICS]
    overall = today.get(ALL_TOPICS)
    volume = overall["volume"] if overall else 0
    subject = f"stablewatch {day}: {volume} posts"
    if overall and overall["relevant"]:
        subject += f", net stance {_signed(overall['net_stance'])}"
    if overall and overall.get("spike"):
        subject = f"stablewatch {day}: SPIKE, {volume} posts vs {overall['volume_mean']:.0f} usual"
    sections_text = [_topic_text(today[t], before.get(t)) for t in topics]
    if not topics:
        sections_text = ["No posts for this day."]
    if missing_data:
        subject = f"stablewatch {day}: MISSING DATA, every source failed"
    callouts = [spike_callout(today[t]) for t in topics if today[t].get("spike")]
    if callouts:
        sections_text.insert(0, "\n".join(callouts))
    source_head = ("Missing data: nothing could be collected; the figures below are not a "
                   "quiet day." if missing_data else "Some sources failed; the figures below "
                   "are incomplete.")
    problems = [one_line(e, 300) for e in source_errors]
    if problems:  # source health goes first of all
        sections_text.insert(0, source_head + "\n" + "\n".join(f"  - {p}" for p in problems))
    chart = render_chart(store.summaries_between(*series_window(day)), day) if topics else None
    alert = (f"MISSING DATA for {day}: every source failed; this is not a quiet day.\n\n"
             if missing_data else "")
    text = _render("digest.txt", alert=alert, day=day, sections="\n\n".join(sections_text))
    page = HTML.get_template("digest.html").render(
        day=day, subject=subject, missing_data=missing_data, source_head=source_head,
        source_errors=problems,
        callouts=callouts, chart_cid=f"chart-{day}@stablewatch.local" if chart else None,
        sections=[_topic_view(today[t], before.get(t)) for t in topics],
    )
    return Digest(day=day, subject=subject, text=text, html=page, chart=chart)


def write_digest(
    store: Store, settings: Settings, digest: Digest, send: bool = True
) -> DigestRow:
    """Write the .eml to the outbox, send it over SMTP if configured, record it.

    A digest already sent with the same content is not sent again.
    """
    msg = digest.message(settings.digest_from, settings.digest_to, settings.unsubscribe)
    path = settings.outbox / f"stablewatch-{digest.day}.eml"
    write_atomically(path, bytes(msg))
    old = store.digest(digest.day)
    kept = old if old is not None and old["body_hash"] == digest.body_hash else None
    row: DigestRow = {
        "day": digest.day,
        "subject": digest.subject,
        "path": str(path),
        "recipients": ", ".join(settings.digest_to),
        "body_hash": digest.body_hash,
        "created_at": kept["created_at"] if kept is not None else utcnow(),
        "sent_at": kept["sent_at"] if kept is not None else None,
        "send_error": None,
    }
    if send and settings.smtp and not row["sent_at"]:
        try:
            send_message(msg, settings.smtp)
            row["sent_at"] = utcnow()
        except (OSError, smtplib.SMTPException) as exc:
            row["send_error"] = error_line(exc)
    store.save_digest(row)
    return row


def write_atomically(path: Path, data: bytes) -> None:
    """Write `path` whole or not at all: through `<name>.tmp`, renamed when complete and
    removed when writing fails (a full outbox), so no partial file is ever left behind."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise DigestError(
            f"cannot write the digest {path}: {exc.strerror or exc} (a full disk, a file "
            "size limit or a read-only outbox?); it was not recorded as written"
        ) from None


def retry_unsent(store: Store, settings: Settings, today: str) -> list[DigestRow]:
    """Send the digests of the ``retry_days`` before ``today`` that were never sent (SMTP
    down, or no SMTP then), oldest first, from their .eml files; record each outcome."""
    if not settings.smtp or settings.retry_days <= 0:
        return []
    since = (date.fromisoformat(today) - timedelta(days=settings.retry_days)).isoformat()
    done = []
    for row in store.unsent_digests(since, today):
        path = Path(row["path"])
        try:
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            send_message(msg, settings.smtp)
            row["sent_at"], row["send_error"] = utcnow(), None
        except (OSError, smtplib.SMTPException) as exc:
            row["send_error"] = error_line(exc)
        store.save_digest(row)
        done.append(row)
    return done


def send_message(msg: EmailMessage, smtp: SmtpSettings) -> None:
    with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as client:
        if smtp.starttls:
            client.starttls()
        if smtp.username:
            client.login(smtp.username, smtp.password or "")
        client.send_message(msg)


def spike_callout(row: DaySummary) -> str:
    """One line: what is unusual about the day and which threads drove it."""
    line = f"Spike in {_title(row['topic']).lower()}: {row['spike_note']}"
    threads = row.get("spike_threads") or []
    if threads:
        line += "; driven by " + ", ".join(
            f"{one_line(t['title'])} ({t['share_of_extra']:.0%} of the extra posts)"
            for t in threads)
    return line


def one_line(text: str | None, limit: int = 120) -> str:
    """Collapse whitespace and line breaks; shorten to ``limit`` characters."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def safe_url(url: str | None) -> str | None:
    """The URL when it is http(s); None for javascript:, data: and anything else."""
    if url and url.strip().lower().startswith(("http://", "https://")):
        return url.strip()
    return None


def _render(name: str, **values: str) -> str:
    return string.Template((TEMPLATES / name).read_text(encoding="utf-8")).substitute(values)


def _signed(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


def _delta_pct(now: float | None, then: float | None) -> str:
    if now is None or then is None:
        return ""
    return f" ({(now - then) * 100:+.0f} pts)"


def _delta(now: float | None, then: float | None) -> str:
    if now is None or then is None:
        return ""
    return f" ({now - then:+.2f})"


def _changes(row: DaySummary, prev: DaySummary | None) -> list[tuple[str, str]]:
    """(label, value) lines, each with the change since the day before when known."""
    p: Mapping[str, Any] = prev or {}
    vol_change = ""
    if prev and prev["volume"]:
        vol_change = (
            f" ({(row['volume'] - prev['volume']) / prev['volume'] * 100:+.0f}% vs previous day)"
        )
    elif prev is None:
        vol_change = " (no data for the previous day)"
    return [
        (
            "Volume",
            f"{row['volume']} ({row['posts']} posts, {row['comments']} comments, "
            f"{row['authors']} authors){vol_change}",
        ),
        (
            "On topic",
            f"{row['relevant']} ({_pct(row['relevant_share'])})"
            f"{_delta_pct(row['relevant_share'], p.get('relevant_share'))}",
        ),
        (
            "Stance",
            f"{row['supportive']} supportive / {row['neutral']} neutral / {row['opposed']} opposed",
        ),
        (
            "Net stance",
            f"{_signed(row['net_stance'])}{_delta(row['net_stance'], p.get('net_stance'))}",
        ),
        (
            "Speculative",
            f"{_pct(row['speculative_share'])}"
            f"{_delta_pct(row['speculative_share'], p.get('speculative_share'))}",
        ),
    ]


def _topic_text(row: DaySummary, prev: DaySummary | None) -> str:
    lines = [_title(row["topic"]), "=" * len(_title(row["topic"]))]
    lines += [f"{label:<12} {value}" for label, value in _changes(row, prev)]
    if row["top_threads"]:
        lines.append("\nMost discussed threads:")
        for t in row["top_threads"]:
            where = f" [{t['community']}]" if t["community"] else ""
            lines.append(
                f"  - {one_line(t['title'])}{where}: {t['activity']} posts, "
                f"{t['relevant']} on topic"
            )
            if safe_url(t["url"]):
                lines.append(f"    {safe_url(t['url'])}")
    for stance, quotes in (row["quotes"] or {}).items():
        for q in quotes:
            tag = "speculative" if q["speculative"] else "factual"
            lines.append(f'\n  [{stance} {_confidence(q)}, {tag}] {q["author"] or "unknown"}: '
                         f'"{q["text"]}"')
            if safe_url(q.get("url")):
                lines.append(f"    {safe_url(q['url'])}")
    return "\n".join(lines)


def _topic_view(row: DaySummary, prev: DaySummary | None) -> dict[str, Any]:
    """What the HTML template shows for one topic (the template escapes every value)."""
    return {
        "title": _title(row["topic"]),
        "changes": _changes(row, prev),
        "threads": [
            {"title": one_line(t["title"]), "url": safe_url(t["url"]),
             "community": t["community"], "activity": t["activity"], "relevant": t["relevant"]}
            for t in row["top_threads"] or []
        ],
        "quotes": [
            {"stance": stance, "confidence": _confidence(q),
             "kind": "speculative" if q["speculative"] else "factual",
             "author": q["author"] or "unknown", "text": q["text"], "url": safe_url(q.get("url"))}
            for stance, qs in (row["quotes"] or {}).items()
            for q in qs
        ],
    }


def _confidence(quote: dict[str, Any]) -> str:
    """Calibrated confidence of a quote's stance, e.g. '(87% sure)'."""
    value = quote.get("confidence")
    return "" if value is None else f"({value:.0%} sure)"


def _title(topic: str) -> str:
    return "All topics" if topic == ALL_TOPICS else topic[0].upper() + topic[1:]
