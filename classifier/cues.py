"""Lexical cue features: hedges, reporting verbs, predictions, questions (English + Chinese).

Speculation is largely signalled by a closed class of cue words (the CoNLL-2010 hedge-cue
task; Vincze et al. 2008, BioScope). Mean-pooled sentence embeddings blur single cue words
in longer texts, so a small, fixed vector of cue counts is given to the heads as a third
channel. The lists are generic linguistic categories, not tuned to any evaluation text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

_EN = {
    "modal": r"will|would|could|might|may|shall|should|can't|won't|gonna|going to",
    "hedge": r"likely|unlikely|probably|possibly|perhaps|maybe|presumably|potentially|"
             r"apparently|seemingly|seems?|appears?|suggests?|suspect\w*|guess\w*|imagine|"
             r"arguably|speculat\w*|conjectur\w*",
    "hearsay": r"reportedly|rumou?r\w*|allegedly|sources? (?:say|said|familiar)|"
               r"according to (?:people|sources|a person)|is said to|are said to|"
               r"unconfirmed|unverified|leak\w*|whispers?",
    "prediction": r"expect\w*|predict\w*|forecast\w*|anticipat\w*|projected|soon|"
                  r"in the (?:future|coming|long run)|by 20\d\d|next year|price target|"
                  r"to the moon|bet|bound to|poised to|set to|on track to|considering|"
                  r"plans? to|aims? to",
    "conditional": r"if|unless|whether|what if|suppose|assuming|in case",
    "opinion": r"i think|i believe|i feel|in my (?:view|opinion)|imo|imho|my (?:guess|bet|take)|"
               r"i doubt|i reckon|i suspect|i bet",
    "report": r"said|says|announced|stated|confirmed|published|issued|approved|granted|"
              r"took effect|came into force|gazetted|according to",
}
_ZH = {
    "modal": r"将会|將會|将|將|会不会|會不會|能否|可否",
    "hedge": r"可能|或许|或許|也许|也許|大概|恐怕|似乎|好像|看来|看來|估计|估計|猜|说不定|"
             r"說不定|未必|不一定|难说|難說",
    "hearsay": r"据悉|據悉|据报|據報|传闻|傳聞|传出|傳出|消息人士|知情人士|网传|網傳|"
               r"据称|據稱|谣言|謠言|爆料|小道消息",
    "prediction": r"预计|預計|预期|預期|预测|預測|料将|料將|有望|或将|或將|未来|未來|"
                  r"即将|即將|前景|长远|長遠|考虑|考慮|计划|計劃|拟|擬",
    "conditional": r"如果|若|假如|要是|万一|萬一|一旦|是否",
    "opinion": r"我觉得|我覺得|我认为|我認為|我看|个人认为|個人認為|我猜|我估计|我估計|我相信|"
               r"依我看|窃以为|竊以為",
    "report": r"表示|宣布|公布|发布|發布|指出|称|稱|刊登|生效|批准|发出|發出|确认|確認|"
              r"根据|根據",
}
_EN_RE = {k: re.compile(rf"\b(?:{v})\b", re.IGNORECASE) for k, v in _EN.items()}
_ZH_RE = {k: re.compile(v) for k, v in _ZH.items()}
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*%?")
_DATE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2}\b|"
    r"\b\d{1,2} (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|"
    r"\d{1,2}月\d{1,2}日|\d{4}年",
    re.IGNORECASE,
)

CUE_NAMES: tuple[str, ...] = (
    *(f"en_{k}" for k in _EN), *(f"zh_{k}" for k in _ZH),
    "digits", "dates", "questions", "exclamations", "quotes", "log_chars", "cjk_share",
)
CUE_DIM = len(CUE_NAMES)


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def cue_vector(text: str) -> list[float]:
    """log(1 + count) per cue group, plus a few surface features; len == CUE_DIM."""
    out = [math.log1p(len(r.findall(text))) for r in _EN_RE.values()]
    out += [math.log1p(len(r.findall(text))) for r in _ZH_RE.values()]
    n = max(len(text), 1)
    out += [
        math.log1p(len(_DIGITS.findall(text))),
        math.log1p(len(_DATE.findall(text))),
        math.log1p(text.count("?") + text.count("？")),
        math.log1p(text.count("!") + text.count("！")),
        math.log1p(sum(text.count(q) for q in ('"', "“", "「", "『"))),
        math.log1p(len(text)) / 10.0,
        sum(map(_is_cjk, text)) / n,
    ]
    return out


def cue_features(texts: Sequence[str]) -> np.ndarray:
    """(len(texts), CUE_DIM) float32."""
    return np.array([cue_vector(t) for t in texts], dtype=np.float32).reshape(-1, CUE_DIM)

