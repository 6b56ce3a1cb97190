"""Trailing baselines and spikes for the daily summary series of one topic.

For each day, the baseline is the ``window`` days before it (the day itself excluded),
zero-filled so a quiet day counts as 0 posts. From it:

- ``volume_z`` = (volume − mean) / max(std, √mean). Post counts are counts: with a flat
  history the sample standard deviation can be ~0 and any wobble would look huge, so it
  is floored at the Poisson noise of the mean.
- ``net_stance_z`` = (net_stance − mean) / max(std, 0.05), over the baseline days that had
  on-topic posts; 0.05 is one supportive-vs-opposed post in twenty.
- ``spike`` = 1 when ``volume_z`` ≥ 3 with at least ``min_volume`` posts, or |``net_stance_z``|
  ≥ 3 with at least ``min_relevant`` on-topic posts; three standard deviations keep the
  ordinary day-to-day noise (|z| < 2 on most days) from raising alarms, and the minimum
  counts keep a 2-post day from being a "spike". With fewer than ``min_history`` baseline
  days that had posts, there is no spike and ``spike_note`` says why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SpikeRule:
    """The baseline and spike thresholds (documented in docs/schema.md)."""

    window: int = 14
    min_history: int = 7
    z: float = 3.0
    min_volume: int = 20
    min_relevant: int = 10
    stance_std_floor: float = 0.05


def _mean_std(values: Sequence[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    var = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(var)


DEFAULT_RULE = SpikeRule()


def baseline_columns(series: Sequence[Mapping[str, Any]], rule: SpikeRule = DEFAULT_RULE
                     ) -> list[dict[str, Any]]:
    """Baseline columns for each row of one topic's series, sorted by day, one row a day."""
    out = []
    for i, row in enumerate(series):
        history = series[max(0, i - rule.window) : i]
        active = [h for h in history if h["volume"]]
        volume_mean, volume_std = _mean_std([float(h["volume"]) for h in history])
        stance_mean, stance_std = _mean_std(
            [float(h["net_stance"]) for h in history if h["net_stance"] is not None])
        volume_z = net_stance_z = None
        if volume_mean is not None:
            floor = max(volume_std or 0.0, math.sqrt(volume_mean), 1.0)
            volume_z = round((row["volume"] - volume_mean) / floor, 3)
        if stance_mean is not None and row["net_stance"] is not None:
            floor = max(stance_std or 0.0, rule.stance_std_floor)
            net_stance_z = round((row["net_stance"] - stance_mean) / floor, 3)
        spike, note = 0, None
        if len(active) < rule.min_history:
            note = (f"no baseline yet: {len(active)} of the previous {rule.window} days had "
                    f"posts (needs {rule.min_history})")
        else:
            reasons = []
            if volume_z is not None and volume_z >= rule.z and row["volume"] >= rule.min_volume:
                reasons.append(f"volume {row['volume']} vs {volume_mean:.0f} ± "
                               f"{volume_std or 0:.0f} usual (z {volume_z:+.1f})")
            if (net_stance_z is not None and abs(net_stance_z) >= rule.z
                    and row["relevant"] >= rule.min_relevant):
                reasons.append(f"net stance {row['net_stance']:+.2f} vs {stance_mean:+.2f} "
                               f"usual (z {net_stance_z:+.1f})")
            if reasons:
                spike, note = 1, "; ".join(reasons)
        out.append({
            "baseline_days": len(history),
            "volume_mean": _round(volume_mean),
            "volume_std": _round(volume_std),
            "volume_z": volume_z,
            "net_stance_mean": _round(stance_mean),
            "net_stance_std": _round(stance_std),
            "net_stance_z": net_stance_z,
            "spike": spike,
            "spike_note": note,
        })
    return out


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)
