"""The digest's chart: volume and net stance over the last 30 days, one panel per topic.

Rendered with matplotlib's Agg backend (no display needed) to PNG bytes, which the digest
embeds inline by Content-ID and `stablewatch digest --chart FILE.png` writes to a file.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

CHART_DAYS = 30


def series_window(day: str, days: int = CHART_DAYS) -> tuple[str, str]:
    """First and last day of the chart ending on ``day``."""
    end = date.fromisoformat(day)
    return (end - timedelta(days=days - 1)).isoformat(), day


def render_chart(rows: Sequence[Mapping[str, Any]], day: str, days: int = CHART_DAYS) -> bytes:
    """PNG of volume (bars) and net stance (line) per topic for the ``days`` ending on day.

    ``rows``: daily_summary rows (day, topic, volume, net_stance, spike). Days without a
    row are drawn as zero volume and no net stance.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    first, last = series_window(day, days)
    axis = [(date.fromisoformat(first) + timedelta(days=i)).isoformat() for i in range(days)]
    topics = sorted({r["topic"] for r in rows}, key=lambda t: (t != "all", t))
    fig = Figure(figsize=(7.5, 1.9 * max(1, len(topics))), dpi=100)
    for n, topic in enumerate(topics or ["all"], 1):
        by_day = {r["day"]: r for r in rows if r["topic"] == topic}
        volume = [by_day.get(d, {}).get("volume") or 0 for d in axis]
        net = [by_day.get(d, {}).get("net_stance") for d in axis]
        spikes = [i for i, d in enumerate(axis) if by_day.get(d, {}).get("spike")]
        ax = fig.add_subplot(len(topics or ["all"]), 1, n)
        colors = ["#c0392b" if i in spikes else "#95a5a6" for i in range(days)]
        ax.bar(range(days), volume, color=colors, width=0.8)
        ax.set_ylabel("posts", fontsize=8)
        ax.set_title("All topics" if topic == "all" else topic, fontsize=9, loc="left")
        ax.tick_params(labelsize=7)
        ax.set_xticks(range(0, days, 7), [axis[i][5:] for i in range(0, days, 7)])
        twin = ax.twinx()
        twin.plot(range(days), [float("nan") if v is None else v for v in net],
                  color="#2c3e50", marker=".", linewidth=1.2)
        twin.axhline(0, color="#bdc3c7", linewidth=0.6)
        twin.set_ylim(-1.05, 1.05)
        twin.set_ylabel("net stance", fontsize=8)
        twin.tick_params(labelsize=7)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
