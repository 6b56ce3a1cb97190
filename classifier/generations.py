"""Data generations: which training file a text comes from (``vN_*``; unprefixed files are
v1) and how training treats each generation (a loss weight, outputs whose labels it ignores).

The treatment is data, kept beside the data in ``generations.toml``, so that ``stablewatch
train`` on data/train reproduces the shipped model; ``--weight`` / ``--ignore`` on the
command line take precedence, generation by generation.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from classifier.errors import TrainingDataError
from classifier.scores import OUTPUTS

SETTINGS_FILE = "generations.toml"

Ignores = dict[str, frozenset[str]]


def is_generation(name: str) -> bool:
    """Whether ``name`` names a data generation: ``v`` and a number (v1, v12)."""
    return name[:1] == "v" and name[1:].isdigit()


def file_generation(file_name: str) -> str:
    """The generation of a training file: its ``vN_`` prefix, else ``v1``."""
    prefix = file_name.split("_", 1)[0]
    return prefix if is_generation(prefix) else "v1"


def generation(row: dict) -> str:
    """The data generation a training row comes from (see ``file_generation``)."""
    return file_generation(row["source_file"])


def generation_weights(rows: Sequence[dict], weights: dict[str, float]) -> np.ndarray:
    """One training weight per row from its generation (generations not named weigh 1)."""
    return np.array([weights.get(generation(r), 1.0) for r in rows], dtype=np.float32)


def _weight(gen: str, value: object, source: str) -> float:
    try:
        weight = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        weight = -1.0
    if not is_generation(gen) or not 0 <= weight < 1e6:
        raise ValueError(f"{source}: expected GEN=W such as v1=0.5 "
                         "(a generation vN and a weight >= 0)")
    return weight


def _outputs(gen: str, names: Sequence[str], source: str) -> frozenset[str]:
    """The outputs named for ``gen``; ``none`` alone means none (overrides a default)."""
    outputs = {n.strip() for n in names if n.strip()}
    if outputs == {"none"}:
        return frozenset()
    if not is_generation(gen) or not outputs or not outputs <= set(OUTPUTS):
        raise ValueError(f"{source}: expected GEN=OUTPUT[,OUTPUT] such as v5=speculation "
                         f"(a generation vN and outputs among {', '.join(OUTPUTS)}, "
                         "or none)")
    return frozenset(outputs)


def parse_generation_weights(values: Sequence[str]) -> dict[str, float]:
    """``["v1=0.5", ...]`` as ``{"v1": 0.5}``; ValueError names a malformed value."""
    weights: dict[str, float] = {}
    for value in values:
        gen, sep, number = value.partition("=")
        weights[gen] = _weight(gen if sep else "", number, repr(value))
    return weights


def parse_generation_ignores(values: Sequence[str]) -> Ignores:
    """``["v5=speculation", ...]`` as ``{"v5": frozenset({"speculation"})}``.

    Several outputs may be named at once (``v5=speculation,stance``); ``v5=none`` ignores
    nothing (it overrides generations.toml). ValueError names a malformed value."""
    ignores: Ignores = {}
    for value in values:
        gen, sep, names = value.partition("=")
        outputs = _outputs(gen if sep else "", names.split(","), repr(value))
        ignores[gen] = (ignores.get(gen, frozenset()) | outputs) if outputs else frozenset()
    return ignores


def read_generation_settings(train_dir: Path) -> tuple[dict[str, float], Ignores]:
    """The weights and ignored outputs that ``train_dir/generations.toml`` sets (none when
    the file is absent). A malformed file raises TrainingDataError naming it::

        [v5]
        ignore = ["speculation"]   # its texts still train relevance and stance
        weight = 1.0
    """
    path = Path(train_dir) / SETTINGS_FILE
    if not path.exists():
        return {}, {}
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
        weights: dict[str, float] = {}
        ignores: Ignores = {}
        for gen, entry in table.items():
            where = f"[{gen}]"
            if not isinstance(entry, dict) or set(entry) - {"weight", "ignore"}:
                raise ValueError(f"{where}: expected a table with 'weight' and/or 'ignore'")
            if "weight" in entry:
                weights[gen] = _weight(gen, entry["weight"], where)
            if "ignore" in entry:
                names = entry["ignore"]
                if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                    raise ValueError(f"{where}: 'ignore' must be a list of output names")
                if outputs := _outputs(gen, names, where):
                    ignores[gen] = outputs
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, ValueError) as exc:
        raise TrainingDataError(f"{path}: {exc}") from None
    return weights, ignores


def generation_settings(train_dir: Path, weights: dict[str, float] | None = None,
                        ignore: Ignores | None = None) -> tuple[dict[str, float], Ignores]:
    """generations.toml's settings with ``weights`` / ``ignore`` (the command line) laid over
    them, generation by generation; generations left ignoring nothing are dropped."""
    file_weights, file_ignores = read_generation_settings(train_dir)
    merged = {**file_ignores, **(ignore or {})}
    return {**file_weights, **(weights or {})}, {g: o for g, o in merged.items() if o}
