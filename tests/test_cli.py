"""The command line: help everywhere, init, daily, status, eval, errors as one clear line."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from jobs.cli import cli
from tests.conftest import FIXTURES, configure_db


def all_commands():
    return sorted(cli.commands)


@pytest.mark.parametrize("name", all_commands())
def test_every_command_has_help(name):
    command = cli.commands[name]
    assert command.help and len(command.help.strip()) > 20, f"{name} needs a docstring"
    for param in command.params:
        if isinstance(param, click.Option) and param.name != "help":
            assert param.help, f"{name} --{param.name} needs help text"
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


@pytest.fixture
def db(tmp_path, tiny_model_dir):
    """A database whose stablewatch.toml points at the tiny model."""
    return configure_db(tmp_path, tiny_model_dir)


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_init_is_idempotent(tmp_path):
    db = tmp_path / "new" / "sw.db"
    first = run("--db", db, "init")
    second = run("--db", db, "init")
    assert first.exit_code == 0 and "(created)" in first.output
    assert second.exit_code == 0 and "(kept)" in second.output
    assert (tmp_path / "new" / "stablewatch.toml").exists()


def test_daily_prints_a_report_and_status_shows_the_run(db):
    result = run("--db", db, "daily", "--archive", FIXTURES / "archive_small.jsonl",
                 "--date", "2026-03-02", "--quiet")
    assert result.exit_code == 2  # finished, but the archive has a bad line (line 7)
    assert "stablewatch daily 2026-03-02" in result.output
    assert "Hong Kong stablecoin regulation" in result.output
    assert "rejected  1 record(s), not stored:" in result.output
    assert "archive_small.jsonl:7: not JSON" in result.output
    assert (db.parent / "out" / "stablewatch-2026-03-02.eml").exists()
    status = run("--db", db, "status")
    assert status.exit_code == 0 and "partial" in status.output
    assert "posts" in status.output


def test_daily_without_a_model_fails_with_one_line(tmp_path):
    (tmp_path / "stablewatch.toml").write_text('[paths]\nmodel_dir = "nowhere"\n')
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "sw.db"), "daily", "--sample"])
    assert result.exit_code == 1
    assert "Error:" in result.output and "stablewatch train" in result.output


def test_status_without_database(tmp_path):
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "none.db"), "status"])
    assert result.exit_code == 1 and "stablewatch init" in result.output


def test_eval_vader_baseline_json(tmp_path):
    rows = [
        {"text": "Great news, HK stablecoin licences are a big win!", "lang": "en",
         "relevant": True, "stance": "supportive", "speculation": "factual"},
        {"text": "Terrible idea, the yuan coin is a disaster.", "lang": "en",
         "relevant": True, "stance": "opposed", "speculation": "speculative"},
    ]
    path = tmp_path / "labels.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    result = run("--db", tmp_path / "sw.db", "eval", path, "--baseline", "vader", "--json")
    data = json.loads(result.output)
    assert data["stance"]["accuracy"] == 1.0
    assert "macro_f1" in data["relevance"]
    assert list(data["by_lang"]) == ["other"]  # under 10 texts: pooled, not its own slice


@pytest.mark.parametrize(("content", "message"), [
    (b'{"text": "a", "relevant": true, "stance": "neutral", "speculation": "factual"}\n'
     b'{"text": "b", "relevant": true\n', "labels.jsonl:2: not valid JSON"),
    (b'{"text": "a", "relevant": true, "stance": "positive", "speculation": "factual"}\n',
     "labels.jsonl:1: stance is 'positive'; expected one of supportive, neutral, opposed"),
    (b'{"text": "\xff", "relevant": 1, "stance": "neutral", "speculation": "factual"}\n',
     "labels.jsonl:1: not UTF-8 text (byte 10)"),
    (b"\n\n", "labels.jsonl: no labelled texts"),
])
def test_eval_names_the_bad_line_of_a_labelled_file(tmp_path, content, message):
    path = tmp_path / "labels.jsonl"
    path.write_bytes(content)
    result = run("--db", tmp_path / "sw.db", "eval", path, "--baseline", "vader")
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def test_train_without_usable_texts_is_one_clear_line(tmp_path):
    data = tmp_path / "train"
    data.mkdir()
    out = tmp_path / "model"
    empty = run("train", "--data", data, "--out", out)
    assert empty.exit_code == 1 and f"no *.jsonl training files in {data}" in empty.output
    (data / "a.jsonl").write_text('{"text": "a", "relevant": true}\nnot json\n',
                                  encoding="utf-8")
    broken = run("train", "--data", data, "--out", out)
    assert broken.exit_code == 1 and "Traceback" not in broken.output
    assert "no usable labelled texts" in broken.output
    assert "(1 bad json, 1 missing field)" in broken.output
    (data / "b.jsonl").write_bytes(b'{"text": "\xff", "relevant": true}\n')
    binary = run("train", "--data", data, "--out", out)
    assert binary.exit_code == 1 and "b.jsonl:1: not UTF-8 text (byte 10)" in binary.output
    assert not out.exists()


def test_collect_score_digest_step_by_step(db):
    archive = FIXTURES / "archive_small.jsonl"
    collected = run("--db", db, "collect", "--archive", archive, "--quiet")
    assert collected.exit_code == 2 and "collected 10: 10 new" in collected.output
    scored = run("--db", db, "score", "--quiet")
    assert scored.exit_code == 0 and "scored 10 texts" in scored.output
    again = run("--db", db, "score", "--quiet")
    assert "scored 0 texts" in again.output
    digest = run("--db", db, "digest", "--date", "2026-03-01", "--print", "text")
    assert digest.exit_code == 0
    assert "stablewatch daily digest for 2026-03-01" in digest.output
    assert "Hong Kong stablecoin regulation" in digest.output
