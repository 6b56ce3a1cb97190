"""Simplified and traditional Chinese fold together, for search and for topic keywords."""

from __future__ import annotations

from collectors.fold import fold, script_forms
from collectors.match import KeywordMatcher
from jobs.config import DEFAULT_TOPICS
from jobs.fts import search_text
from jobs.topics import Topic, TopicAssigner, load_topics


def test_fold_maps_traditional_and_full_width_to_one_spelling():
    assert fold("穩定幣") == fold("稳定币") == "稳定币"
    assert fold("監管") == "监管"
    assert fold("香港金融管理局發出牌照") == "香港金融管理局发出牌照"
    assert fold("ＨＫＭＡ　牌照") == "HKMA 牌照"  # full-width letters and space
    assert fold("裡") == fold("裏") == "里"  # Taiwan and Hong Kong variants
    assert fold("plain English stays as it is") == "plain English stays as it is"


def test_script_forms_give_each_spelling_once():
    assert script_forms("稳定币监管") == ["稳定币监管", "穩定幣監管"]
    assert script_forms("香港稳定币里面") == ["香港稳定币里面", "香港穩定幣裏面", "香港穩定幣裡面"]
    assert script_forms("HKMA licences") == ["HKMA licences"]


def test_search_text_is_null_for_plain_text_and_holds_every_script_otherwise():
    assert search_text("HKMA grants licences", "Three issuers.") is None
    both = search_text(None, "離岸人民幣穩定幣")
    assert "离岸人民币稳定币" in both and "離岸人民幣穩定幣" in both


def test_keywords_match_in_the_other_script_and_width():
    simplified_only = KeywordMatcher(["稳定币条例", "HKMA"])
    assert simplified_only.matches("立法會通過《穩定幣條例》")
    assert simplified_only.matches("ＨＫＭＡ今日公布")
    assert not simplified_only.matches("HKMAX is something else")
    traditional_only = KeywordMatcher(["監管沙盒"])
    assert traditional_only.matches("金管局的监管沙盒")
    assert traditional_only.found("監管沙盒同监管沙盒") == ["监管沙盒"]


def test_topic_of_a_post_written_in_either_script_is_the_same():
    assigner = TopicAssigner(load_topics(DEFAULT_TOPICS).topics)
    simplified = assigner.match("香港金融管理局公布首批稳定币发行人牌照")
    traditional = assigner.match("香港金融管理局公佈首批穩定幣發行人牌照")
    assert simplified == traditional == "Hong Kong stablecoin regulation"


def test_a_topic_with_keywords_in_one_script_finds_posts_in_the_other():
    only_traditional = Topic(name="sandbox", keywords=["監管沙盒"])
    assigner = TopicAssigner([only_traditional])
    assert assigner.match("金管局扩大监管沙盒") == "sandbox"
