"""Credentials from praw.ini or the environment; missing ones fail before any request."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from praw.config import Config
from reddit_server import FakeReddit, fixture_reddit, settings_for

from collectors.reddit import RedditCollector, RedditCredentialsError

SINCE = datetime(2026, 11, 20, tzinfo=UTC)
NO_CREDENTIALS = {"client_id": None, "client_secret": None, "user_agent": None}


@pytest.fixture
def fake() -> Iterator[FakeReddit]:
    fake = fixture_reddit()
    fake.credentials = ("ini-id", "ini-secret")
    with fake.running():
        yield fake


@pytest.fixture(autouse=True)
def isolated_praw_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No praw.ini but the ones a test writes, no praw_* variables from the developer."""
    for name in ("praw_client_id", "praw_client_secret", "praw_user_agent", "praw_site", "APPDATA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(Config, "CONFIG", None)  # praw caches praw.ini per process
    return tmp_path


def collect(fake: FakeReddit, **overrides) -> list:
    collector = RedditCollector(settings_for(fake, **{**NO_CREDENTIALS, **overrides}))
    try:
        return list(collector.harvest({}, SINCE))
    finally:
        collector.close()


def test_missing_credentials_name_what_to_set_and_send_nothing(fake: FakeReddit) -> None:
    with pytest.raises(RedditCredentialsError) as caught:
        RedditCollector(settings_for(fake, site="stablewatch", **NO_CREDENTIALS))

    message = str(caught.value)
    assert "missing: client_id, client_secret, user_agent" in message
    assert "[stablewatch] section of praw.ini" in message
    assert "praw_client_id, praw_client_secret, praw_user_agent" in message
    assert fake.seen == []


def test_only_the_missing_settings_are_named(
    fake: FakeReddit, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("praw_client_id", "env-id")
    monkeypatch.setenv("praw_user_agent", "stablewatch-tests/0.1")

    expected = r"missing: client_secret\. .*praw_client_secret"
    with pytest.raises(RedditCredentialsError, match=expected):
        RedditCollector(settings_for(fake, **NO_CREDENTIALS))
    assert fake.seen == []


def test_a_vague_user_agent_is_refused(fake: FakeReddit) -> None:
    with pytest.raises(RedditCredentialsError, match="user_agent is too short"):
        RedditCollector(settings_for(fake, user_agent="bot"))
    assert fake.seen == []


def test_credentials_from_a_praw_ini_site(fake: FakeReddit, isolated_praw_config: Path) -> None:
    (isolated_praw_config / "praw.ini").write_text(
        "[stablewatch]\n"
        "client_id=ini-id\n"
        "client_secret=ini-secret\n"
        "user_agent=stablewatch-tests/0.1 (ini)\n",
        encoding="utf-8",
    )
    (harvest,) = collect(fake, site="stablewatch")

    assert harvest.error is None and harvest.posts
    assert "(ini)" in fake.seen[0].headers["user-agent"]


def test_credentials_from_the_environment_when_the_site_is_absent(
    fake: FakeReddit, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("praw_client_id", "ini-id")
    monkeypatch.setenv("praw_client_secret", "ini-secret")
    monkeypatch.setenv("praw_user_agent", "stablewatch-tests/0.1 (env)")

    (harvest,) = collect(fake, site="stablewatch")

    assert harvest.error is None and harvest.posts
    assert "(env)" in fake.seen[0].headers["user-agent"]
