"""Plain-text report of a daily run, as the CLI prints it."""

from __future__ import annotations

from collections.abc import Sequence

from collectors.post import Rejection
from jobs.config import Settings
from jobs.pipeline import DailyReport

SHOWN_REJECTIONS = 10  # rejected records named in the output; `runs` names all of them


def _fmt(value: float | None, pattern: str) -> str:
    return "-" if value is None else format(value, pattern)


def rejection_lines(rejected: Sequence[Rejection], run_id: int | None) -> list[str]:
    """The first SHOWN_REJECTIONS rejected records, then how to find the rest."""
    if not rejected:
        return []
    lines = [f"rejected  {len(rejected)} record(s), not stored:"]
    lines += [f"  {r}" for r in rejected[:SHOWN_REJECTIONS]]
    where = f"runs.rejected_records of run #{run_id}" if run_id else "runs.rejected_records"
    if len(rejected) > SHOWN_REJECTIONS:
        lines.append(f"  … and {len(rejected) - SHOWN_REJECTIONS} more: all are in {where}")
    return lines


def format_daily(report: DailyReport, settings: Settings) -> str:
    c = report.collect.counts
    lines = [
        f"stablewatch daily {report.day}  (run #{report.run_id}, model {report.model_id})",
        f"collected {c.total}: {c.new} new, {c.updated} updated, {c.unchanged} unchanged",
        f"scored    {report.scored} texts ({report.reused} reused from identical texts)",
        "",
        f"{'topic':<34}{'volume':>7}{'on-topic':>10}{'sup/neu/opp':>14}{'net':>7}{'spec':>7}",
    ]
    for s in report.summaries:
        mix = f"{s['supportive']}/{s['neutral']}/{s['opposed']}"
        lines.append(
            f"{s['topic'][:33]:<34}{s['volume']:>7}{_fmt(s['relevant_share'], '>9.0%'):>10}"
            f"{mix:>14}{_fmt(s['net_stance'], '+.2f'):>7}{_fmt(s['speculative_share'], '.0%'):>7}"
        )
    d = report.digest
    if d.get("sent_at"):
        sent = f"sent to {d['recipients']}"
    elif d.get("send_error"):
        sent = f"NOT sent: {d['send_error']}"
    elif settings.smtp is None:
        sent = "not sent: no [smtp] host configured"
    else:
        sent = "not sent (--no-send)"
    lines += ["", f"digest    {d['path']} ({sent})"]
    lines += rejection_lines(report.collect.rejected, report.run_id)
    if report.collect.comments_unexpanded:
        lines.append(f"comments  {report.collect.comments_unexpanded} left unexpanded (request "
                     "budget or deadline; the thread's next revisit continues)")
    for error in report.collect.errors:
        lines.append(f"error     {error}")
    lines.append(f"done in {report.seconds:.1f}s")
    return "\n".join(lines)
