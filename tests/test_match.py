from collectors.match import KeywordMatcher


def test_matches_any_keeps_everything_without_keywords():
    matcher = KeywordMatcher(["", "  "])
    assert not matcher.keywords
    assert not matcher.matches("anything")
    assert matcher.matches_any(["anything"])
    assert matcher.matches_any([])


def test_matches_any_with_keywords_needs_one_matching_text():
    matcher = KeywordMatcher(["USDC", "稳定币"])
    assert matcher.matches_any([None, "", "about usdc reserves"])
    assert matcher.matches_any(["香港稳定币条例"])
    assert not matcher.matches_any(["USDCx is not it", None])
    assert not matcher.matches_any([])
