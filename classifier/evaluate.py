"""Evaluation against labelled JSONL (dev.jsonl format), the VADER baseline and reports.

Metric maths is written here (no sklearn): accuracy, per-class precision / recall / F1,
macro-F1 (unweighted mean over the classes of the output) and confusion matrices.
Relevance reports binary F1 of the "relevant" class as ``f1`` beside its ``macro_f1``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from classifier.errors import LabelledDataError
from classifier.scores import OUTPUTS, SPECULATION_LABELS, STANCE_LABELS, Scores

RELEVANCE_LABELS: tuple[str, ...] = ("irrelevant", "relevant")
VADER_MODEL_ID = "vader-baseline"

# Hedge and prediction cues for the baseline's speculation rule (English and Chinese).
_HEDGE_EN = re.compile(
    r"\b(will|would|could|might|may|likely|unlikely|probably|possibly|perhaps|reportedly|"
    r"rumou?rs?|expect(?:s|ed)?|predict(?:s|ed)?|forecast|could|if|soon|going to|gonna|"
    r"allegedly|apparently|seems?|suggests?|speculat\w*|bet|imagine|what if)\b",
    re.IGNORECASE,
)
_HEDGE_ZH = re.compile(
    r"可能|或将|或將|或許|或许|預計|预计|據悉|据悉|傳聞|传闻|估計|估计|將會|将会|也許|也许|"
    r"恐怕|料將|料将|有望"
)


REQUIRED_FIELDS = ("text", "relevant", "stance", "speculation")


def read_utf8(path: Path, error: type[Exception]) -> str:
    """The file's text; bytes that are not UTF-8 raise ``error`` naming the file and line."""
    raw = Path(path).read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        at = raw[: exc.start].count(b"\n") + 1
        raise error(f"{path}:{at}: not UTF-8 text (byte {exc.start})") from exc


