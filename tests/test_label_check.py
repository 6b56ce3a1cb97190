"""Near-duplicate texts with disagreeing labels: classifier.label_check and its script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from classifier.label_check import (
    LabelledRow,
    find_conflicts,
    jaccard,
    load_rows,
    normalise,
    shingles,
)

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "check_labels.py"

EN = (
    "The HKMA said on Tuesday it had received 36 applications for stablecoin issuer "
    "licences by the 30 September deadline for early-round consideration."
)
EN_ONE_WORD = EN.replace("Tuesday", "Friday")
ZH = "香港金管局表示，截至9月30日共收到36份稳定币发行人牌照申请，首批牌照数量会非常有限。"
ZH_ONE_CHAR = ZH.replace("非常", "十分")


def row(text, line, stance="neutral", speculation="factual", relevant=True, source="a.jsonl"):
    return LabelledRow(source, line, text, relevant, stance, speculation)


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def labels(text, stance="neutral", speculation="factual", relevant=True) -> dict:
    return {"text": text, "relevant": relevant, "stance": stance, "speculation": speculation}


def test_identical_texts_with_different_stance_are_flagged():
    conflicts = find_conflicts([row(EN, 1), row(EN, 2, stance="opposed")])
    assert len(conflicts) == 1
    conflict = conflicts[0]
    assert conflict.similarity == pytest.approx(1.0)
    assert conflict.fields == ("stance",)
    assert (conflict.a.line, conflict.b.line) == (1, 2)


def test_near_duplicates_with_different_labels_are_flagged():
    rows = [row(EN, 1), row(EN_ONE_WORD, 2, relevant=False, speculation="speculative")]
    (conflict,) = find_conflicts(rows)
    assert 0.8 <= conflict.similarity < 1.0
    assert conflict.fields == ("relevant", "speculation")


def test_near_duplicates_with_the_same_labels_are_not_flagged():
    assert find_conflicts([row(EN, 1), row(EN_ONE_WORD, 2), row(EN, 3)]) == []


def test_unrelated_texts_are_not_flagged():
    other = "Bitcoin fell 6% on Tuesday as traders unwound leveraged long positions."
    assert find_conflicts([row(EN, 1), row(other, 2, stance="opposed")]) == []


def test_threshold_decides_what_counts_as_a_near_duplicate():
    rows = [row(EN, 1), row(EN_ONE_WORD, 2, stance="supportive")]
    similarity = jaccard(shingles(EN), shingles(EN_ONE_WORD))
    assert find_conflicts(rows, threshold=min(1.0, similarity + 0.01)) == []
    assert len(find_conflicts(rows, threshold=similarity)) == 1
    with pytest.raises(ValueError):
        find_conflicts(rows, threshold=0)


def test_chinese_near_duplicates_are_flagged():
    rows = [row(ZH, 1), row(ZH_ONE_CHAR, 2, speculation="speculative"), row(ZH, 3)]
    conflicts = find_conflicts(rows)
    assert {(c.a.line, c.b.line) for c in conflicts} == {(1, 2), (2, 3)}
    assert all(c.fields == ("speculation",) for c in conflicts)


def test_case_whitespace_punctuation_and_full_width_are_normalised():
    assert normalise("ＨＫＭＡ　ｓａｙｓ：Ｓｔａｂｌｅｃｏｉｎｓ！") == "hkma says stablecoins"
    noisy = "  " + EN.upper().replace(" ", "   ").replace(".", "!!") + " "
    (conflict,) = find_conflicts([row(EN, 1), row(noisy, 2, stance="opposed")])
    assert conflict.similarity == pytest.approx(1.0)
    full_width = ZH.replace("9", "９").replace("36", "３６").replace("，", ",")
    (conflict,) = find_conflicts([row(ZH, 1), row(full_width, 2, stance="opposed")])
    assert conflict.similarity == pytest.approx(1.0)


def test_mapping_rows_are_accepted():
    (conflict,) = find_conflicts([labels(EN), labels(EN, stance="opposed")])
    assert (conflict.a.location, conflict.b.location) == ("<rows>:1", "<rows>:2")


def test_load_rows_keeps_file_name_and_line_number(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text(
        json.dumps(labels(EN))
        + "\n\nnot json\n"
        + json.dumps({"text": "no labels"})
        + "\n"
        + json.dumps(labels(ZH, stance="opposed"), ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    rows = load_rows([path])
    assert [(r.source, r.line, r.stance) for r in rows] == [
        (str(path), 1, "neutral"),
        (str(path), 5, "opposed"),
    ]


def run_script(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=REPO,
        check=False,
    )


def test_script_exit_status_and_output(tmp_path):
    first = write_jsonl(tmp_path / "first.jsonl", [labels(EN), labels(ZH)])
    second = write_jsonl(tmp_path / "second.jsonl", [labels(EN_ONE_WORD, stance="opposed")])
    clean = write_jsonl(tmp_path / "clean.jsonl", [labels(EN), labels(EN_ONE_WORD)])

    result = run_script(first, second)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{first}:1 ~ {second}:1  sim=0.")
    assert "stance: neutral vs opposed" in lines[0]
    assert lines[-1].startswith("1 conflict(s) among 3 rows in 2 file(s)")

    result = run_script(clean)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("0 conflict(s) among 2 rows in 1 file(s)")

    assert run_script(first, second, "--threshold", "0.99").returncode == 0
    assert run_script(tmp_path / "missing.jsonl").returncode == 2
