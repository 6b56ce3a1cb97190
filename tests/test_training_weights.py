"""Per-text training weights and ignored labels: the weighted loss, generations of the data,
`train --weight` and `train --ignore`."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from classifier.errors import TrainingDataError
from classifier.generations import (
    SETTINGS_FILE,
    generation,
    generation_settings,
    generation_weights,
    parse_generation_ignores,
    read_generation_settings,
)
from classifier.heads import IGNORE, _class_weights, _weighted_loss, fit_heads
from classifier.train import label_arrays
from jobs.cli import cli


def test_unit_weights_give_pytorch_class_weighted_loss():
    torch.manual_seed(0)
    y = torch.tensor([0, 1, 2, IGNORE, 1, 1, 0, 2])
    logits = torch.randn(8, 3)
    cw = _class_weights(y, 3)
    expected = torch.nn.CrossEntropyLoss(weight=cw, ignore_index=IGNORE)(logits, y)
    got = _weighted_loss(cw, y, torch.ones(8))(logits)
    assert torch.allclose(got, expected)


def test_a_weight_counts_like_repeating_the_text():
    torch.manual_seed(1)
    y = torch.tensor([0, 1, 1, 0])
    logits = torch.randn(4, 2)
    cw = torch.ones(2)
    doubled = _weighted_loss(cw, y, torch.tensor([2.0, 1.0, 1.0, 1.0]))(logits)
    repeated = torch.nn.functional.cross_entropy(torch.cat([logits, logits[:1]]),
                                                 torch.cat([y, y[:1]]))
    assert torch.allclose(doubled, repeated)
    # a text of weight 0 does not count at all
    dropped = _weighted_loss(cw, y, torch.tensor([0.0, 1.0, 1.0, 1.0]))(logits)
    assert torch.allclose(dropped, torch.nn.functional.cross_entropy(logits[1:], y[1:]))


def test_zero_weight_texts_do_not_move_the_heads():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 6)).astype(np.float32)
    rel = (x[:, 0] > 0).astype(np.int64)
    stance = np.where(rel == 1, (x[:, 1] > 0).astype(np.int64) * 2, IGNORE)
    spec = (x[:, 2] > 0).astype(np.int64)
    flipped = 1 - rel  # contradicting labels on the last 20 texts
    rel_noisy = np.concatenate([rel[:20], flipped[20:]])
    w = np.concatenate([np.ones(20), np.zeros(20)]).astype(np.float32)
    with_noise = fit_heads(x, rel_noisy, stance, spec, sample_weight=w, seed=5)
    plain = fit_heads(x, rel_noisy, stance, spec, seed=5)
    agree = lambda heads: float(((heads.predict(x)[0] > 0.5) == rel.astype(bool)).mean())  # noqa: E731
    assert agree(with_noise) > agree(plain)


@pytest.mark.parametrize("name, gen", [
    ("en_main.jsonl", "v1"), ("zh_hant.jsonl", "v1"), ("v2_en_news.jsonl", "v2"),
    ("v3_zh_hans.jsonl", "v3"), ("v12_x.jsonl", "v12"), ("vx_odd.jsonl", "v1"),
])
def test_generation_of_a_training_file(name, gen):
    assert generation({"source_file": name}) == gen


def test_generation_weights_default_to_one():
    rows = [{"source_file": f} for f in ("en_main.jsonl", "v2_a.jsonl", "v3_b.jsonl")]
    assert generation_weights(rows, {"v1": 0.5}).tolist() == [0.5, 1.0, 1.0]


@pytest.mark.parametrize("bad", ["v1", "v1=x", "x1=0.5", "v1=-1", "v1=nan", "=2"])
def test_train_rejects_a_bad_weight_with_one_line(bad, tmp_path):
    result = CliRunner().invoke(cli, ["train", "--data", str(tmp_path), "--weight", bad])
    assert result.exit_code != 0
    assert "--weight" in result.output and "GEN=W" in result.output


def test_ignored_generation_labels_become_ignore_for_that_output_only():
    rows = [
        {"source_file": "en_main.jsonl", "relevant": True, "stance": "opposed",
         "speculation": "speculative"},
        {"source_file": "v5_en_plain.jsonl", "relevant": True, "stance": "supportive",
         "speculation": "factual"},
        {"source_file": "v5_zh_short.jsonl", "relevant": False, "stance": "neutral",
         "speculation": "speculative"},
    ]
    rel, stance, spec = label_arrays(rows, {"v5": frozenset({"speculation"})})
    assert rel.tolist() == [1, 1, 0]
    assert stance.tolist() == [2, 0, IGNORE]
    assert spec.tolist() == [1, IGNORE, IGNORE]
    assert label_arrays(rows)[2].tolist() == [1, 0, 1]


def test_parse_generation_ignores():
    assert parse_generation_ignores(["v5=speculation", "v5=stance", "v4=relevance,stance"]) == {
        "v5": frozenset({"speculation", "stance"}), "v4": frozenset({"relevance", "stance"})}
    assert parse_generation_ignores(["v5=speculation", "v5=none"]) == {"v5": frozenset()}
    for bad in ["v5", "v5=", "x5=stance", "v5=sentiment", "v5=none,stance"]:
        with pytest.raises(ValueError, match="GEN=OUTPUT"):
            parse_generation_ignores([bad])


def test_ignored_speculation_labels_do_not_move_the_speculation_head():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(60, 6)).astype(np.float32)
    stance = (x[:, 1] > 0).astype(np.int64) * 2
    spec = (x[:, 2] > 0).astype(np.int64)
    rows = [{"source_file": "en_main.jsonl" if i < 30 else "v5_en.jsonl", "relevant": True,
             "stance": ("supportive", "neutral", "opposed")[stance[i]],
             # the second half carries inverted speculation labels
             "speculation": ("factual", "speculative")[spec[i] if i < 30 else 1 - spec[i]]}
            for i in range(60)]
    agree = lambda heads: float(((heads.predict(x)[2] > 0.5) == spec.astype(bool)).mean())  # noqa: E731
    masked = fit_heads(x, *label_arrays(rows, {"v5": frozenset({"speculation"})}), seed=5)
    plain = fit_heads(x, *label_arrays(rows), seed=5)
    assert agree(masked) > 0.8 > agree(plain)


@pytest.mark.parametrize("bad", ["v5", "v5=sentiment", "x5=stance"])
def test_train_rejects_a_bad_ignore_with_one_line(bad, tmp_path):
    result = CliRunner().invoke(cli, ["train", "--data", str(tmp_path), "--ignore", bad])
    assert result.exit_code != 0
    assert "--ignore" in result.output and "GEN=OUTPUT" in result.output


def test_generations_file_sets_weights_and_ignores(tmp_path):
    assert read_generation_settings(tmp_path) == ({}, {})  # no file: nothing special
    (tmp_path / SETTINGS_FILE).write_text(
        '[v5]\nignore = ["speculation"]\n\n[v1]\nweight = 0.5\n', encoding="utf-8")
    assert read_generation_settings(tmp_path) == (
        {"v1": 0.5}, {"v5": frozenset({"speculation"})})


def test_command_line_settings_override_the_file_generation_by_generation(tmp_path):
    (tmp_path / SETTINGS_FILE).write_text(
        '[v5]\nignore = ["speculation"]\nweight = 2\n[v4]\nignore = ["stance"]\n',
        encoding="utf-8")
    weights, ignore = generation_settings(tmp_path, {"v1": 0.5},
                                          parse_generation_ignores(["v4=none"]))
    assert weights == {"v5": 2.0, "v1": 0.5}
    assert ignore == {"v5": frozenset({"speculation"})}  # v4's ignore switched off
    assert generation_settings(tmp_path, None, {"v5": frozenset({"relevance"})})[1] == {
        "v5": frozenset({"relevance"}), "v4": frozenset({"stance"})}


@pytest.mark.parametrize("content, message", [
    ("[v5\n", "Expected"),
    ('[v5]\nignore = "speculation"\n', "'ignore' must be a list"),
    ('[v5]\nignore = ["sentiment"]\n', "[v5]: expected GEN=OUTPUT"),
    ('[v5]\nweight = -1\n', "[v5]: expected GEN=W"),
    ('[x5]\nweight = 1\n', "[x5]: expected GEN=W"),
    ('[v5]\nignored = ["stance"]\n', "expected a table with 'weight' and/or 'ignore'"),
])
def test_a_malformed_generations_file_names_itself(tmp_path, content, message):
    (tmp_path / SETTINGS_FILE).write_text(content, encoding="utf-8")
    with pytest.raises(TrainingDataError, match=f"{SETTINGS_FILE}: .*") as info:
        read_generation_settings(tmp_path)
    assert message in str(info.value)


def test_train_stops_on_a_malformed_generations_file_in_one_line(tmp_path):
    (tmp_path / "a.jsonl").write_text(
        '{"text": "HK stablecoin rules", "relevant": true, "stance": "neutral", '
        '"speculation": "factual"}\n', encoding="utf-8")
    (tmp_path / SETTINGS_FILE).write_text('[v5]\nignore = ["sentiment"]\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["train", "--data", str(tmp_path),
                                      "--out", str(tmp_path / "model")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{SETTINGS_FILE}: [v5]: expected GEN=OUTPUT" in result.output
    assert not (tmp_path / "model").exists()
