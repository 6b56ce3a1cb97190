"""Classifier pieces that need no encoder: metrics maths, evaluate(), VADER, long-text split."""

from __future__ import annotations

import json

import pytest

from classifier import ModelNotFoundError, Scores
from classifier.encoder import head_tail_chars, split_windows
from classifier.errors import LabelledDataError
from classifier.evaluate import (
    classification_metrics,
    evaluate,
    format_report,
    language_slices,
    load_examples,
    speculation_rule,
    vader_scores,
)


def test_metrics_hand_made_case():
    gold = ["a", "a", "a", "b", "b", "c"]
    pred = ["a", "a", "b", "b", "c", "c"]
    m = classification_metrics(gold, pred, ("a", "b", "c"))
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["per_class"]["a"] == pytest.approx(
        {"precision": 1.0, "recall": 2 / 3, "f1": 0.8, "support": 3}
    )
    assert m["per_class"]["b"]["precision"] == pytest.approx(0.5)
    assert m["per_class"]["b"]["recall"] == pytest.approx(0.5)
    assert m["per_class"]["c"]["f1"] == pytest.approx(2 / 3)
    assert m["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert m["confusion"]["a"] == {"a": 2, "b": 1, "c": 0}
    assert m["confusion"]["b"] == {"a": 0, "b": 1, "c": 1}


def test_metrics_absent_class_counts_zero_f1():
    m = classification_metrics(["x", "x"], ["x", "x"], ("x", "y"))
    assert m["accuracy"] == 1.0
    assert m["per_class"]["y"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert m["macro_f1"] == pytest.approx(0.5)


def _score(rel: float, stance: str, spec: float) -> Scores:
    probs = {"supportive": (0.8, 0.1, 0.1), "neutral": (0.1, 0.8, 0.1),
             "opposed": (0.1, 0.1, 0.8)}[stance]
    return Scores(rel, probs, spec, "test")


def test_evaluate_keys_and_language_slices(tmp_path):
    rows = [
        {"text": "a", "lang": "en", "relevant": True, "stance": "supportive",
         "speculation": "speculative"},
        {"text": "b", "lang": "en", "relevant": False, "stance": "neutral",
         "speculation": "factual"},
        {"text": "c", "lang": "zh", "relevant": True, "stance": "opposed",
         "speculation": "factual"},
    ]
    path = tmp_path / "dev.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    examples = load_examples(path)
    scores = [_score(0.9, "supportive", 0.9), _score(0.2, "opposed", 0.1),
              _score(0.7, "supportive", 0.2)]
    result = evaluate(examples, scores, min_slice=1)
    assert result["relevance"]["f1"] == 1.0
    assert result["relevance"]["macro_f1"] == 1.0
    # the off-topic text predicted irrelevant counts as neutral whatever its stance probs
    assert result["stance"]["confusion"]["neutral"]["neutral"] == 1
    assert result["stance"]["accuracy"] == pytest.approx(2 / 3)
    assert result["speculation"]["macro_f1"] == 1.0
    for lang in ("en", "zh"):
        sliced = result["by_lang"][lang]
        assert {"f1"} <= sliced["relevance"].keys()
        assert "macro_f1" in sliced["stance"] and "macro_f1" in sliced["speculation"]
    assert result["by_lang"]["zh"]["stance"]["accuracy"] == 0.0
    json.dumps(result)  # the CLI's --json output
    report = format_report(result)
    assert "stance" in report and "zh" in report and "macro-F1" in report


def test_load_examples_refuses_bool_like_relevance(tmp_path):
    path = tmp_path / "dev.jsonl"
    path.write_text('{"text": "a", "relevant": 1, "stance": "neutral", "speculation": "factual"}',
                    encoding="utf-8")
    with pytest.raises(LabelledDataError, match=r"dev.jsonl:1: relevant is 1; expected true"):
        load_examples(path)


def test_evaluate_rejects_length_mismatch():
    with pytest.raises(ValueError):
        evaluate([{"text": "a", "relevant": True, "stance": "neutral",
                   "speculation": "factual"}], [])


def test_vader_baseline_maps_polarity():
    scores = vader_scores([
        "This is wonderful, great news, I love it!",
        "A terrible, awful disaster.",
        "The ordinance took effect on 1 August.",
        "香港穩定幣條例",
    ])
    assert [s.stance for s in scores] == ["supportive", "opposed", "neutral", "neutral"]
    assert all(s.model_id == "vader-baseline" and s.relevance == 1.0 for s in scores)


def test_speculation_rule_cues():
    assert speculation_rule("HK will likely become the hub") == 1.0
    assert speculation_rule("据悉，人民币稳定币或将在年内推出") == 1.0
    assert speculation_rule("The ordinance took effect on 1 August.") == 0.0


def test_split_windows_keeps_head_and_tail():
    ids = list(range(100))
    chunks = split_windows(ids, 10, 4)
    assert chunks == [list(range(0, 10)), list(range(10, 20)),
                      list(range(80, 90)), list(range(90, 100))]
    assert split_windows(list(range(25)), 10, 8) == [
        list(range(10)), list(range(10, 20)), list(range(20, 25))]
    assert split_windows([], 10, 8) == [[]]


def test_head_tail_chars():
    text = "A" * 3000 + "B" * 3000
    cut = head_tail_chars(text, 1000)
    assert cut.startswith("A" * 500) and cut.endswith("B" * 500) and len(cut) < 1010
    assert head_tail_chars("short", 1000) == "short"


def test_model_not_found_names_train_command(tmp_path):
    from classifier.scorer import Scorer

    with pytest.raises(ModelNotFoundError, match="stablewatch train"):
        Scorer.load(tmp_path)


def test_cue_features_count_hedges_in_both_languages():
    from classifier.cues import CUE_DIM, CUE_NAMES, cue_features

    x = cue_features(["Sources say HKMA will reportedly approve it.", "据悉，金管局或将批准。", ""])
    assert x.shape == (3, CUE_DIM)
    col = {name: i for i, name in enumerate(CUE_NAMES)}
    assert x[0, col["en_hearsay"]] > 0 and x[0, col["en_modal"]] > 0
    assert x[1, col["zh_hearsay"]] > 0 and x[1, col["zh_prediction"]] > 0
    assert x[1, col["cjk_share"]] > 0.5 and x[0, col["cjk_share"]] == 0
    assert not x[2].any()


def test_precision_choices():
    from classifier.encoder import resolve_precision

    assert resolve_precision("auto") in ("bf16", "fp32")
    assert resolve_precision("int8") == "int8"
    with pytest.raises(ValueError):
        resolve_precision("fp8")


def test_corrupt_model_description_is_a_clear_error(tmp_path):
    from classifier.scorer import HEADS_FILE, META_FILE, read_meta

    (tmp_path / HEADS_FILE).write_bytes(b"x")
    (tmp_path / META_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelNotFoundError, match="not a stablewatch model description"):
        read_meta(tmp_path)
    (tmp_path / META_FILE).write_text("{}", encoding="utf-8")
    with pytest.raises(ModelNotFoundError, match="stablewatch train"):
        read_meta(tmp_path)


def test_small_languages_are_pooled_as_other():
    examples = [{"lang": "en"}] * 10 + [{"lang": "zh"}] * 9 + [{"lang": "ja"}] * 2
    slices = language_slices(examples)
    assert list(slices) == ["en", "other"]
    assert slices["en"] == list(range(10))
    assert slices["other"] == list(range(10, 21))
    assert list(language_slices(examples[:10])) == ["en"]  # nothing to pool, no empty slice


def test_converted_backbone_cache_key_follows_content_not_install_time(tmp_path):
    import os

    from classifier.encoder import content_key

    original = tmp_path / "weights.bin"
    original.write_bytes(bytes(range(256)) * 20_000)
    copy = tmp_path / "copy.bin"
    copy.write_bytes(original.read_bytes())
    os.utime(copy, (1_000_000, 1_000_000))  # a reinstall: same bytes, another mtime
    assert content_key(copy) == content_key(original)
    changed = bytearray(original.read_bytes())
    changed[10] ^= 1
    copy.write_bytes(bytes(changed))
    assert content_key(copy) != content_key(original)
    copy.write_bytes(original.read_bytes() + b"x")
    assert content_key(copy) != content_key(original)
