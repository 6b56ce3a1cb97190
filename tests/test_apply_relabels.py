"""scripts/apply_relabels.py: checked field changes and removals, in subfolders too."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location(
    "apply_relabels", REPO / "scripts" / "apply_relabels.py"
)
assert _spec is not None and _spec.loader is not None
relabels = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(relabels)

ROWS = [
    {
        "text": "HKMA opens the stablecoin sandbox.",
        "relevant": True,
        "stance": "neutral",
        "speculation": "factual",
    },
    {
        "text": "USDC supply will pass $100 billion.",
        "relevant": True,
        "stance": "supportive",
        "speculation": "speculative",
    },
    {
        "text": "离岸人民币今天小幅走强，不关稳定币事。",
        "relevant": False,
        "stance": "neutral",
        "speculation": "factual",
    },
]


@pytest.fixture
def train_dir(tmp_path: Path) -> Path:
    (tmp_path / "candidates").mkdir()
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS)
    (tmp_path / "candidates" / "v9_x.jsonl").write_text(body, encoding="utf-8")
    return tmp_path


def change(line: int, text_start: str, **fields) -> dict:
    return {
        "file": "candidates/v9_x.jsonl",
        "line": line,
        "text_start": text_start,
        "reason": "test",
        **fields,
    }


def rows_of(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_field_change_in_a_subfolder_file(train_dir):
    contents, refused = relabels.apply(
        [change(2, "USDC", field="relevant", old=True, new=False)], train_dir
    )
    assert refused == []
    rows = rows_of(contents["candidates/v9_x.jsonl"])
    assert (rows[1]["relevant"], rows[1]["stance"]) == (False, "neutral")
    assert rows[0] == ROWS[0] and rows[2] == ROWS[2]


def test_removal_uses_line_numbers_from_before_the_run(train_dir):
    changes = [
        change(1, "HKMA", remove=True),
        change(3, "离岸人民币", field="speculation", old="factual", new="speculative"),
    ]
    contents, refused = relabels.apply(changes, train_dir)
    assert refused == []
    rows = rows_of(contents["candidates/v9_x.jsonl"])
    assert [r["text"] for r in rows] == [ROWS[1]["text"], ROWS[2]["text"]]
    assert rows[1]["speculation"] == "speculative"


def test_removal_of_a_line_that_moved_is_refused(train_dir):
    _, refused = relabels.apply(
        [change(2, "HKMA", remove=True), change(7, "HKMA", remove=True)], train_dir
    )
    assert len(refused) == 2
    assert "does not start with" in refused[0] and "no such line" in refused[1]


def test_removal_with_a_field_is_rejected(tmp_path):
    path = tmp_path / "changes.jsonl"
    path.write_text(json.dumps(change(1, "HKMA", remove=True, field="stance")) + "\n", "utf-8")
    with pytest.raises(SystemExit, match="a removal has no field"):
        relabels.load_changes(path)


def test_log_section_counts_changes_and_removals():
    section = relabels.log_section(
        "Review",
        [
            change(1, "HKMA", remove=True),
            change(3, "离岸", field="speculation", old="factual", new="speculative"),
        ],
    )
    assert "1 field changes, 1 texts removed." in section
    assert "| text removed | 1 |" in section
    assert "| candidates/v9_x.jsonl:1 | text | removed | test |" in section
    assert "| candidates/v9_x.jsonl:3 | speculation | factual → speculative | test |" in section
