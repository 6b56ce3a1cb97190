"""Render a day's digest (HTML part) in headless Chromium and save a PNG screenshot.

Needs Debian's `chromium` (apt-get install chromium). The chart, which the email carries
inline by Content-ID, is put in the page as a data: URI so a browser can show it.

    .venv/bin/python scripts/digest_screenshot.py --db demo/stablewatch.db \
        --date 2026-11-19 --out docs/digest-2026-11-19.png
"""

from __future__ import annotations

import argparse
import base64
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--date", required=True, help="YYYY-MM-DD")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--width", type=int, default=820)
    ap.add_argument("--height", type=int, default=2400)
    args = ap.parse_args()

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("needs headless Chromium: apt-get install chromium", file=sys.stderr)
        return 2
    from jobs.config import load_settings
    from jobs.pipeline import run_digest

    digest, _ = run_digest(load_settings(args.db), args.date)
    page = digest.html
    if digest.chart:
        data = "data:image/png;base64," + base64.b64encode(digest.chart).decode()
        page = page.replace(f"cid:{digest.chart_cid}", data)
    with tempfile.TemporaryDirectory() as tmp:
        html_path = Path(tmp) / "digest.html"
        html_path.write_text(page, encoding="utf-8")
        subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--window-size={args.width},{args.height}",
             f"--screenshot={args.out.resolve()}", html_path.as_uri()],
            check=True, capture_output=True, timeout=120,
        )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
