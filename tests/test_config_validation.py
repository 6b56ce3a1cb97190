"""Config mistakes stop every command before anything runs, with one line naming the key
and exit code 64; `stablewatch check` lists every problem and the missing credentials."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from praw.config import Config

from jobs.cli import cli
from jobs.config import DEFAULT_TOPICS, ConfigError
from jobs.exitcodes import EX_USAGE
from jobs.topics import load_topics

TOPICS = """
[[topics]]
name = "hk"
keywords = ["HKMA"]
subreddits = ["HongKong"]
"""
FORUM = '\n[[forums]]\nkind = "{kind}"\nname = "news"\nurl = "https://news.test/feed"\n'

# (case, stablewatch.toml, topics.toml (None: the bundled one), the one-line message)
MISTAKES = [
    ("section typo", "[smpt]\nhost = 'mail.test'\n", None,
     "stablewatch.toml: unknown section [smpt]; did you mean [smtp]?"),
    ("key typo", "[smtp]\nprot = 25\n", None,
     'stablewatch.toml: [smtp] has an unknown key "prot"; did you mean "port"?'),
    ("password in the file", "[smtp]\npassword = 'x'\n", None,
     'stablewatch.toml: [smtp] has an unknown key "password" (the SMTP password is read from '
     "STABLEWATCH_SMTP_PASSWORD, never from the file)"),
    ("to is not a list", '[digest]\nto = "ops@example.com"\n', None,
     'stablewatch.toml: [digest] to: expected a list, got "ops@example.com" '
     '(write ["ops@example.com"])'),
    ("port is not a number", '[smtp]\nport = "smtp"\n', None,
     'stablewatch.toml: [smtp] port: expected an integer, got "smtp"'),
    ("port out of range", "[smtp]\nport = 70000\n", None,
     "stablewatch.toml: [smtp] port: must be at most 65535, got 70000"),
    ("starttls is not a bool", '[smtp]\nstarttls = "yes"\n', None,
     'stablewatch.toml: [smtp] starttls: expected true or false, got "yes"'),
    ("no recipients", "[digest]\nto = []\n", None,
     "stablewatch.toml: [digest] to: must not be an empty list"),
    ("schedule time", '[schedule]\ndaily_at = "6:30pm"\n', None,
     'stablewatch.toml: [schedule] daily_at: expected a time of day "HH:MM" (UTC), got "6:30pm"'),
    ("key outside a section", 'host = "mail.test"\n', None,
     'stablewatch.toml: unknown key "host" outside any section (it belongs in [smtp])'),
    ("invalid TOML", "[smtp\n", None, "stablewatch.toml: invalid TOML: "),
    ("lookback_days is a word", "", '[collect]\nlookback_days = "three"\n' + TOPICS,
     'topics.toml: [collect] lookback_days: expected an integer, got "three"'),
    ("keywords is a string", "", '[[topics]]\nname = "hk"\nkeywords = "HKMA"\n',
     'topics.toml: [[topics]] #1 ("hk") keywords: expected a list, got "HKMA" (write ["HKMA"])'),
    ("empty keyword list", "", '[[topics]]\nname = "hk"\nkeywords = []\n',
     'topics.toml: [[topics]] #1 ("hk") keywords: must not be an empty list'),
    ("blank keyword", "", '[[topics]]\nname = "hk"\nkeywords = ["HKMA", " "]\n',
     'topics.toml: [[topics]] #1 ("hk") keywords item 2: must not be empty'),
    ("subreddit with r/", "", TOPICS.replace('"HongKong"', '"r/HongKong"'),
     'topics.toml: [[topics]] #1 ("hk") subreddits item 1: write the name without r/: '
     '"HongKong"'),
    ("unknown forum kind", "", TOPICS + FORUM.format(kind="rss"),
     'topics.toml: [[forums]] #1 ("news") kind: unknown kind "rss"; expected one of '
     "'hackernews', 'discourse', 'feed'"),
    ("forum kind typo", "", TOPICS + FORUM.format(kind="fead"),
     'topics.toml: [[forums]] #1 ("news") kind: unknown kind "fead"; expected one of '
     "'hackernews', 'discourse', 'feed'; did you mean \"feed\"?"),
    ("forum setting typo", "", TOPICS + FORUM.format(kind="feed") + "max_entry = 5\n",
     'topics.toml: [[forums]] #1 ("news") has an unknown key "max_entry"; '
     'did you mean "max_entries"?'),
    ("forum url scheme", "", TOPICS + FORUM.format(kind="feed").replace("https:", "ftp:"),
     'topics.toml: [[forums]] #1 ("news") url: expected an http:// or https:// URL, '
     'got "ftp://news.test/feed"'),
    ("search forum without queries", "", TOPICS + FORUM.format(kind="hackernews"),
     'topics.toml: [[forums]] #1 ("news") queries: missing (required)'),
    ("reddit setting typo", "", "[reddit]\nrequest_budjet = 5\n" + TOPICS,
     'topics.toml: [reddit] has an unknown key "request_budjet"; '
     'did you mean "request_budget"?'),
    ("section typo in topics", "", TOPICS.replace("[[topics]]", "[[topic]]"),
     "topics.toml: unknown section [[topic]]; did you mean [[topics]]? (and 1 more; "
     "`stablewatch check` lists all)"),
    ("two topics, one name", "", TOPICS + TOPICS,
     'topics.toml: topic name "hk" is used by two [[topics]]'),
]  # fmt: skip


def configure(folder, config: str, topics: str | None) -> str:
    if topics is not None:
        (folder / "topics.toml").write_text(topics, encoding="utf-8")
        config = f'[paths]\ntopics = "topics.toml"\n{config}'
    (folder / "stablewatch.toml").write_text(config, encoding="utf-8")
    return str(folder / "sw.db")


@pytest.mark.parametrize(
    ("config", "topics", "message"), [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES]
)
def test_each_config_mistake_is_one_line_and_exit_64_before_anything_runs(
    tmp_path, config, topics, message
):
    db = configure(tmp_path, config, topics)
    result = CliRunner().invoke(cli, ["--db", db, "daily", "--sample"])
    assert result.exit_code == EX_USAGE
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"Error: {tmp_path}/") and message in line
    assert result.stdout == ""
    assert not (tmp_path / "sw.db").exists()  # nothing ran


def test_a_bad_environment_override_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("STABLEWATCH_SMTP_PORT", "smtp")
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "sw.db"), "collect", "--sample"])
    assert result.exit_code == EX_USAGE
    assert result.stderr == (
        "Error: STABLEWATCH_SMTP_PORT: expected a port number (1-65535), got 'smtp'\n"
    )


def test_unknown_source_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(
        cli, ["--db", str(tmp_path / "sw.db"), "collect", "--source", "myspace"]
    )
    assert result.exit_code == EX_USAGE and "unknown source(s): myspace" in result.stderr


def test_empty_subreddit_and_query_lists_are_a_documented_choice(tmp_path):
    path = tmp_path / "topics.toml"
    path.write_text(
        '[[topics]]\nname = "hk"\nkeywords = ["HKMA"]\nsubreddits = []\nqueries = []\n',
        encoding="utf-8",
    )
    (topic,) = load_topics(path).topics
    assert (topic.subreddits, topic.queries) == ([], [])


def test_the_bundled_topics_are_valid_and_keep_their_settings():
    topics = load_topics(DEFAULT_TOPICS)
    assert topics.reddit == {  # no replace_more_limit: whole comment trees
        "site": "stablewatch",
        "limit_per_listing": 100,
        "request_budget": 400,
    }
    assert (topics.source_deadline, topics.run_deadline) == (600, 1200)
    assert [f["kind"] for f in topics.forums] == ["hackernews", "discourse", "feed"]


def test_every_problem_is_listed(tmp_path):
    (tmp_path / "topics.toml").write_text('[[topics]]\nname = 3\nkeywords = "x"\n')
    with pytest.raises(ConfigError) as caught:
        load_topics(tmp_path / "topics.toml")
    assert [p.split(": ", 1)[1] for p in caught.value.problems] == [
        "[[topics]] #1 name: expected text (a quoted string), got 3",
        '[[topics]] #1 keywords: expected a list, got "x" (write ["x"])',
    ]


# ---- stablewatch check ---------------------------------------------------------------------


@pytest.fixture
def no_reddit_credentials(tmp_path, monkeypatch):
    """No praw.ini but the ones a test writes, no praw_* variables from the developer."""
    for name in (
        "praw_client_id",
        "praw_client_secret",
        "praw_user_agent",
        "praw_site",
        "STABLEWATCH_SMTP_PASSWORD",
        "STABLEWATCH_SMTP_HOST",
        "STABLEWATCH_SMTP_PORT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(Config, "CONFIG", None)  # praw caches praw.ini per process


def check(db: str, *args: str):
    return CliRunner().invoke(cli, ["--db", db, "check", *args])


def test_check_passes_a_good_setup_without_writing_anything(
    tmp_path, monkeypatch, no_reddit_credentials
):
    for key, value in (
        ("client_id", "id"),
        ("client_secret", "secret"),
        ("user_agent", "stablewatch-test/0.1 by tester"),
    ):
        monkeypatch.setenv(f"praw_{key}", value)
    db = configure(tmp_path, '[smtp]\nhost = "mail.test"\n', TOPICS)
    result = check(db)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines[:-1]] == [
        ["ok", "config"],
        ["ok", "topics"],
        ["ok", "reddit"],
        ["ok", "smtp"],
        ["ok", "model"],
    ]
    assert "1 topics, 1 keywords, 1 subreddits, 0 Reddit searches; forums: none" in lines[1]
    assert lines[-1] == "all good"
    assert not (tmp_path / "sw.db").exists() and not (tmp_path / "outbox").exists()


def test_check_lists_every_problem_and_exits_64(tmp_path, no_reddit_credentials):
    config = '[smpt]\nhost = "x"\n[smtp]\nhost = "mail.test"\nusername = "ops"\n'
    db = configure(tmp_path, config, TOPICS.replace('"HKMA"', '"HKMA", ""'))
    result = check(db)
    assert result.exit_code == EX_USAGE
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failed) == 2
    assert "unknown section [smpt]; did you mean [smtp]?" in failed[0]
    assert "keywords item 2: must not be empty" in failed[1]
    assert "2 problem(s)" in result.stderr
    assert not (tmp_path / "sw.db").exists()


def test_check_names_missing_credentials_only_for_the_sources_asked(
    tmp_path, no_reddit_credentials
):
    db = configure(tmp_path, '[smtp]\nhost = "mail.test"\nusername = "ops"\n', TOPICS)
    everything = check(db)
    assert everything.exit_code == EX_USAGE
    assert "FAIL  reddit  Reddit credentials missing: client_id, client_secret" in (
        everything.stdout
    )
    assert (
        "FAIL  smtp    [smtp] username 'ops' is set but STABLEWATCH_SMTP_PASSWORD is not"
        in everything.stdout
    )
    forums_only = check(db, "--source", "feed")
    assert " reddit " not in forums_only.stdout and "FAIL  smtp" in forums_only.stdout