def load_examples(path: Path) -> list[dict]:
    """Read labelled examples (text, lang, relevant, stance, speculation) from JSONL.

    The whole file or nothing: a line that is not a JSON object with the four fields and
    known labels, bytes that are not UTF-8, or a file without a text raise
    LabelledDataError naming the file and the line (figures on part of a file would mislead).
    """
    examples = []
    for n, line in enumerate(read_utf8(path, LabelledDataError).split("\n"), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LabelledDataError(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise LabelledDataError(f"{path}:{n}: expected a JSON object")
        missing = set(REQUIRED_FIELDS) - row.keys()
        if missing:
            raise LabelledDataError(f"{path}:{n}: missing fields {sorted(missing)}")
        if not isinstance(row["relevant"], bool):
            raise LabelledDataError(f"{path}:{n}: relevant is {row['relevant']!r}; "
                                    "expected true or false")
        for field, allowed in (("stance", STANCE_LABELS), ("speculation", SPECULATION_LABELS)):
            if row[field] not in allowed:
                raise LabelledDataError(f"{path}:{n}: {field} is {row[field]!r}; "
                                        f"expected one of {', '.join(allowed)}")
        row.setdefault("lang", "und")
        examples.append(row)
    if not examples:
        raise LabelledDataError(f"{path}: no labelled texts")
    return examples


def classification_metrics(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> dict:
    """Accuracy, macro-F1, per-class P/R/F1/support and confusion[gold][pred]."""
    if len(gold) != len(pred):
        raise ValueError("gold and pred differ in length")
    confusion = {g: {p: 0 for p in labels} for g in labels}
    for g, p in zip(gold, pred, strict=True):
        confusion[g][p] += 1
    per_class = {}
    for c in labels:
        tp = confusion[c][c]
        predicted = sum(confusion[g][c] for g in labels)
        support = sum(confusion[c].values())
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[c] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
    n = len(gold)
    return {
        "n": n,
        "accuracy": sum(confusion[c][c] for c in labels) / n if n else 0.0,
        "macro_f1": sum(v["f1"] for v in per_class.values()) / len(labels),
        "per_class": per_class,
        "confusion": confusion,
    }


def output_metrics(examples: Sequence[dict], scores: Sequence[Scores]) -> dict:
    """Relevance, stance and speculation metrics; an off-topic text's gold stance is neutral."""
    gold_rel = ["relevant" if e["relevant"] else "irrelevant" for e in examples]
    pred_rel = ["relevant" if s.relevant else "irrelevant" for s in scores]
    rel = classification_metrics(gold_rel, pred_rel, RELEVANCE_LABELS)
    rel["f1"] = rel["per_class"]["relevant"]["f1"]
    rel["precision"] = rel["per_class"]["relevant"]["precision"]
    rel["recall"] = rel["per_class"]["relevant"]["recall"]
    gold_stance = [e["stance"] if e["relevant"] else "neutral" for e in examples]
    stance = classification_metrics(gold_stance, [s.stance for s in scores], STANCE_LABELS)
    spec = classification_metrics(
        [e["speculation"] for e in examples],
        [s.speculation_label for s in scores],
        SPECULATION_LABELS,
    )
    return {"n": len(examples), "relevance": rel, "stance": stance, "speculation": spec}


MIN_SLICE = 10  # languages with fewer texts are pooled as "other"


def language_slices(examples: Sequence[dict], min_size: int = MIN_SLICE) -> dict[str, list[int]]:
    """Indices per language with at least ``min_size`` texts; the rest pooled as ``other``."""
    by_lang: dict[str, list[int]] = {}
    for i, e in enumerate(examples):
        by_lang.setdefault(str(e.get("lang") or "und"), []).append(i)
    slices = {lang: idx for lang, idx in sorted(by_lang.items()) if len(idx) >= min_size}
    other = sorted(i for lang, idx in by_lang.items() if lang not in slices for i in idx)
    if other:
        slices["other"] = other
    return slices


def evaluate(examples: Sequence[dict], scores: Sequence[Scores],
             min_slice: int = MIN_SLICE) -> dict:
    """Metrics per output overall and per language (``by_lang``; small languages pooled)."""
    if len(examples) != len(scores):
        raise ValueError(f"{len(examples)} examples but {len(scores)} scores")
    result = output_metrics(examples, scores)
    result["model_id"] = scores[0].model_id if scores else ""
    result["by_lang"] = {
        lang: output_metrics([examples[i] for i in idx], [scores[i] for i in idx])
        for lang, idx in language_slices(examples, min_slice).items()
    }
    return result


def speculation_rule(text: str) -> float:
    """Baseline speculation: 1.0 when the text has a hedge or prediction cue, else 0.0."""
    return 1.0 if _HEDGE_EN.search(text) or _HEDGE_ZH.search(text) else 0.0


def vader_scores(texts: Sequence[str]) -> list[Scores]:
    """VADER-polarity baseline: compound > 0.05 supportive, < -0.05 opposed, else neutral.

    Every text counts as relevant (relevance 1.0); speculation follows speculation_rule.
    """
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    out = []
    for text in texts:
        compound = analyzer.polarity_scores(text)["compound"]
        if compound > 0.05:
            probs = (1.0, 0.0, 0.0)
        elif compound < -0.05:
            probs = (0.0, 0.0, 1.0)
        else:
            probs = (0.0, 1.0, 0.0)
        out.append(Scores(1.0, probs, speculation_rule(text), VADER_MODEL_ID))
    return out


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _output_report(name: str, m: dict) -> str:
    labels = list(m["per_class"])
    rows = [["class", "precision", "recall", "f1", "support"]]
    for c in labels:
        v = m["per_class"][c]
        rows.append([c, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}",
                     str(v["support"])])
    conf = [["gold \\ pred", *labels]]
    conf += [[g, *(str(m["confusion"][g][p]) for p in labels)] for g in labels]
    head = f"{name}: accuracy {m['accuracy']:.3f}  macro-F1 {m['macro_f1']:.3f}"
    if "f1" in m:
        head += f"  F1(relevant) {m['f1']:.3f}"
    return f"{head}\n{_table(rows)}\n\n{_table(conf)}"


def format_report(result: dict) -> str:
    """Human-readable tables: per-language summary, then per-output details."""
    rows = [["slice", "n", "relevance F1", "relevance macro-F1", "stance macro-F1",
             "speculation macro-F1"]]
    slices = [("all", result), *result.get("by_lang", {}).items()]
    for name, r in slices:
        rows.append([name, str(r["n"]), f"{r['relevance']['f1']:.3f}",
                     f"{r['relevance']['macro_f1']:.3f}", f"{r['stance']['macro_f1']:.3f}",
                     f"{r['speculation']['macro_f1']:.3f}"])
    parts = [f"model {result.get('model_id', '?')}", _table(rows)]
    for key in OUTPUTS:
        parts.append(_output_report(key, result[key]))
    return "\n\n".join(parts) + "\n"


def summary(result: dict) -> dict:
    """The headline figures of an evaluate() result, overall and per language."""
    def one(r: dict) -> dict:
        return {"n": r["n"], "relevance_f1": round(r["relevance"]["f1"], 4),
                "relevance_macro_f1": round(r["relevance"]["macro_f1"], 4),
                "stance_macro_f1": round(r["stance"]["macro_f1"], 4),
                "speculation_macro_f1": round(r["speculation"]["macro_f1"], 4)}

    out = {"all": one(result)}
    out.update({lang: one(r) for lang, r in result.get("by_lang", {}).items()})
    return out
